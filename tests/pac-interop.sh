#!/usr/bin/env bash
# pac-interop.sh - the Windows PAC (MS-PAC) against a real Active Directory KDC (Samba's AD
# DC, tests/interop/samba-ad.sh) and MIT krb5 1.20's KDC (tests/interop/realm.sh), live:
#   1. alice, bob (no UPN), carol (non-BMP name): tokens from MIT's initiator; the PAC MIT's
#      acceptor verified and exposes, decoded by Samba's own NDR decoder and by krbap's C
#      API (tests/interop/pac_view.py): every field equal
#   2. krbap decode verifies all four signatures (server, KDC, ticket, full) with the
#      service and krbtgt keys; the user's SID and groups equal Samba's database (the
#      domain-local, universal and nested groups included)
#   3. MIT gss-client -> krbap-server: the narration shows the verified PAC, SIDs, groups
#   4. S4U2proxy (constrained delegation through MIT's impersonation): delegation info
#   5. PACs that fail verification: krbap refuses them (and says why), MIT's acceptor
#      accepts the token and hides the PAC; a PAC replayed into another ticket passes the
#      server signature and fails the ticket signature (krbtgt key)
#   6. MIT 1.20 KDC PACs of every AES service: server signatures 15/16/19/20, KDC and
#      ticket signatures with the krbtgt key
# Prints one line per check and `N passed, N failed` last.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
cli=${KRBAP_CLI:-$release/krbap}
. tests/interop/lib.sh
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
PY=/usr/bin/python3
export KRBAP_LIB=$release/libkrbap.so

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-pac-interop.XXXXXX") || exit 2
started=()
cleanup() {
  tests/interop/samba-ad.sh stop "$work/ad" >/dev/null 2>&1
  interop_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- setup ---------------------------------------------------------------------------------
for c in gss-client kinit kvno cc "$PY"; do
  command -v "$c" >/dev/null || bail "setup: $c not found (scripts/install-deps.sh)"
done
[ -e "$KRBAP_LIB" ] && [ -x "$cli" ] || bail "setup: $KRBAP_LIB or $cli missing (cargo build --release)"
server_bin=$(build_example krbap-server) || bail "setup: building krbap-server" "$server_bin"
if ! out=$(tests/interop/samba-ad.sh start "$work/ad" 2>&1); then
  bail "setup: samba-ad.sh start" "$out"
fi
echo "      $(printf '%s\n' "$out" | tail -n 1)"
# shellcheck disable=SC1091  # written by samba-ad.sh
. "$work/ad/env"
ad=$work/ad

cat >"$work/mk_token.py" <<'PY'
# mk_token.py TARGET OUT [PRINCIPAL]: an initial token from MIT's initiator ($KRB5CCNAME),
# impersonating PRINCIPAL (S4U2self + S4U2proxy) when given.
import sys, gssapi
creds = gssapi.Credentials(usage="initiate")
if len(sys.argv) > 3:
    creds = creds.impersonate(gssapi.Name(sys.argv[3], gssapi.NameType.kerberos_principal),
                              usage="initiate")
ctx = gssapi.SecurityContext(name=gssapi.Name(sys.argv[1], gssapi.NameType.hostbased_service),
                             creds=creds, usage="initiate",
                             flags=[gssapi.RequirementFlag.mutual_authentication])
open(sys.argv[2], "wb").write(ctx.step())
PY
token() { "$PY" "$work/mk_token.py" "$@"; }

# kinit_user NAME: NAME's TGT from the AD KDC into $work/NAME.cc (MIT's kinit; a few
# tries: the KDC may still be opening its sockets just after it started).
kinit_user() {
  local var="SAMBA_AD_$(echo "$1" | tr a-z A-Z)_PASSWORD" try
  for try in 1 2 3 4 5 6 7 8 9 10; do
    KRB5CCNAME=FILE:$work/$1.cc kinit "$1@AD.TEST" <<<"${!var}" >"$work/kinit-$1.log" 2>&1 && return 0
    sleep 0.3
  done
  return 1
}

# decode_ok NAME KEYTAB TOKEN: krbap decode with the service and krbtgt keys says every
# signature verified and the token is acceptable; the output stays in $work/NAME.decode.
decode_ok() {
  local name=$1 keytab=$2 tok=$3 out=$work/$1.decode
  "$cli" decode --keytab "$keytab" --krbtgt-keytab "$SAMBA_AD_KRBTGT_KEYTAB" "$tok" >"$out" 2>&1
  local problems=""
  for s in "server signature 16 (hmac-sha1-96-aes256): valid" \
           "CLIENT_INFO: matches the ticket's client and authtime" \
           "KDC signature 16 (hmac-sha1-96-aes256): valid" \
           "ticket signature 16 (hmac-sha1-96-aes256): valid" \
           "full signature 16 (hmac-sha1-96-aes256): valid" "ACCEPTABLE at"; do
    grep -qF -- "$s" "$out" || problems+="missing: $s"$'\n'
  done
  if [ -z "$problems" ]; then pass "$name: krbap verifies all four signatures (service + krbtgt keys)"
  else fail "$name: krbap verifies all four signatures" "$problems$(cat "$out")"; fi
}

# --- 1-2. alice, bob, carol: Samba's decoder and krbap's C API agree; signatures; SIDs --------
for u in alice bob carol; do
  if ! kinit_user "$u"; then fail "$u: kinit from the AD KDC" "$(cat "$work/kinit-$u.log")"; continue; fi
  KRB5CCNAME=FILE:$work/$u.cc token HTTP@localhost "$work/$u.token" 2>"$work/$u.token.err" \
    || { fail "$u: MIT initiator token" "$(cat "$work/$u.token.err")"; continue; }
  if out=$("$PY" tests/interop/pac_view.py mit-pac "$SAMBA_AD_SERVICE_KEYTAB" "$work/$u.token" "$work/$u.pac" 2>&1); then
    pass "$u: MIT's acceptor verified the PAC (urn:mspac: authenticated)"
  else
    fail "$u: MIT's acceptor verified the PAC" "$out"; continue
  fi
  "$PY" tests/interop/pac_view.py samba "$work/$u.pac" >"$work/$u.samba.txt" 2>&1
  "$PY" tests/interop/pac_view.py krbap "$work/$u.pac" >"$work/$u.krbap.txt" 2>&1
  n=$(grep -c . "$work/$u.samba.txt")
  if d=$(diff -u "$work/$u.samba.txt" "$work/$u.krbap.txt") && [ "$n" -gt 40 ]; then
    pass "$u: all $n PAC fields through krbap's C API equal Samba's NDR decoder"
  else
    fail "$u: PAC fields through krbap's C API equal Samba's NDR decoder" "$d"
  fi
  decode_ok "$u" "$SAMBA_AD_SERVICE_KEYTAB" "$work/$u.token"
done

# The user's and groups' SIDs from Samba's database (sids.env, objectSid) and samba-tool's
# view of alice's groups, against what krbap decoded.
if [ -s "$work/alice.decode" ]; then
  problems=""
  grep -qF "SID $SAMBA_SID_alice" "$work/alice.decode" || problems+="user SID $SAMBA_SID_alice"$'\n'
  for g in Domain_Users pacgroup pacgroup2 pacdomlocal pacuniversal; do
    var=SAMBA_SID_$g
    grep -qE "^ +${!var} GroupIds" "$work/alice.decode" || problems+="group $g ${!var}"$'\n'
  done
  [ -z "$problems" ] && pass "alice: user SID, direct, nested (pacgroup2), domain-local and universal groups as in Samba's database" \
    || fail "alice: SIDs and groups as in Samba's database" "$problems"
  S="-s $ad/etc/smb.conf -H $ad/private/sam.ldb"
  # shellcheck disable=SC2086
  groups=$(samba-tool user getgroups alice $S 2>&1)
  # shellcheck disable=SC2086
  nested=$(samba-tool group listmembers pacgroup2 $S 2>&1)
  problems=""
  for g in "Domain Users" pacgroup pacdomlocal pacuniversal; do
    grep -qx "$g" <<<"$groups" || problems+="samba-tool user getgroups lacks $g"$'\n'
  done
  grep -qx pacgroup <<<"$nested" || problems+="pacgroup not in pacgroup2: $nested"$'\n'
  [ -z "$problems" ] && pass "samba-tool: alice is in Domain Users, pacgroup, pacdomlocal, pacuniversal; pacgroup in pacgroup2 (all in the PAC)" \
    || fail "samba-tool's view of alice's groups" "$problems$groups"
fi
if [ -s "$work/bob.krbap.txt" ]; then
  grep -qx 'upn.flags=0x3' "$work/bob.krbap.txt" && grep -qx 'upn.upn=bob@ad.test' "$work/bob.krbap.txt" \
    && pass "bob (no userPrincipalName): the constructed UPN, flag U" \
    || fail "bob: constructed UPN" "$(grep '^upn' "$work/bob.krbap.txt")"
fi
if [ -s "$work/carol.krbap.txt" ]; then
  grep -qx $'logon.full_name=Carol \u00dcml\u00e4ut \U0001d11e' "$work/carol.krbap.txt" \
    && pass "carol: a full name outside the BMP (UTF-16 surrogates) decoded" \
    || fail "carol: full name" "$(grep full_name "$work/carol.krbap.txt")"
fi

# --- 3. MIT gss-client -> krbap-server: the narration ---------------------------------------
if [ -s "$work/alice.cc" ]; then
  if start_server "$work/server.log" "$server_bin" -once -port @PORT@ \
       -keytab "$SAMBA_AD_SERVICE_KEYTAB" -pac-kdc-keytab "$SAMBA_AD_KRBTGT_KEYTAB"; then
    KRB5CCNAME=FILE:$work/alice.cc timeout 30 gss-client -port "$PORT" localhost HTTP@localhost \
      "hello from AD" >"$work/client.log" 2>&1
    finish_server
    problems=""
    for s in "PAC signatures verified: server (service key), KDC, ticket, full PAC" \
             "PAC user ADTEST\\alice (\"Alice Tester\"), SID $SAMBA_SID_alice" \
             "PAC UPN alice@ad.test, DNS domain AD.TEST, primary group $SAMBA_SID_Domain_Users" \
             "$SAMBA_SID_pacgroup2 (GroupIds)" "$SAMBA_SID_pacdomlocal (GroupIds)" \
             "S-1-18-1 (ExtraSids)" 'Received message: "hello from AD"'; do
      grep -qF -- "$s" "$work/server.log" || problems+="missing: $s"$'\n'
    done
    [ -z "$problems" ] && pass "MIT gss-client -> krbap-server: step 2 shows the verified PAC, the user's SIDs and groups" \
      || fail "MIT gss-client -> krbap-server narration" "$problems$(cat "$work/server.log" "$work/client.log")"
  else
    fail "krbap-server did not start" "$(cat "$work/server.log")"
  fi
fi

# --- 4. S4U2proxy ------------------------------------------------------------------------------
if KRB5CCNAME=FILE:$work/svc.cc kinit -k -t "$SAMBA_AD_SVC_USER_KEYTAB" svc@AD.TEST >"$work/kinit-svc.log" 2>&1 \
   && KRB5CCNAME=FILE:$work/svc.cc token HTTP@ws1.ad.test "$work/s4u.token" alice@AD.TEST 2>"$work/s4u.err"; then
  decode_ok s4u2proxy "$SAMBA_AD_WS1_KEYTAB" "$work/s4u.token"
  grep -qF 'CONSTRAINED_DELEGATION: S4U2proxy target "HTTP/ws1.ad.test", transited ["svc@AD.TEST"]' "$work/s4u2proxy.decode" \
    && grep -qF 'S-1-18-2 ExtraSids' "$work/s4u2proxy.decode" \
    && pass "S4U2proxy (svc impersonating alice to HTTP/ws1.ad.test): delegation info and S-1-18-2 decoded" \
    || fail "S4U2proxy delegation info" "$(cat "$work/s4u2proxy.decode")"
  if "$PY" tests/interop/pac_view.py mit-pac "$SAMBA_AD_WS1_KEYTAB" "$work/s4u.token" "$work/s4u.pac" >/dev/null 2>&1 \
     && "$PY" tests/interop/pac_view.py samba "$work/s4u.pac" >"$work/s4u.samba.txt" 2>&1 \
     && "$PY" tests/interop/pac_view.py krbap "$work/s4u.pac" >"$work/s4u.krbap.txt" 2>&1 \
     && d=$(diff -u "$work/s4u.samba.txt" "$work/s4u.krbap.txt"); then
    pass "S4U2proxy: every PAC field (delegation info included) equal to Samba's decoder"
  else
    fail "S4U2proxy: PAC fields equal to Samba's decoder" "${d:-}"
  fi
else
  fail "S4U2proxy token (kinit -k svc, MIT impersonation)" "$(cat "$work/kinit-svc.log" "$work/s4u.err" 2>/dev/null)"
fi

# --- 5. PACs that fail verification: krbap refuses, MIT's acceptor hides the PAC ------------
# mit_hides NAME TOKEN KEYTAB: MIT's GSS acceptor accepts the token but withholds the PAC.
mit_hides() {
  local out rc
  out=$("$PY" tests/interop/pac_view.py mit-pac "$3" "$2" "$work/$1.mit.pac" 2>&1); rc=$?
  if [ $rc = 3 ] && grep -q "^MIT accepted the token" <<<"$out"; then
    pass "$1: MIT 1.20's acceptor accepts the token and withholds the PAC (urn:mspac values: ENOENT)"
  else
    fail "$1: MIT's acceptor accepts and hides the PAC" "$out"
  fi
}
# krbap_refuses NAME TOKEN KEYTAB TEXT: krbap-server refuses the token; its log names TEXT.
krbap_refuses() {
  local name=$1 tok=$2 keytab=$3 text=$4
  "$cli" decode --keytab "$keytab" "$tok" >"$work/$name.decode" 2>&1
  if grep -q "^REJECTED: .*$text" "$work/$name.decode"; then
    pass "$name: krbap refuses it: $(grep '^REJECTED' "$work/$name.decode" | cut -c1-150)"
  else
    fail "$name: krbap refuses it ($text)" "$(tail -n 20 "$work/$name.decode")"
  fi
}
if [ -s "$work/alice.pac" ]; then
  ci_time=$(grep '^client.client_id=' "$work/alice.krbap.txt" | cut -d= -f2)
  authtime=$(( ci_time / 10000000 - 11644473600 ))
  # alice's genuine PAC (signed for svc's key) in a ticket for ws1's key: server signature fails.
  export KRB5_CONFIG=$ad/krb5.conf
  "$cli" mint-ticket --keytab "$SAMBA_AD_WS1_KEYTAB" --service HTTP/ws1.ad.test@AD.TEST \
    --client alice@AD.TEST --ccache "$work/bad-sig.cc" --time "$authtime" --pac "$work/alice.pac" >/dev/null
  KRB5CCNAME=FILE:$work/bad-sig.cc token HTTP@ws1.ad.test "$work/bad-sig.token" 2>/dev/null
  krbap_refuses "PAC signed with another service's key" "$work/bad-sig.token" "$SAMBA_AD_WS1_KEYTAB" \
    "Message stream modified (PAC server signature"
  mit_hides "PAC signed with another service's key" "$work/bad-sig.token" "$SAMBA_AD_WS1_KEYTAB"
  # The same PAC in a ticket for svc's key but another authtime: CLIENT_INFO does not match.
  "$cli" mint-ticket --keytab "$SAMBA_AD_SERVICE_KEYTAB" --service HTTP/localhost@AD.TEST \
    --client alice@AD.TEST --ccache "$work/bad-time.cc" --time $((authtime + 60)) --pac "$work/alice.pac" >/dev/null
  KRB5CCNAME=FILE:$work/bad-time.cc token HTTP@localhost "$work/bad-time.token" 2>/dev/null
  krbap_refuses "PAC of another ticket (CLIENT_INFO time)" "$work/bad-time.token" "$SAMBA_AD_SERVICE_KEYTAB" \
    "Wrong principal in request (PAC CLIENT_INFO time"
  mit_hides "PAC of another ticket (CLIENT_INFO time)" "$work/bad-time.token" "$SAMBA_AD_SERVICE_KEYTAB"
  # The same PAC in a new ticket with the same authtime: the server signature and CLIENT_INFO
  # hold (a service alone cannot tell), the ticket signature with the krbtgt key does not.
  "$cli" mint-ticket --keytab "$SAMBA_AD_SERVICE_KEYTAB" --service HTTP/localhost@AD.TEST \
    --client alice@AD.TEST --ccache "$work/replayed.cc" --time "$authtime" --pac "$work/alice.pac" >/dev/null
  KRB5CCNAME=FILE:$work/replayed.cc token HTTP@localhost "$work/replayed.token" 2>/dev/null
  "$cli" decode --keytab "$SAMBA_AD_SERVICE_KEYTAB" --time "$authtime" "$work/replayed.token" >"$work/replayed.decode" 2>&1
  "$cli" decode --keytab "$SAMBA_AD_SERVICE_KEYTAB" --krbtgt-keytab "$SAMBA_AD_KRBTGT_KEYTAB" \
    --time "$authtime" "$work/replayed.token" >"$work/replayed-kdc.decode" 2>&1
  if grep -q '^ACCEPTABLE' "$work/replayed.decode" \
     && grep -q "^REJECTED: .*PAC ticket signature (hmac-sha1-96-aes256) does not verify" "$work/replayed-kdc.decode"; then
    pass "a genuine PAC copied into another ticket: passes the server signature, fails the ticket signature (krbtgt key)"
  else
    fail "PAC copied into another ticket" "$(grep -E 'signature|ACCEPT|REJECT' "$work/replayed.decode" "$work/replayed-kdc.decode")"
  fi
  # Re-signed for the new ticket with the real keys (mint-ticket --krbtgt-keytab): all verify,
  # and MIT's acceptor exposes it, verified.
  "$cli" mint-ticket --keytab "$SAMBA_AD_SERVICE_KEYTAB" --service HTTP/localhost@AD.TEST \
    --client alice@AD.TEST --ccache "$work/resigned.cc" --pac "$work/alice.pac" \
    --krbtgt-keytab "$SAMBA_AD_KRBTGT_KEYTAB" >/dev/null
  KRB5CCNAME=FILE:$work/resigned.cc token HTTP@localhost "$work/resigned.token" 2>/dev/null
  decode_ok "krbap-signed PAC (mint-ticket --pac --krbtgt-keytab)" "$SAMBA_AD_SERVICE_KEYTAB" "$work/resigned.token"
  if out=$("$PY" tests/interop/pac_view.py mit-pac "$SAMBA_AD_SERVICE_KEYTAB" "$work/resigned.token" "$work/resigned.pac" 2>&1); then
    pass "krbap-signed PAC: MIT's acceptor verifies it too (urn:mspac: authenticated)"
  else
    fail "krbap-signed PAC verified by MIT" "$out"
  fi
  unset KRB5_CONFIG
fi
tests/interop/samba-ad.sh stop "$ad" >/dev/null 2>&1

# --- 6. MIT 1.20 KDC PACs ------------------------------------------------------------------
if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091
. "$work/realm/env"
kadmin.local -q "ktadd -k $work/krbtgt.keytab -norandkey krbtgt/$REALM_NAME" >"$work/ktadd.log" 2>&1 \
  || bail "setup: exporting the krbtgt key" "$(cat "$work/ktadd.log")"
for pair in test:16 test-aes256-sha1:16 test-aes128-sha1:15 test-aes256-sha384:20 test-aes128-sha256:19; do
  svc=${pair%:*}; ck=${pair#*:}
  token "$svc@localhost" "$work/$svc.token" 2>"$work/$svc.err" || { fail "$svc: MIT initiator token" "$(cat "$work/$svc.err")"; continue; }
  "$cli" decode --keytab "$REALM_SERVICE_KEYTAB" --krbtgt-keytab "$work/krbtgt.keytab" "$work/$svc.token" >"$work/$svc.decode" 2>&1
  problems=""
  for s in "server signature $ck (" "): valid" "CLIENT_INFO: matches" "KDC signature 16 (hmac-sha1-96-aes256): valid" \
           "ticket signature 16 (hmac-sha1-96-aes256): valid" "full signature: none in this PAC" "ACCEPTABLE at"; do
    grep -qF -- "$s" "$work/$svc.decode" || problems+="missing: $s"$'\n'
  done
  grep -q "server signature $ck (.*): valid" "$work/$svc.decode" || problems+="server signature $ck not valid"$'\n'
  [ -z "$problems" ] && pass "MIT 1.20 KDC, $svc: server signature type $ck, KDC and ticket signatures verified" \
    || fail "MIT 1.20 KDC, $svc" "$problems$(grep -A8 'signatures' "$work/$svc.decode")"
done

summary
