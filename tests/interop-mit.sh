#!/usr/bin/env bash
# interop-mit.sh - krbap's example programs against MIT krb5 1.20 in a throwaway realm
# (tests/interop/realm.sh):
#   1. MIT gss-client -> krbap-server, every service of the realm (mutual, -nomutual, -nw, -nx)
#   2. krbap-client -> MIT gss-server, same services (mutual and -nomutual)
#   3. python3-gssapi initiator -> krbap-server and krbap-client -> python3-gssapi acceptor,
#      every service; -nomutual and -nx both ways; python3-gssapi -d -> krbap-server
#   4. MIT gss-client shows "Clock skew too great" from a krbap-server an hour behind
#   5. replays: MIT's token sent twice to krbap-server, krbap's token offered twice to MIT
#   6. MIT gss-client shows "Key version is not available" (krbap's KRB_AP_ERR_BADKEYVER)
#   7. delegation: MIT gss-client -d -> krbap-server; MIT's klist and kvno use what it stored
#   8. the UTF-8 client jürgen@TEST.LOCAL both ways
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
. tests/interop/lib.sh
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-interop-mit.XXXXXX") || exit 2
started=()  # pids of the servers this script started (each a `timeout` wrapper)
trap interop_cleanup EXIT
trap 'exit 130' INT TERM

# --- setup ---------------------------------------------------------------------------------
for c in gss-client gss-server kvno cc; do
  command -v "$c" >/dev/null || bail "setup: $c not found (install krb5-gss-samples, krb5-user)"
done
[ -e "$release/libkrbap.so" ] || bail "setup: $release/libkrbap.so missing (cargo build --release)"

server_bin=$(build_example krbap-server) || bail "setup: building krbap-server" "$server_bin"
client_bin=$(build_example krbap-client) || bail "setup: building krbap-client" "$client_bin"

if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
client=alice@TEST.LOCAL

# Services as GSS host-based names, each with the session enctype the KDC must pick.
declare -A session_enctype=(
  [test@localhost]=""
  [test-aes256-sha1@localhost]=aes256-cts-hmac-sha1-96
  [test-aes128-sha1@localhost]=aes128-cts-hmac-sha1-96
  [test-aes256-sha384@localhost]=aes256-cts-hmac-sha384-192
  [test-aes128-sha256@localhost]=aes128-cts-hmac-sha256-128
)
services="test@localhost test-aes256-sha1@localhost test-aes128-sha1@localhost
  test-aes256-sha384@localhost test-aes128-sha256@localhost"

# alice's ccache holds only the TGT kinit got: both initiators fetch service tickets themselves.

# exchange NAME SERVICE SERVER_CMD CLIENT_CMD: one connection; checks exit statuses, the
# client's "Signature verified.", the server's view of the client and the session enctype.
# CLIENT_CMD and SERVER_CMD are words with @PORT@, @SVC@ and @MSG@ placeholders.
exchange() {
  local name=$1 svc=$2 problems want
  if ! gss_exchange "$svc" "$3" "$4" "hello from ${1// /_}" "$client"; then
    fail "$name" "$EXCHANGE_PROBLEMS"
    return
  fi
  problems=$EXCHANGE_PROBLEMS
  want=${session_enctype[$svc]}
  if [ -n "$want" ] && ! grep -qF "session key $want" "$EXCHANGE_SLOG" "$EXCHANGE_CLOG"; then
    problems+="session key is not $want; "
  fi
  verdict "$name" "$problems" "$EXCHANGE_CLOG" "$EXCHANGE_SLOG"
}

# --- 1. MIT gss-client -> krbap-server ------------------------------------------------------
for svc in $services; do
  exchange "MIT gss-client -> krbap-server, $svc, mutual" "$svc" \
    "$server_bin -port @PORT@ -once @SVC@" "gss-client -port @PORT@ localhost @SVC@ @MSG@"
done
for opt in -nomutual -nw -nx; do
  for svc in test@localhost test-aes128-sha256@localhost; do
    exchange "MIT gss-client $opt -> krbap-server, $svc" "$svc" \
      "$server_bin -port @PORT@ -once @SVC@" "gss-client -port @PORT@ $opt localhost @SVC@ @MSG@"
  done
done

# --- 2. krbap-client -> MIT gss-server ------------------------------------------------------
for svc in $services; do
  for opt in "" -nomutual; do
    exchange "krbap-client ${opt:+$opt }-> MIT gss-server, $svc" "$svc" \
      "gss-server -port @PORT@ -once @SVC@" "$client_bin -port @PORT@ $opt localhost @SVC@ @MSG@"
  done
done

