#!/usr/bin/env bash
# interop-kdc.sh - krbap's initiator talking to a live MIT krb5 1.20 KDC (tests/interop/realm.sh):
#   1. a ccache with only a TGT (kdestroy + kinit): krbap-client fetches the service ticket
#      (TGS exchange) and authenticates to MIT's gss-server and to krbap-server, for each
#      single-enctype AES service; MIT's klist then shows the stored ticket
#   2. `krbap kvno` against MIT's kvno (same lines, tickets stored); an unknown service gives
#      "Server not found in Kerberos database" (kvno and krbap-client)
#   3. `krbap kinit -k -t` (and with a password): MIT's klist shows the TGT, MIT's kvno uses it
#   4. a client keytab (KRB5_CLIENT_KTNAME, and krbap-client -client-keytab) without a ccache,
#      and with an expired TGT: initial credentials by AS exchange, stored
#   5. delegation (-d): to MIT's gss-server, to python3-gssapi storing the delegated
#      credential (klist shows a forwarded krbtgt for alice; MIT's kvno uses it), to
#      krbap-server -deleg-ccache; a non-forwardable TGT: no delegation, no error
#   6. the KDC stopped: cached tickets still work; a new one fails with MIT's text
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
cli=${KRBAP_CLI:-$release/krbap}
. tests/interop/lib.sh
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-interop-kdc.XXXXXX") || exit 2
started=()  # pids of the servers this script started (each a `timeout` wrapper)
trap interop_cleanup EXIT
trap 'exit 130' INT TERM

# --- setup ---------------------------------------------------------------------------------
for c in gss-server kinit kdestroy klist kvno cc; do
  command -v "$c" >/dev/null || bail "setup: $c not found (install krb5-gss-samples, krb5-user)"
done
[ -e "$release/libkrbap.so" ] || bail "setup: $release/libkrbap.so missing (cargo build --release)"
[ -x "$cli" ] || bail "setup: $cli missing (cargo build --release)"

server_bin=$(build_example krbap-server) || bail "setup: building krbap-server" "$server_bin"
client_bin=$(build_example krbap-client) || bail "setup: building krbap-client" "$client_bin"

