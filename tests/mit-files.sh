#!/usr/bin/env bash
# tests/mit-files.sh - keytabs and credential caches exchanged between MIT krb5 and krbap.
#
# Starts a throwaway realm (tests/interop/realm.sh) in a temporary directory, stopped on
# exit. MIT -> krbap: keytabs from `kadmin.local ktadd` (also with deleted entries =
# holes), from `ktutil` (addent -password, kvnos 1, 255, 256, 300, wkt), the ccache
# written by `kinit` and after `kvno` (service ticket), a UTF-8 client's ccache: the
# output of `krbap keytab list -K` / `krbap ccache list` must equal `klist -k -t -e -K` /
# `klist -e -f` (configuration entries excluded), and tests/mit_files.rs reads the same
# files with the library. krbap -> MIT: the keytab and ccache written by
# tests/mit_files.rs are listed by klist, and MIT's `kvno` uses the krbap-written TGT.
# string2key: krbap's keys must equal the keys MIT derived from the same passwords.
#
# Env: KRBAP_BIN, else KRBAP_CLI (make test's release build), else target/debug/krbap
# (built if missing). Last line:
# `N passed, N failed`; exit status non-zero on any failure.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$ROOT/tests/interop/lib.sh"
REALM_SH="$ROOT/tests/interop/realm.sh"