# --- 3. python3-gssapi ---------------------------------------------------------------------
if /usr/bin/python3 -c 'import gssapi' 2>/dev/null; then
  peer="/usr/bin/python3 $root/tests/interop/gssapi_peer.py"
  for svc in $services; do
    exchange "python3-gssapi -> krbap-server, $svc" "$svc" \
      "$server_bin -port @PORT@ -once @SVC@" "$peer initiate @PORT@ @SVC@ @MSG@"
    exchange "krbap-client -> python3-gssapi, $svc" "$svc" \
      "$peer accept @PORT@ @SVC@" "$client_bin -port @PORT@ localhost @SVC@ @MSG@"
  done
  # The same options as MIT's samples: no mutual authentication, integrity-only Wrap.
  for opt in -nomutual -nx; do
    exchange "python3-gssapi $opt -> krbap-server, test@localhost" test@localhost \
      "$server_bin -port @PORT@ -once @SVC@" "$peer initiate $opt @PORT@ @SVC@ @MSG@"
    exchange "krbap-client $opt -> python3-gssapi, test@localhost" test@localhost \
      "$peer accept @PORT@ @SVC@" "$client_bin -port @PORT@ $opt localhost @SVC@ @MSG@"
  done
  # Delegation from MIT's library: krbap-server stores it, MIT's klist lists it.
  pydeleg=$work/py-delegated.ccache
  exchange "python3-gssapi -d -> krbap-server (delegation)" test-aes256-sha384@localhost \
    "$server_bin -port @PORT@ -once -deleg-ccache FILE:$pydeleg @SVC@" \
    "$peer initiate -d @PORT@ @SVC@ @MSG@"
  if klist -f -c "FILE:$pydeleg" >"$work/pydeleg.klist" 2>&1 \
    && grep -q "Default principal: $client" "$work/pydeleg.klist" \
    && grep -A1 'krbtgt/TEST.LOCAL@TEST.LOCAL' "$work/pydeleg.klist" | grep -q 'Flags: .*F'; then
    pass "MIT klist reads the credential python3-gssapi delegated to krbap-server"
  else
    fail "MIT klist reads the credential python3-gssapi delegated to krbap-server" \
      "$(cat "$work/pydeleg.klist" 2>&1)"
  fi
else
  fail "python3-gssapi" "/usr/bin/python3 cannot import gssapi (install python3-gssapi)"
fi

# --- 4. MIT displays krbap's KRB-ERROR ------------------------------------------------------
# skew_case NAME OFFSET PATTERN: krbap-server's clock OFFSET s off; the MIT client must fail
# and print PATTERN (extended regex, case-insensitive).
skew_case() {
  local name=$1 offset=$2 pattern=$3 slog=$work/server.log clog=$work/client.log rc problems=""
  if ! start_server "$slog" "$server_bin" -port @PORT@ -once -time "$(($(date +%s) + offset))" \
    test@localhost; then
    fail "$name" "server did not start: $(tail -n 10 "$slog")"
    return
  fi
  timeout 30 gss-client -port "$PORT" localhost test@localhost skew >"$clog" 2>&1 </dev/null
  rc=$?
  finish_server
  [ "$rc" != 0 ] || problems+="client succeeded; "
  [ "$rc" != 124 ] || problems+="client timed out; "
  grep -qiE "$pattern" "$clog" || problems+="client did not print /$pattern/; "
  grep -q '^Signature verified' "$clog" && problems+="client verified a signature; "
  grep -qF 'Accepted connection' "$slog" && problems+="server accepted the client; "
  verdict "$name" "$problems" "$clog" "$slog"
}
# An hour ahead: the ticket is valid, only the authenticator's time is out of the skew.
skew_case "MIT gss-client shows 'Clock skew too great' from a krbap-server 1 h ahead" 3600 \
  'GSS-API error initializing context: Clock skew too great'
# An hour behind: the ticket also starts in the server's future; MIT reports ticket times
# before the skew, so either text is MIT's own.
skew_case "MIT gss-client shows krbap's error from a krbap-server 1 h behind" -3600 \
  'GSS-API error initializing context: (Clock skew too great|Ticket not yet valid)'

# --- 5. replays are refused on both sides --------------------------------------------------
peer_dir=$root/tests/interop
if /usr/bin/python3 -c 'import gssapi' 2>/dev/null; then
  # MIT's token, twice to one krbap-server (file2 replay cache in a fresh directory).
  slog=$work/server.log clog=$work/client.log problems=""
  if start_server "$slog" "$server_bin" -port @PORT@ -rcache "file2:$work/replay.rcache2" \
    test@localhost; then
    timeout 30 /usr/bin/python3 "$peer_dir/replay_peer.py" send-twice "$PORT" test@localhost \
      >"$clog" 2>&1 </dev/null || problems+="replay_peer exit status $?; "
    kill -TERM "$SERVER_PID" 2>/dev/null; finish_server
    grep -qx 'first: AP-REP' "$clog" || problems+="first token not accepted; "
    grep -qx 'second: KRB-ERROR' "$clog" || problems+="replay not answered with a KRB-ERROR; "
    grep -q 'Request is a replay' "$slog" || problems+="server did not report the replay; "
    [ "$(grep -c '^Accepted connection' "$slog")" = 1 ] || problems+="server accepted twice; "
    verdict "MIT's token replayed to krbap-server: refused (Request is a replay)" "$problems" \
      "$clog" "$slog"
  else
    fail "MIT's token replayed to krbap-server" "server did not start: $(tail -n 10 "$slog")"
  fi
  # krbap's token, twice to MIT's acceptor.
  problems=""
  if start_server "$slog" /usr/bin/python3 "$peer_dir/replay_peer.py" accept-twice @PORT@ \
    test@localhost; then
    timeout 30 "$client_bin" -port "$PORT" localhost test@localhost replay >"$clog" 2>&1 </dev/null \
      || problems+="client exit status $?; "
    finish_server
    [ "$SERVER_RC" = 0 ] || problems+="MIT acceptor exit status $SERVER_RC; "
    grep -qF "Accepted connection: \"$client\"" "$slog" || problems+="first token not accepted; "
    grep -q '^replay refused: .*Request is a replay' "$slog" || problems+="MIT did not refuse the replay; "
    verdict "krbap's token replayed to MIT's acceptor: refused (Request is a replay)" "$problems" \
      "$clog" "$slog"
  else
    fail "krbap's token replayed to MIT's acceptor" "acceptor did not start: $(tail -n 10 "$slog")"
  fi