if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
client=alice@TEST.LOCAL
ccache=${KRB5CCNAME#FILE:}

declare -A session_enctype=(
  [test-aes256-sha1@localhost]=aes256-cts-hmac-sha1-96
  [test-aes128-sha1@localhost]=aes128-cts-hmac-sha1-96
  [test-aes256-sha384@localhost]=aes256-cts-hmac-sha384-192
  [test-aes128-sha256@localhost]=aes128-cts-hmac-sha256-128
)
services="test-aes256-sha1@localhost test-aes128-sha1@localhost test-aes256-sha384@localhost
  test-aes128-sha256@localhost"
principal_of() { local s=$1; echo "${s%@*}/${s#*@}@$REALM_NAME"; }

# fresh_tgt [KINIT OPTIONS]: the default ccache holds alice's TGT and nothing else.
fresh_tgt() {
  kdestroy -q 2>/dev/null
  kinit "$@" "$client" <<<"$REALM_CLIENT_PASSWORD" >/dev/null 2>"$work/kinit.err" \
    || { cat "$work/kinit.err"; return 1; }
}

# klist_has CCACHE PRINCIPAL [FLAG]: MIT's klist lists PRINCIPAL (with FLAG among its flags).
klist_has() {
  local out
  out=$(klist -f -c "$1" 2>&1) || return 1
  awk -v p="${3:-}" -v s="$2" '
    $NF == s { hit = 1; next }
    hit && /Flags:/ { if (p == "" || index($2, p)) found = 1; hit = 0 }
    END { exit !found }' <<<"$out"
}

# exchange NAME SERVICE SERVER_CMD CLIENT_CMD [EXPECT...]: one connection; checks the exit
# statuses, "Signature verified.", the server's view of the client and of the message, no
# warning (gss_exchange in tests/interop/lib.sh), the session enctype and
# each EXPECT, a "LOG:TEXT" pair (LOG is client or server; TEXT a fixed string, `!TEXT`
# must be absent). The client runs with the current environment. Words of the commands
# may use @PORT@ and @SVC@.
exchange() {
  local name=$1 svc=$2 server=$3 client_cmd=$4 problems e log text want
  shift 4
  if ! gss_exchange "$svc" "$server" "$client_cmd localhost @SVC@ @MSG@" \
      "hello from ${name// /_}" "$client"; then
    fail "$name" "$EXCHANGE_PROBLEMS"
    return
  fi
  problems=$EXCHANGE_PROBLEMS
  want=${session_enctype[$svc]:-}
  if [ -n "$want" ] && ! grep -qF "session key $want" "$EXCHANGE_CLOG"; then
    problems+="session key is not $want; "
  fi
  for e in "$@"; do
    log=$work/${e%%:*}.log text=${e#*:}
    if [ "${text:0:1}" = "!" ]; then
      grep -qF -- "${text:1}" "$log" && problems+="${e%%:*} printed '${text:1}'; "
    else
      grep -qF -- "$text" "$log" || problems+="${e%%:*} did not print '$text'; "
    fi
  done
  verdict "$name" "$problems" "$EXCHANGE_CLOG" "$EXCHANGE_SLOG"
}

# client_fails NAME SERVICE TEXT [SERVER_SERVICE]: krbap-client to a MIT gss-server (for
# SERVER_SERVICE, default SERVICE) must fail before the context is established and print
# TEXT (a fixed string); the server is then stopped.
client_fails() {
  local name=$1 svc=$2 text=$3 slog=$work/server.log clog=$work/client.log rc
  local attempt
  for attempt in 1 2 3; do
    if ! start_server "$slog" gss-server -port @PORT@ -once "${4:-$svc}"; then
      fail "$name" "server did not start: $(tail -n 10 "$slog")"
      return
    fi
    timeout 30 "$client_bin" -port "$PORT" localhost "$svc" hello >"$clog" 2>&1 </dev/null
    rc=$?
    refused_retry "$attempt" "$clog" && continue
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    break
  done
  if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -qF -- "$text" "$clog" \
    && grep -qF "GSS-API error initializing context" "$clog"; then
    pass "$name"
  else
    fail "$name" "exit $rc: $(tail -n 15 "$clog")"
  fi
}

gss_server="gss-server -port @PORT@ -once @SVC@"
krbap_server="$server_bin -port @PORT@ -once @SVC@"
krbap_client="$client_bin -port @PORT@"

# --- 1. TGT only: the ticket is fetched (TGS) and stored --------------------------------------
for svc in $services; do
  for server in "MIT gss-server" krbap-server; do
    fresh_tgt || bail "setup: kinit" "$(cat "$work/kinit.err")"
    if klist_has "$ccache" "$(principal_of "$svc")"; then
      fail "TGT-only ccache before $svc" "$(klist -c "$ccache")"
      continue
    fi
    cmd=$gss_server
    [ "$server" = krbap-server ] && cmd=$krbap_server
    exchange "TGT only: krbap-client -> $server, $svc" "$svc" "$cmd" "$krbap_client"
    if klist_has "$ccache" "$(principal_of "$svc")"; then
      pass "MIT klist shows the stored ticket for $(principal_of "$svc") (-> $server)"
    else
      fail "MIT klist shows the stored ticket for $(principal_of "$svc") (-> $server)" \
        "$(klist -c "$ccache" 2>&1)"
    fi
  done
done

# A second context uses the stored ticket (the last one fetched): the ccache is not rewritten.
before=$(md5sum <"$ccache")
exchange "stored ticket reused: krbap-client -> MIT gss-server, $svc" "$svc" "$gss_server" \
  "$krbap_client"
if [ "$(md5sum <"$ccache")" = "$before" ]; then
  pass "second run: ccache unchanged (no new ticket fetched)"
else
  fail "second run: ccache unchanged (no new ticket fetched)" "$(klist -c "$ccache")"
fi

# --- 2. krbap kvno against MIT's kvno ----------------------------------------------------------
kvno_services=""
for svc in test@localhost $services; do kvno_services+=" $(principal_of "$svc")"; done
fresh_tgt || bail "setup: kinit" "$(cat "$work/kinit.err")"
# shellcheck disable=SC2086  # a list of principals
"$cli" kvno $kvno_services >"$work/kvno.krbap" 2>&1
rc_krbap=$?
fresh_tgt || bail "setup: kinit" "$(cat "$work/kinit.err")"
# shellcheck disable=SC2086
kvno $kvno_services >"$work/kvno.mit" 2>&1
if [ "$rc_krbap" = 0 ]; then pass "krbap kvno exit status 0"; else fail "krbap kvno exit status 0" \
  "$(cat "$work/kvno.krbap")"; fi
same "krbap kvno prints what MIT's kvno prints" "$work/kvno.mit" "$work/kvno.krbap"
fresh_tgt || bail "setup: kinit" "$(cat "$work/kinit.err")"
# shellcheck disable=SC2086
"$cli" kvno $kvno_services >/dev/null 2>&1
problems=""
for p in $kvno_services; do klist_has "$ccache" "$p" || problems+="$p missing; "; done
if [ -z "$problems" ]; then pass "krbap kvno stored every ticket (MIT klist)"; else
  fail "krbap kvno stored every ticket (MIT klist)" "$problems $(klist -c "$ccache")"; fi

"$cli" kvno "nosuch/localhost@$REALM_NAME" >"$work/kvno.out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -qF "Server not found in Kerberos database while getting credentials for nosuch/localhost@$REALM_NAME" "$work/kvno.out"; then
  pass "krbap kvno of an unknown service: 'Server not found in Kerberos database', exit 1"
else
  fail "krbap kvno of an unknown service: 'Server not found in Kerberos database', exit 1" \
    "exit $rc: $(cat "$work/kvno.out")"
fi
client_fails "krbap-client to an unknown service: 'Server not found in Kerberos database'" \
  nosuch@localhost "Server not found in Kerberos database" test@localhost

# --- 3. krbap kinit ----------------------------------------------------------------------------
kcc=$work/kinit.ccache
rm -f "$kcc"
if out=$("$cli" kinit -k -t "$REALM_CLIENT_KEYTAB" -c "$kcc" -f "$client" 2>&1) \
  && klist_has "$kcc" "krbtgt/$REALM_NAME@$REALM_NAME" F \
  && klist -c "$kcc" | grep -qx "Default principal: $client"; then
  pass "krbap kinit -k -t -f: MIT klist shows alice's forwardable TGT"
else
  fail "krbap kinit -k -t -f: MIT klist shows alice's forwardable TGT" \
    "$out $(klist -f -c "$kcc" 2>&1)"
fi
if out=$(KRB5CCNAME=FILE:$kcc kvno "$(principal_of test@localhost)" 2>&1) \
  && [ "$out" = "$(principal_of test@localhost): kvno = 1" ]; then
  pass "MIT kvno gets a ticket with the TGT of krbap kinit"
else
  fail "MIT kvno gets a ticket with the TGT of krbap kinit" "$out"
fi
if out=$("$cli" kinit -k -t "$REALM_CLIENT_KEYTAB" -c "$kcc" -F "$client" 2>&1) \
  && klist_has "$kcc" "krbtgt/$REALM_NAME@$REALM_NAME" \
  && ! klist_has "$kcc" "krbtgt/$REALM_NAME@$REALM_NAME" F \
  && ! klist_has "$kcc" "$(principal_of test@localhost)"; then
  pass "krbap kinit -F: a new ccache with a TGT that is not forwardable"
else
  fail "krbap kinit -F: a new ccache with a TGT that is not forwardable" \
    "$out $(klist -f -c "$kcc" 2>&1)"
fi
rm -f "$kcc"
if out=$("$cli" kinit -c "$kcc" "$client" <<<"$REALM_CLIENT_PASSWORD" 2>&1) \
  && klist_has "$kcc" "krbtgt/$REALM_NAME@$REALM_NAME"; then
  pass "krbap kinit with the password on stdin: MIT klist shows the TGT"
else
  fail "krbap kinit with the password on stdin: MIT klist shows the TGT" "$out"
fi
if out=$("$cli" kinit -c "$kcc" "$client" <<<"wrong-password" 2>&1); then
  fail "krbap kinit with a wrong password fails" "$out"
elif grep -qiE "Preauthentication failed|Password incorrect" <<<"$out"; then
  pass "krbap kinit with a wrong password fails (Preauthentication failed)"
else
  fail "krbap kinit with a wrong password fails (Preauthentication failed)" "$out"
fi

# --- 4. client keytab ---------------------------------------------------------------------------
ckcc=$work/client-keytab.ccache
rm -f "$ckcc"
svc=test-aes128-sha1@localhost
KRB5_CLIENT_KTNAME=FILE:$REALM_CLIENT_KEYTAB KRB5CCNAME=FILE:$ckcc \
  exchange "KRB5_CLIENT_KTNAME, no ccache: krbap-client -> MIT gss-server, $svc" "$svc" \
  "$gss_server" "$krbap_client"
if klist_has "$ckcc" "krbtgt/$REALM_NAME@$REALM_NAME" && klist_has "$ckcc" "$(principal_of "$svc")"; then
  pass "client keytab: MIT klist shows the TGT and the service ticket in the new ccache"
else
  fail "client keytab: MIT klist shows the TGT and the service ticket in the new ccache" \
    "$(klist -c "$ckcc" 2>&1)"
fi
rm -f "$ckcc"
svc=test-aes256-sha1@localhost
exchange "krbap-client -client-keytab (acquire_cred_from), no ccache -> krbap-server, $svc" "$svc" \
  "$krbap_server" "$client_bin -port @PORT@ -ccache $ckcc -client-keytab $REALM_CLIENT_KEYTAB"
if klist_has "$ckcc" "$(principal_of "$svc")"; then
  pass "-client-keytab: the ticket was stored in the -ccache"
else
  fail "-client-keytab: the ticket was stored in the -ccache" "$(klist -c "$ckcc" 2>&1)"
fi
# An expired TGT is replaced by a new one from the client keytab.
fresh_tgt -l 3s || bail "setup: kinit -l 3s" "$(cat "$work/kinit.err")"
old_start=$(klist -c "$ccache" | awk '$NF ~ /^krbtgt\// { print $1, $2 }')
sleep 4
KRB5_CLIENT_KTNAME=FILE:$REALM_CLIENT_KEYTAB exchange \
  "expired TGT + KRB5_CLIENT_KTNAME: krbap-client -> MIT gss-server, $svc" "$svc" "$gss_server" \
  "$krbap_client"
new_start=$(klist -c "$ccache" | awk '$NF ~ /^krbtgt\// { print $1, $2 }')
if [ -n "$new_start" ] && [ "$new_start" != "$old_start" ] \
  && klist_has "$ccache" "$(principal_of "$svc")"; then
  pass "expired TGT renewed from the client keytab and stored"
else
  fail "expired TGT renewed from the client keytab and stored" "$(klist -c "$ccache" 2>&1)"
fi
fresh_tgt -l 3s || bail "setup: kinit -l 3s" "$(cat "$work/kinit.err")"
sleep 4
client_fails "expired TGT without a client keytab: krbap-client fails (Matching credential not found)" \
  test@localhost "Matching credential not found"

# --- 5. delegation ------------------------------------------------------------------------------
deleg_done="client:delegation done"
svc=test-aes256-sha1@localhost
fresh_tgt -f || bail "setup: kinit -f" "$(cat "$work/kinit.err")"
exchange "delegation: krbap-client -d -> MIT gss-server, $svc" "$svc" "$gss_server" \
  "$client_bin -port @PORT@ -d" "$deleg_done" "server:context flag: GSS_C_DELEG_FLAG"
if /usr/bin/python3 -c 'import gssapi' 2>/dev/null; then
  dcc=$work/python-deleg.ccache
  rm -f "$dcc"
  svc=test-aes128-sha256@localhost
  exchange "delegation: krbap-client -d -> python3-gssapi (MIT) storing it, $svc" "$svc" \
    "/usr/bin/python3 $root/tests/interop/gssapi_peer.py accept @PORT@ @SVC@ $dcc" \
    "$client_bin -port @PORT@ -d" "$deleg_done" "server:Delegated credentials stored in $dcc"
  if klist_has "$dcc" "krbtgt/$REALM_NAME@$REALM_NAME" f \
    && klist -c "$dcc" | grep -qx "Default principal: $client"; then
    pass "MIT klist of python3-gssapi's delegated ccache: alice's forwarded krbtgt"
  else
    fail "MIT klist of python3-gssapi's delegated ccache: alice's forwarded krbtgt" \
      "$(klist -f -c "$dcc" 2>&1)"
  fi
  if out=$(KRB5CCNAME=FILE:$dcc kvno "$(principal_of test@localhost)" 2>&1); then
    pass "MIT kvno works with the delegated TGT"
  else
    fail "MIT kvno works with the delegated TGT" "$out"
  fi
else
  fail "python3-gssapi" "/usr/bin/python3 cannot import gssapi (install python3-gssapi)"
fi
kdcc=$work/krbap-deleg.ccache
rm -f "$kdcc"
svc=test-aes256-sha384@localhost
exchange "delegation: krbap-client -d -> krbap-server -deleg-ccache, $svc" "$svc" \
  "$server_bin -port @PORT@ -once -deleg-ccache $kdcc @SVC@" "$client_bin -port @PORT@ -d" \
  "$deleg_done" "server:delegated credentials stored in $kdcc"
if klist_has "$kdcc" "krbtgt/$REALM_NAME@$REALM_NAME" f; then
  pass "MIT klist of krbap-server's delegated ccache: a forwarded krbtgt"
else
  fail "MIT klist of krbap-server's delegated ccache: a forwarded krbtgt" "$(klist -f -c "$kdcc" 2>&1)"
fi
# The forwarded TGT is not stored in the client's own ccache (MIT does not either).
if ! klist -f -c "$ccache" | grep -A1 "krbtgt/$REALM_NAME@$REALM_NAME" | grep -q 'Flags: .*f'; then
  pass "the client's ccache holds no forwarded TGT"
else
  fail "the client's ccache holds no forwarded TGT" "$(klist -f -c "$ccache")"
fi
fresh_tgt -F || bail "setup: kinit -F" "$(cat "$work/kinit.err")"
svc=test-aes128-sha1@localhost
exchange "non-forwardable TGT: krbap-client -d -> MIT gss-server works, no delegation" "$svc" \
  "$gss_server" "$client_bin -port @PORT@ -d" "client:delegation requested but not done" \
  "server:!GSS_C_DELEG_FLAG"

# --- 6. the KDC stopped -------------------------------------------------------------------------
fresh_tgt || bail "setup: kinit" "$(cat "$work/kinit.err")"
svc=test-aes256-sha1@localhost
exchange "before stopping the KDC: krbap-client -> MIT gss-server, $svc" "$svc" "$gss_server" \
  "$krbap_client"
tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
exchange "KDC stopped, ticket stored: krbap-client -> krbap-server, $svc" "$svc" "$krbap_server" \
  "$krbap_client"
exchange "KDC stopped, ticket stored: krbap-client -> MIT gss-server, $svc" "$svc" "$gss_server" \
  "$krbap_client"
client_fails "KDC stopped, ticket not stored: 'Cannot contact any KDC for requested realm'" \
  test-aes128-sha1@localhost "Cannot contact any KDC for requested realm"

summary