export TZ=UTC LC_ALL=C   # klist prints local time with %x %X; krbap prints the same
BIN=${KRBAP_BIN:-${KRBAP_CLI:-$ROOT/target/debug/krbap}}
if [ -z "${KRBAP_BIN:-}${KRBAP_CLI:-}" ] && [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build -q --bin krbap) || { echo "cargo build failed"; echo "0 passed, 1 failed"; exit 1; }
fi
[ -x "$BIN" ] || { echo "no krbap binary at $BIN"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/krbap-mit-files.XXXXXX")
RD="$WORK/realm"
cleanup() { bash "$REALM_SH" stop "$RD" 2>/dev/null; rm -rf -- "$WORK"; }
trap cleanup EXIT

if ! bash "$REALM_SH" start "$RD" 2>"$WORK/realm.log"; then
  cat "$WORK/realm.log"; fail "realm.sh start"; summary; exit 1
fi
pass "realm.sh start"
. "$RD/env"
KT_PW=ktutil-Passw0rd
CHECK="$WORK/check"    # files for tests/mit_files.rs (NAME.keytab + NAME.keytab.klist)
OUT="$WORK/out"        # files written by krbap
mkdir -p "$CHECK" "$OUT"

# krbap ccache list without its configuration section (klist does not show those).
cc_list() { "$BIN" ccache list "$1" | sed '/^Configuration entries:$/,$d' | sed '${/^$/d}'; }

# ---------------------------------------------------------------- MIT keytabs
# ktutil: one principal, several kvnos (255 wraps the 8-bit field, 300 needs the 32-bit one).
{
  for spec in "1 aes256-cts-hmac-sha1-96" "1 aes128-cts-hmac-sha1-96" "255 aes256-cts-hmac-sha384-192" \
              "256 aes128-cts-hmac-sha256-128" "300 aes256-cts-hmac-sha1-96"; do
    set -- $spec
    printf 'addent -password -p alice@%s -k %s -e %s\n%s\n' "$REALM_NAME" "$1" "$2" "$KT_PW"
  done
  printf 'wkt %s\nquit\n' "$CHECK/ktutil.keytab"
} | ktutil >"$WORK/ktutil.log" 2>&1
check "ktutil wrote a keytab" test -s "$CHECK/ktutil.keytab"

# kadmin.local: a principal whose keys were rotated twice, old kvnos removed (holes).
kadmin.local -q "addprinc -randkey rot/localhost" >/dev/null 2>&1
kadmin.local -q "ktadd -k $CHECK/holes.keytab rot/localhost" >/dev/null 2>&1
kadmin.local -q "ktadd -k $CHECK/holes.keytab rot/localhost" >/dev/null 2>&1
kadmin.local -q "ktremove -k $CHECK/holes.keytab rot/localhost old" >/dev/null 2>&1
check "ktremove left holes" bash -c "od -An -tx1 -N6 '$CHECK/holes.keytab' | grep -q '05 02 ff ff'"

cp "$RD/keytab" "$CHECK/service.keytab"
cp "$RD/alice.keytab" "$CHECK/alice.keytab"
for kt in service alice ktutil holes; do
  f="$CHECK/$kt.keytab"
  klist -k -t -e -K "$f" >"$f.klist" 2>&1
  "$BIN" keytab list -K "$f" >"$WORK/$kt.krbap" 2>&1
  same "keytab list -K = klist -kteK: $kt.keytab (MIT-written)" "$f.klist" "$WORK/$kt.krbap"
  klist -k -t -e "$f" >"$WORK/$kt.klist-nokeys" 2>&1
  "$BIN" keytab list "$f" >"$WORK/$kt.krbap-nokeys" 2>&1
  same "keytab list = klist -kte: $kt.keytab" "$WORK/$kt.klist-nokeys" "$WORK/$kt.krbap-nokeys"
done
check "ktutil keytab: kvno 300 listed as 300" grep -q '^ 300 .*alice@TEST.LOCAL' "$WORK/ktutil.krbap"
check "ktutil keytab: kvno 256 listed as 256" grep -q '^ 256 ' "$WORK/ktutil.krbap"
check "keytab list honours KRB5_KTNAME" bash -c "'$BIN' keytab list | head -1 | grep -qx 'Keytab name: FILE:$RD/keytab'"

# ---------------------------------------------------------------- MIT ccaches
klist -e -f >"$WORK/kinit.klist" 2>&1
cc_list "$RD/ccache" >"$WORK/kinit.krbap" 2>&1
same "ccache list = klist -ef: after kinit" "$WORK/kinit.klist" "$WORK/kinit.krbap"
check "ccache list shows the configuration entries" bash -c "'$BIN' ccache list '$RD/ccache' | grep -q 'config: fast_avail'"

kvno test/localhost >/dev/null 2>&1 && kvno test-aes128-sha256/localhost >/dev/null 2>&1
klist -e -f >"$WORK/kvno.klist" 2>&1
cc_list "$RD/ccache" >"$WORK/kvno.krbap" 2>&1
same "ccache list = klist -ef: after kvno (service tickets)" "$WORK/kvno.klist" "$WORK/kvno.krbap"
check "service ticket listed" grep -q 'test/localhost@TEST.LOCAL$' "$WORK/kvno.krbap"
check "ccache list honours KRB5CCNAME" bash -c "'$BIN' ccache list | head -1 | grep -qx 'Ticket cache: FILE:$RD/ccache'"
cp "$RD/ccache" "$CHECK/ccache"
cp "$WORK/kvno.klist" "$CHECK/ccache.klist"

# Renewable ticket (renew until + flags on one line) and a UTF-8 client.
JCC="$WORK/jurgen.ccache"
if printf '%s\n' "$REALM_UTF8_CLIENT_PASSWORD" | KRB5CCNAME="FILE:$JCC" kinit -r 2d "$REALM_UTF8_CLIENT" >/dev/null 2>&1; then
  KRB5CCNAME="FILE:$JCC" kvno test/localhost >/dev/null 2>&1
  klist -e -f -c "$JCC" >"$WORK/j.klist" 2>&1
  cc_list "$JCC" >"$WORK/j.krbap" 2>&1
  same "ccache list = klist -ef: UTF-8 client, renewable" "$WORK/j.klist" "$WORK/j.krbap"
  check "renew until shown" grep -q 'renew until' "$WORK/j.krbap"
else
  fail "kinit $REALM_UTF8_CLIENT"
fi

# Version-3 ccache (MIT writes it with ccache_type = 3).
sed 's/^\[libdefaults\]$/[libdefaults]\n    ccache_type = 3/' "$RD/krb5.conf" >"$WORK/krb5-v3.conf"
V3="$WORK/v3.ccache"
if printf '%s\n' "$REALM_CLIENT_PASSWORD" | KRB5_CONFIG="$WORK/krb5-v3.conf" KRB5CCNAME="FILE:$V3" kinit "$REALM_CLIENT" >/dev/null 2>&1 \
   && KRB5_CONFIG="$WORK/krb5-v3.conf" KRB5CCNAME="FILE:$V3" kvno test-aes128-sha1/localhost >/dev/null 2>&1; then
  check "MIT wrote a version-3 ccache" bash -c "od -An -tx1 -N2 '$V3' | grep -q '05 03'"
  klist -e -f -c "$V3" >"$WORK/v3.klist" 2>&1
  cc_list "$V3" >"$WORK/v3.krbap" 2>&1
  same "ccache list = klist -ef: version-3 ccache" "$WORK/v3.klist" "$WORK/v3.krbap"
else
  fail "kinit into a version-3 ccache"
fi

# ---------------------------------------------------------------- library reads + krbap writes
if (cd "$ROOT" && KRBAP_TEST_REALM_DIR="$CHECK" KRBAP_TEST_OUT_DIR="$OUT" \
      cargo test -q --test mit_files >"$WORK/cargo.log" 2>&1); then
  pass "tests/mit_files.rs on the live realm's files"
else
  fail "tests/mit_files.rs on the live realm's files" "$(tail -n 30 "$WORK/cargo.log")"
fi

if [ -s "$OUT/krbap.keytab" ]; then
  # klist's listing reduced to "kvno date time principal enctype keyhex".
  klist -k -t -e -K "$OUT/krbap.keytab" 2>&1 \
    | awk '$1 ~ /^[0-9]+$/ { e=$5; gsub(/[()]/, "", e); k=$6; gsub(/^\(0x|\)$/, "", k);
                             print $1, $2, $3, $4, e, k }' >"$WORK/krbap-kt.klist"
  same "klist -kteK reads the krbap-written keytab" "$OUT/krbap.keytab.expect" "$WORK/krbap-kt.klist"
  check "krbap-written keytab mode 0600" bash -c "[ \$(stat -c %a '$OUT/krbap.keytab') = 600 ]"
