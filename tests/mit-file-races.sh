#!/usr/bin/env bash
# mit-file-races.sh - krbap and MIT krb5 1.20 programs writing the same FILE ccache and keytab
# at the same time (issue #20), in a throwaway MIT realm (tests/interop/realm.sh):
#   1. 20 rounds: a fresh `kinit alice`, then 8 processes started at the same moment (4 krbap
#      kvno, 4 MIT kvno, alternating per round), each fetching another service into the one
#      ccache: all 8 tickets are in it afterwards, and MIT's klist (and krbap) read the file
#   2. krbap storing tickets in a loop (two loops of `krbap kvno`) while `kinit bob` and
#      `kinit alice` alternate 20 times on the same ccache: the cache's principal is always the
#      last kinit's, and it never holds another client's ticket (krbap appended nothing to a
#      cache that changed hands)
#   3. one keytab written at once by `krbap keytab add`, MIT `ktutil` (addent + wkt) and
#      `kadmin.local ktadd`: every entry of every writer is there, as `klist -k` shows, and
#      neither MIT tool reports an error (krbap and kadmin.local race to create the file;
#      MIT refuses a keytab it finds empty, so krbap never leaves one)
#   4. a lock held longer than KRBAP_LOCK_TIMEOUT_MS (an exclusive classic POSIX lock taken by
#      Python's fcntl.lockf: it conflicts with the OFD locks krbap and MIT take): `krbap kvno`,
#      `krbap keytab add` and `krbap keytab list` fail in about that time with an error naming
#      the file and the setting; a lock held for a shorter time is waited for
#   5. (issue #19) krbap-server -rcache-max-bytes 1M -rcache-stats after an MIT gss-client's
#      connection prints its memory replay cache's counters: 1 entry, 1 stored, the 1 MiB cap
#   6. a file2 replay cache whose lock another process holds: krbap-server's accept fails
#      closed after KRBAP_LOCK_TIMEOUT_MS with a message naming the file (MIT waits for ever),
#      and stores into the file once the lock is released
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
cli=${KRBAP_CLI:-$release/krbap}
. tests/interop/lib.sh
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
export TZ=UTC LC_ALL=C

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-file-races.XXXXXX") || exit 2
started=()  # background pids this script started
cleanup() {
  local p
  for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null; done
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for c in kinit klist kvno ktutil kadmin.local flock python3 gss-client cc; do
  command -v "$c" >/dev/null || bail "setup: $c not found"
done
[ -x "$cli" ] || bail "setup: $cli missing (cargo build --release)"
if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
realm=$REALM_NAME

services=()
for i in $(seq 16); do services+=("race$i/localhost"); done
admin_out=$(for s in "${services[@]}"; do echo "addprinc -randkey $s"; done
            for i in 1 2 3 4 5; do echo "addprinc -randkey ka$i"; done)
if ! out=$(printf '%s\n' "$admin_out" | kadmin.local 2>&1) || grep -qi 'error\|while ' <<<"$out"; then
  bail "setup: kadmin.local addprinc" "$out"
fi

kinit_as() {  # kinit_as CCACHE PRINCIPAL PASSWORD
  KRB5CCNAME="FILE:$1" kinit "$2" <<<"$3" >/dev/null 2>>"$work/kinit.err"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- 1. eight mixed writers per round --------------------------------------------------------
cc1=$work/race1.cc
rounds=20
bad_rounds=""
proc_fail=""
krbap_read_fail=""
stored=0
for round in $(seq "$rounds"); do
  kinit_as "$cc1" "$REALM_CLIENT" "$REALM_CLIENT_PASSWORD" || { bad_rounds+=" $round(kinit)"; continue; }
  # All 8 wait on a gate (flock(1), unrelated to the ccache's fcntl locks) held until all
  # have started, then run at once.
  exec {gate}>"$work/gate"
  flock -x "$gate"
  pids=()
  for i in 0 1 2 3 4 5 6 7; do
    s=${services[i]}
    if (( (i + round) % 2 == 0 )); then
      flock -s "$work/gate" "$cli" kvno -c "FILE:$cc1" "$s" >"$work/r1.$i.out" 2>&1 &
    else
      flock -s "$work/gate" kvno -c "FILE:$cc1" "$s" >"$work/r1.$i.out" 2>&1 &
    fi
    pids+=($!)
  done
  sleep 0.1
  flock -u "$gate"
  exec {gate}>&-
  for i in 0 1 2 3 4 5 6 7; do
    wait "${pids[i]}" || proc_fail+=" round $round ${services[i]}: $(tr '\n' ' ' <"$work/r1.$i.out")"$'\n'
  done
  if ! list=$(klist -c "FILE:$cc1" 2>&1); then
    bad_rounds+=" $round(klist: $list)"
    continue
  fi
  missing=""
  for i in 0 1 2 3 4 5 6 7; do
    if grep -q " ${services[i]}@$realm\$" <<<"$list"; then stored=$((stored + 1)); else missing+=" ${services[i]}"; fi
  done
  [ -z "$missing" ] || bad_rounds+=" $round(missing:$missing)"
  klist_services=$(grep -c "@$realm\$" <<<"$list")
  krbap_services=$("$cli" ccache list "$cc1" 2>&1 | grep -c "@$realm\$")
  [ "$klist_services" = "$krbap_services" ] || krbap_read_fail+=" round $round: klist $klist_services, krbap $krbap_services"
done
if [ -z "$proc_fail" ]; then
  pass "race 1: $((rounds * 8)) kvno runs (krbap and MIT, 8 at once per round) all succeeded"
else
  fail "race 1: kvno runs failed" "$proc_fail"
fi
if [ -z "$bad_rounds" ]; then
  pass "race 1: after each of $rounds rounds all 8 tickets are in the ccache ($stored found by MIT klist)"
else
  fail "race 1: tickets lost" "rounds:$bad_rounds"
fi
if [ -z "$krbap_read_fail" ]; then
  pass "race 1: krbap reads the same tickets as klist from the shared ccache"
else
  fail "race 1: krbap and klist differ" "$krbap_read_fail"
fi

# --- 2. kinit bob / kinit alice while krbap stores ---------------------------------------------
cc2=$work/race2.cc
kinit_as "$cc2" "$REALM_CLIENT" "$REALM_CLIENT_PASSWORD" || bail "race 2: kinit alice"
stop=$work/race2.stop
store_loop() {  # store_loop FIRST_SERVICE_INDEX LOG: one krbap kvno process per store
  local n=$1
  while [ ! -e "$stop" ]; do
    if "$cli" kvno -c "FILE:$cc2" "${services[n % 16]}" >>"$2" 2>&1; then echo ok >>"$2.ok"; fi
    n=$((n + 1))
  done
}
store_loop 0 "$work/r2a.log" &
started+=($!); loop_a=$!
store_loop 8 "$work/r2b.log" &
started+=($!); loop_b=$!
reverted=""
foreign=""
periods_with_stores=0
for i in $(seq 20); do
  if ((i % 2)); then who=$REALM_CLIENT2; pw=$REALM_CLIENT2_PASSWORD; else who=$REALM_CLIENT; pw=$REALM_CLIENT_PASSWORD; fi
  kinit_as "$cc2" "$who" "$pw" || { reverted+=" kinit $who failed;"; continue; }
  seen_store=""
  for check in 1 2 3; do
    sleep 0.15
    list=$(klist -c "FILE:$cc2" 2>&1)
    principal=$(sed -n 's/^Default principal: //p' <<<"$list")
    [ "$principal" = "$who" ] || reverted+=" after kinit $who (#$i, check $check): $principal;"
    grep -q 'for client' <<<"$list" && foreign+=" #$i: $(grep -B1 'for client' <<<"$list" | tr '\n' ' ');"
    grep -q "race[0-9]*/localhost@$realm\$" <<<"$list" && seen_store=1
  done
  [ -n "$seen_store" ] && periods_with_stores=$((periods_with_stores + 1))
done
touch "$stop"
wait "$loop_a" "$loop_b"
ok_stores=$(cat "$work/r2a.log.ok" "$work/r2b.log.ok" 2>/dev/null | wc -l)
if [ -z "$reverted" ]; then
  pass "race 2: 20 kinits (bob/alice alternating) during $ok_stores successful krbap kvno runs: the principal was always the last kinit's"
else
  fail "race 2: principal reverted" "$reverted"
fi
if [ -z "$foreign" ]; then
  pass "race 2: no ticket of another client ever appended to the changed cache"
else
  fail "race 2: foreign tickets in the cache" "$foreign"
fi
if [ "$periods_with_stores" -ge 15 ]; then
  pass "race 2: krbap stored into the current cache in $periods_with_stores of 20 kinit periods"
else
  fail "race 2: krbap stored in only $periods_with_stores of 20 kinit periods" "$(tail -n 5 "$work/r2a.log")"
fi

# --- 3. one keytab, three writers ---------------------------------------------------------------
kt=$work/race3.keytab
ktutil_loop() {
  local i
  # MIT's own create (k5_create_secure_file, then fopen, then the lock) leaves the file empty
  # for a moment, and another MIT writer that opens it then refuses it ("Unsupported key table
  # format version number"): two MIT writers must not race to create it. krbap creates the file
  # complete (a hard-linked temporary file), so it races kadmin.local to create it below, and
  # ktutil joins once the file holds its header.
  for i in $(seq 500); do [ "$(stat -c %s "$kt" 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.01; done
  for i in $(seq 10); do
    printf 'addent -password -p mk%d@%s -k %d -e aes256-cts-hmac-sha1-96\nktutil-pw\naddent -password -p mk%d@%s -k %d -e aes128-cts-hmac-sha1-96\nktutil-pw\nwkt %s\nquit\n' \
      "$i" "$realm" "$i" "$i" "$realm" "$i" "$kt" | ktutil >>"$work/ktutil.log" 2>&1 || echo "ktutil $i failed" >>"$work/r3.err"
  done
}
kadmin_loop() {
  local i
  for i in 1 2 3 4 5; do
    kadmin.local -q "ktadd -k $kt -norandkey ka$i" >>"$work/kadmin.log" 2>&1 || echo "ktadd ka$i failed" >>"$work/r3.err"
  done
}
krbap_loop() {  # krbap_loop FIRST
  local i
  for i in $(seq "$1" 2 10); do
    "$cli" keytab add --principal "kb$i@$realm" --kvno "$i" --enctype aes256-cts-hmac-sha1-96 \
      --enctype aes128-cts-hmac-sha1-96 --password krbap-pw "$kt" >>"$work/krbap-kt.log" 2>&1 \
      || echo "krbap keytab add kb$i failed: $(tail -n 1 "$work/krbap-kt.log")" >>"$work/r3.err"
  done
}
r3_start=$(now_ms)
ktutil_loop & p1=$!
kadmin_loop & p2=$!
krbap_loop 1 & p3=$!
krbap_loop 2 & p4=$!
started+=("$p1" "$p2" "$p3" "$p4")
wait "$p1" "$p2" "$p3" "$p4"
r3_ms=$(( $(now_ms) - r3_start ))
# Both MIT tools exit 0 when a keytab write fails; their messages tell.
grep -h 'while \|[Ee]rror' "$work/kadmin.log" "$work/ktutil.log" >>"$work/r3.err" 2>/dev/null
expected=$({
  for i in $(seq 10); do
    echo "mk$i@$realm $i aes256-cts-hmac-sha1-96"; echo "mk$i@$realm $i aes128-cts-hmac-sha1-96"
    echo "kb$i@$realm $i aes256-cts-hmac-sha1-96"; echo "kb$i@$realm $i aes128-cts-hmac-sha1-96"
  done
  for i in 1 2 3 4 5; do
    for e in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128; do
      echo "ka$i@$realm 1 $e"
    done
  done; } | sort)
# klist -k -t -e: "KVNO Timestamp Principal (enctype)"; the timestamp is two words.
if got=$(klist -k -t -e "$kt" 2>&1); then
  got=$(awk 'NR > 3 { gsub(/[()]/, "", $5); print $4, $1, $5 }' <<<"$got" | sort)
  if [ ! -s "$work/r3.err" ] && [ "$got" = "$expected" ]; then
    pass "race 3: krbap keytab add, ktutil wkt and kadmin.local ktadd at once: all $(wc -l <<<"$expected") entries in the keytab (${r3_ms} ms)"
  else
    fail "race 3: keytab entries lost or duplicated" "$(cat "$work/r3.err" 2>/dev/null; diff <(echo "$expected") <(echo "$got"))"
  fi
else
  fail "race 3: MIT klist -k cannot read the keytab" "$got"
fi
kl=$("$cli" keytab list "$kt" 2>&1 | grep -c "@$realm")
check "race 3: krbap reads the same $(wc -l <<<"$expected") entries" test "$kl" = "$(wc -l <<<"$expected")"

# --- 4. a lock held too long ---------------------------------------------------------------------
cc4=$work/race4.cc
kinit_as "$cc4" "$REALM_CLIENT" "$REALM_CLIENT_PASSWORD" || bail "race 4: kinit"
hold() {  # hold SECONDS FILE...: exclusive classic POSIX locks; FILE.held appears once held
  python3 - "$@" <<'PY' &
import fcntl, os, sys, time
files = [open(p, "r+b") for p in sys.argv[2:]]
for f in files:
    fcntl.lockf(f, fcntl.LOCK_EX)
for p in sys.argv[2:]:
    open(p + ".held", "w").close()
time.sleep(float(sys.argv[1]))
for p in sys.argv[2:]:
    os.unlink(p + ".held")
PY
  holder=$!
  started+=("$holder")
  for _ in $(seq 100); do [ -e "${!#}.held" ] && return 0; sleep 0.05; done
  return 1
}
if hold 6 "$cc4" "$kt"; then
  t0=$(now_ms)
  KRBAP_LOCK_TIMEOUT_MS=700 "$cli" kvno -c "FILE:$cc4" race1/localhost >"$work/r4.out" 2>&1
  rc=$?
  ms=$(( $(now_ms) - t0 ))
  msg=$(cat "$work/r4.out")
  if [ "$rc" != 0 ] && [ "$ms" -ge 650 ] && [ "$ms" -lt 4000 ] \
     && grep -q "locked by another process" <<<"$msg" && grep -qF "$cc4" <<<"$msg" \
     && grep -q KRBAP_LOCK_TIMEOUT_MS <<<"$msg"; then
    pass "race 4: krbap kvno on a ccache locked longer than the timeout fails after ${ms} ms: $msg"
  else
    fail "race 4: krbap kvno on a locked ccache (rc $rc after ${ms} ms)" "$msg"
  fi
  t0=$(now_ms)
  KRBAP_LOCK_TIMEOUT_MS=700 "$cli" keytab add --principal kz@"$realm" --password x "$kt" >"$work/r4k.out" 2>&1
  rc=$?
  ms=$(( $(now_ms) - t0 ))
  if [ "$rc" != 0 ] && [ "$ms" -lt 4000 ] && grep -q "locked by another process" "$work/r4k.out" \
     && grep -qF "$kt" "$work/r4k.out"; then
    pass "race 4: krbap keytab add on a locked keytab fails after ${ms} ms"
  else
    fail "race 4: krbap keytab add on a locked keytab (rc $rc after ${ms} ms)" "$(cat "$work/r4k.out")"
  fi
  KRBAP_LOCK_TIMEOUT_MS=300 "$cli" keytab list "$kt" >"$work/r4l.out" 2>&1
  rc=$?
  if [ "$rc" != 0 ] && grep -q "locked by another process" "$work/r4l.out"; then
    pass "race 4: krbap keytab list waits for the writer's lock, then fails with the lock error"
  else
    fail "race 4: krbap keytab list on a locked keytab (rc $rc)" "$(cat "$work/r4l.out")"
  fi
  kill -TERM "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
else
  fail "race 4: could not take the lock with python3"
fi
# Held for 1 s with the default timeout: krbap waits and succeeds.
rm -f "$cc4.held"
if hold 1 "$cc4"; then
  t0=$(now_ms)
  "$cli" kvno -c "FILE:$cc4" race2/localhost >"$work/r4w.out" 2>&1
  rc=$?
  ms=$(( $(now_ms) - t0 ))
  if [ "$rc" = 0 ] && [ "$ms" -ge 500 ] && klist -c "FILE:$cc4" | grep -q " race2/localhost@$realm\$"; then
    pass "race 4: a lock held for 1 s is waited for (${ms} ms), then the ticket is stored"
  else
    fail "race 4: waiting for a short lock (rc $rc after ${ms} ms)" "$(cat "$work/r4w.out")"
  fi
  wait "$holder" 2>/dev/null
else
  fail "race 4: could not take the lock with python3"
fi

# --- 5. the example server's replay cache counters ---------------------------------------------
if server_bin=$(build_example krbap-server); then
  slog=$work/r5.server.log
  clog=$work/r5.client.log
  for attempt in 1 2 3; do
    if ! start_server "$slog" "$server_bin" -port @PORT@ -once -rcache-max-bytes 1M -rcache-stats \
         test@localhost; then
      fail "race 5: krbap-server did not start" "$(tail -n 5 "$slog")"
      break
    fi
    timeout 30 gss-client -port "$PORT" localhost test@localhost hello >"$clog" 2>&1 </dev/null
    refused_retry "$attempt" "$clog" && continue
    finish_server
    break
  done
  line=$(grep '^\[server\] replay cache:' "$slog")
  if grep -q '1 entries, [0-9]* of 1048576 bytes (cap), 1 stored, 0 replays refused, 0 refused at the cap' <<<"$line"; then
    pass "race 5: krbap-server -rcache-stats: $line"
  else
    fail "race 5: krbap-server -rcache-stats" "$(tail -n 8 "$slog"; tail -n 3 "$clog")"
  fi
else
  fail "race 5: building krbap-server" "$server_bin"
fi

# --- 6. a file2 replay cache locked by another process ---------------------------------------
# krbap-server with -rcache file2:FILE while python3 holds FILE's lock for 6 s: the accept
# fails closed after KRBAP_LOCK_TIMEOUT_MS (MIT would wait for ever) with a message naming the
# file and the setting; once the lock is gone, the next accept stores into the same file.
rc6=$work/race6.rcache2
: >"$rc6"
if [ -n "${server_bin:-}" ] && [ -x "$server_bin" ]; then
  slog=$work/r6.server.log
  clog=$work/r6.client.log
  rm -f "$rc6.held"
  if hold 6 "$rc6"; then
    for attempt in 1 2 3; do
      start_server "$slog" env KRBAP_LOCK_TIMEOUT_MS=700 "$server_bin" -port @PORT@ -once \
        -rcache "file2:$rc6" test@localhost || { fail "race 6: krbap-server did not start" "$(tail -n 5 "$slog")"; break; }
      t0=$(now_ms)
      timeout 30 gss-client -port "$PORT" localhost test@localhost hello >"$clog" 2>&1 </dev/null
      crc=$?
      ms=$(( $(now_ms) - t0 ))
      refused_retry "$attempt" "$clog" && continue
      finish_server
      break
    done
    if [ "$crc" != 0 ] && [ "$ms" -ge 650 ] && [ "$ms" -lt 5000 ] \
       && grep -q "locked by another process" "$slog" && grep -qF "$rc6" "$slog" \
       && grep -q KRBAP_LOCK_TIMEOUT_MS "$slog"; then
      pass "race 6: an accept on a file2 replay cache locked by another process fails closed after ${ms} ms: $(grep -m1 'locked by another process' "$slog")"
    else
      fail "race 6: accept on a locked file2 replay cache (gss-client rc $crc after ${ms} ms)" \
        "$(tail -n 6 "$slog"; tail -n 3 "$clog")"
    fi
    kill -TERM "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
    for attempt in 1 2 3; do
      start_server "$slog" env KRBAP_LOCK_TIMEOUT_MS=700 "$server_bin" -port @PORT@ -once \
        -rcache "file2:$rc6" test@localhost || { fail "race 6: krbap-server did not start" "$(tail -n 5 "$slog")"; break; }
      timeout 30 gss-client -port "$PORT" localhost test@localhost hello >"$clog" 2>&1 </dev/null
      crc=$?
      refused_retry "$attempt" "$clog" && continue
      finish_server
      break
    done
    size=$(stat -c %s "$rc6")
    if [ "$crc" = 0 ] && [ "$SERVER_RC" = 0 ] && [ "$size" -gt 16 ]; then
      pass "race 6: with the lock released the next accept stores into the same file ($size bytes)"
    else
      fail "race 6: accept after the lock was released (gss-client rc $crc, server rc $SERVER_RC, $size bytes)" \
        "$(tail -n 6 "$slog"; tail -n 3 "$clog")"
    fi
  else
    fail "race 6: could not take the lock with python3"
  fi
else
  fail "race 6: no krbap-server (race 5 could not build it)"
fi

summary