fi

# --- 6. MIT displays krbap's KRB-ERROR for a key version the keytab does not have ----------
# A keytab holding test/localhost only at kvno 7 (another password): the ticket's kvno 1 is
# unknown to krbap-server, which answers KRB_AP_ERR_BADKEYVER.
kvno_kt=$work/kvno7.keytab
if "$release/krbap" keytab add --principal test/localhost@TEST.LOCAL --kvno 7 \
  --enctype aes256-cts-hmac-sha1-96 --password other-Passw0rd "$kvno_kt" >"$work/kt.log" 2>&1; then
  slog=$work/server.log clog=$work/client.log problems=""
  if start_server "$slog" "$server_bin" -port @PORT@ -once -keytab "FILE:$kvno_kt" test@localhost; then
    timeout 30 gss-client -port "$PORT" localhost test@localhost kvno >"$clog" 2>&1 </dev/null
    rc=$?
    finish_server
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || problems+="client exit status $rc; "
    grep -q 'GSS-API error initializing context: Key version is not available' "$clog" \
      || problems+="client did not print MIT's 'Key version is not available'; "
    grep -qF 'Accepted connection' "$slog" && problems+="server accepted the client; "
    verdict "MIT gss-client shows 'Key version is not available' from krbap-server" "$problems" \
      "$clog" "$slog"
  else
    fail "wrong key version" "server did not start: $(tail -n 10 "$slog")"
  fi
else
  fail "wrong key version: krbap keytab add" "$(cat "$work/kt.log")"
fi

# --- 7. delegation: MIT gss-client -d -> krbap-server, the stored credential is usable ------
deleg=$work/delegated.ccache
exchange "MIT gss-client -d -> krbap-server (delegation)" test@localhost \
  "$server_bin -port @PORT@ -once -deleg-ccache FILE:$deleg @SVC@" \
  "gss-client -port @PORT@ -d localhost @SVC@ @MSG@"
if klist -f -c "FILE:$deleg" >"$work/deleg.klist" 2>&1 \
  && grep -q "Default principal: $client" "$work/deleg.klist" \
  && grep -A1 'krbtgt/TEST.LOCAL@TEST.LOCAL' "$work/deleg.klist" | grep -q 'Flags: .*F'; then
  pass "MIT klist reads the delegated ccache krbap stored (forwarded TGT of $client)"
else
  fail "MIT klist reads the delegated ccache krbap stored" "$(cat "$work/deleg.klist" 2>&1)"
fi
if out=$(KRB5CCNAME="FILE:$deleg" timeout 20 kvno test-aes128-sha1/localhost@TEST.LOCAL 2>&1); then
  pass "the delegated TGT gets a new service ticket from MIT's KDC (kvno)"
else
  fail "the delegated TGT gets a new service ticket from MIT's KDC (kvno)" "$out"
fi

# --- 8. a UTF-8 client principal, end to end ------------------------------------------------
jcc=$work/jurgen.ccache
if out=$(printf '%s\n' jurgen-Passw0rd | KRB5CCNAME="FILE:$jcc" timeout 20 kinit jürgen@TEST.LOCAL 2>&1); then
  saved_client=$client
  client=jürgen@TEST.LOCAL
  KRB5CCNAME="FILE:$jcc" exchange "MIT gss-client as the UTF-8 client -> krbap-server" test@localhost \
    "$server_bin -port @PORT@ -once @SVC@" "gss-client -port @PORT@ localhost @SVC@ @MSG@"
  KRB5CCNAME="FILE:$jcc" exchange "krbap-client as the UTF-8 client -> MIT gss-server" test@localhost \
    "gss-server -port @PORT@ -once @SVC@" "$client_bin -port @PORT@ localhost @SVC@ @MSG@"
  client=$saved_client
else
  fail "UTF-8 client: kinit/kvno jürgen@TEST.LOCAL" "$out"
fi

summary