else
  fail "krbap-written keytab exists"
fi

if [ -s "$OUT/krbap.ccache" ]; then
  klist -e -f -c "$OUT/krbap.ccache" 2>&1 | tail -n +2 >"$WORK/krbap-cc.klist"
  tail -n +2 "$WORK/kvno.klist" >"$WORK/mit-cc.klist"
  same "klist -ef reads the krbap-written ccache like MIT's" "$WORK/mit-cc.klist" "$WORK/krbap-cc.klist"
  # MIT uses krbap's TGT (session key, ticket) to get a new service ticket.
  if KRB5CCNAME="FILE:$OUT/krbap.ccache" kvno test-aes256-sha384/localhost >"$WORK/kvno2.log" 2>&1 \
     && klist -c "$OUT/krbap.ccache" | grep -q 'test-aes256-sha384/localhost@TEST.LOCAL'; then
    pass "MIT kvno uses the krbap-written ccache's TGT"
  else
    fail "MIT kvno uses the krbap-written ccache's TGT" "$(cat "$WORK/kvno2.log")"
  fi
else
  fail "krbap-written ccache exists"
fi

# ---------------------------------------------------------------- string2key
# Keys MIT derived from known passwords with default salts (klist -K above).
s2k_check() {  # NAME KLIST_FILE PRINCIPAL KVNO ENCTYPE SALT PASSWORD
  local want got
  want=$(awk -v p="$3" -v v="$4" -v e="($5)" '$1 == v && $4 == p && $5 == e { k=$6; gsub(/^\(0x|\)$/, "", k); print k }' "$2")
  got=$("$BIN" string2key --enctype "$5" --salt "$6" <<<"$7" 2>&1)
  if [ -n "$want" ] && [ "$want" = "$got" ]; then pass "$1"; else fail "$1" "want '$want' got '$(printf "%s" "$got" | head -n 3)'"; fi
}
for e in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128; do
  s2k_check "string2key = MIT key: test/localhost $e" "$CHECK/service.keytab.klist" \
    "test/localhost@TEST.LOCAL" 1 "$e" "TEST.LOCALtestlocalhost" "$REALM_SERVICE_PASSWORD"
done
s2k_check "string2key = ktutil key: kvno 300 aes256-sha1" "$CHECK/ktutil.keytab.klist" \
  "alice@TEST.LOCAL" 300 aes256-cts-hmac-sha1-96 "TEST.LOCALalice" "$KT_PW"
s2k_check "string2key = ktutil key: kvno 255 aes256-sha384" "$CHECK/ktutil.keytab.klist" \
  "alice@TEST.LOCAL" 255 aes256-cts-hmac-sha384-192 "TEST.LOCALalice" "$KT_PW"

# ---------------------------------------------------------------- errors
head -c 50 "$CHECK/service.keytab" >"$WORK/cut.keytab"
"$BIN" keytab list "$WORK/cut.keytab" >/dev/null 2>"$WORK/cut.err"; rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$WORK/cut.err")" = 1 ] && grep -q 'offset' "$WORK/cut.err"; then
  pass "truncated keytab: exit 1, one line naming the offset"
else
  fail "truncated keytab: exit 1, one line naming the offset" "rc=$rc $(cat "$WORK/cut.err")"
fi
"$BIN" ccache list "KEYRING:persistent:0" >/dev/null 2>"$WORK/kr.err"; rc=$?
if [ $rc = 1 ] && grep -q 'unsupported credential cache type' "$WORK/kr.err"; then
  pass "KEYRING: ccache refused (exit 1)"
else
  fail "KEYRING: ccache refused (exit 1)" "rc=$rc $(cat "$WORK/kr.err")"
fi
"$BIN" keytab frobnicate >/dev/null 2>"$WORK/usage.err"; rc=$?
# clap's usage error: what is wrong, then the usage of the subcommand at hand.
if [ $rc = 2 ] && grep -q "^error: unrecognized subcommand 'frobnicate'" "$WORK/usage.err" \
  && grep -q '^Usage: krbap keytab ' "$WORK/usage.err"; then pass "bad arguments: usage, exit 2"; else fail "bad arguments: usage, exit 2" "rc=$rc $(cat "$WORK/usage.err")"; fi

summary
