#!/usr/bin/env bash
# interop-spnego.sh - SPNEGO (RFC 4178) between krbap and independent implementations, in a
# throwaway MIT realm (tests/interop/realm.sh), without HTTP:
#   1. MIT gss-client -spnego -> krbap-server: every service of the realm, mutual,
#      -nomutual, -nx, -d (the delegated TGT stored by krbap-server, used by MIT's kvno)
#   2. krbap-client -spnego -> MIT gss-server: every service, mutual and -nomutual
#   3. python3-gssapi's SPNEGO initiator -> krbap-server and krbap-client -spnego ->
#      python3-gssapi's acceptor (which sees a SPNEGO token): every service; -nomutual
#   4. errors across: MIT's gss-client -spnego prints the "Clock skew too great" of the
#      KRB-ERROR inside krbap-server's reject, krbap-client -spnego the one inside MIT's
#   5. token level, in one process (tests/interop/spnego_matrix.py, krbap through its C
#      ABI): hand-built NegTokenInits against krbap's AND MIT's acceptor, Windows-style
#      answers to krbap's AND MIT's initiator, pyspnego both ways, Heimdal's SPNEGO both
#      ways (its libraries unpacked by tests/interop/heimdal.sh beside MIT's)
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
. tests/interop/lib.sh
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-interop-spnego.XXXXXX") || exit 2
started=()
trap interop_cleanup EXIT
trap 'exit 130' INT TERM

# --- setup ---------------------------------------------------------------------------------
for c in gss-client gss-server kvno klist cc; do
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
services="test@localhost test-aes256-sha1@localhost test-aes128-sha1@localhost
  test-aes256-sha384@localhost test-aes128-sha256@localhost"

# exchange NAME SERVICE SERVER_CMD CLIENT_CMD [CLIENT_PATTERN [SERVER_PATTERN]]: one
# connection; checks exit statuses, "Signature verified.", the server's view of the client,
# and the given patterns (fixed strings) in the client's and the server's output.
exchange() {
  local name=$1 cpat=${5:-} spat=${6:-} problems
  if ! gss_exchange "$2" "$3" "$4" "hello over SPNEGO ${1// /_}" "$client"; then
    fail "$name" "$EXCHANGE_PROBLEMS"
    return
  fi
  problems=$EXCHANGE_PROBLEMS
  if [ -n "$cpat" ] && ! grep -qF -- "$cpat" "$EXCHANGE_CLOG"; then problems+="client lacks '$cpat'; "; fi
  if [ -n "$spat" ] && ! grep -qF -- "$spat" "$EXCHANGE_SLOG"; then problems+="server lacks '$spat'; "; fi
  verdict "$name" "$problems" "$EXCHANGE_CLOG" "$EXCHANGE_SLOG"
}

krbap_server_saw_spnego="SPNEGO negotiated Kerberos 5"
krbap_client_spnego="inside a SPNEGO NegTokenInit"

# --- 1. MIT gss-client -spnego -> krbap-server ----------------------------------------------
for svc in $services; do
  exchange "MIT gss-client -spnego -> krbap-server, $svc" "$svc" \
    "$server_bin -port @PORT@ -once @SVC@" "gss-client -port @PORT@ -spnego localhost @SVC@ @MSG@" \
    "" "$krbap_server_saw_spnego"
done
for opt in -nomutual -nx; do
  exchange "MIT gss-client -spnego $opt -> krbap-server" test@localhost \
    "$server_bin -port @PORT@ -once @SVC@" \
    "gss-client -port @PORT@ -spnego $opt localhost @SVC@ @MSG@" "" "$krbap_server_saw_spnego"
done
deleg=$work/delegated.ccache
exchange "MIT gss-client -spnego -d -> krbap-server (delegation through SPNEGO)" test@localhost \
  "$server_bin -port @PORT@ -once -deleg-ccache FILE:$deleg @SVC@" \
  "gss-client -port @PORT@ -spnego -d localhost @SVC@ @MSG@" "" "delegated credentials stored"
if out=$(KRB5CCNAME="FILE:$deleg" timeout 20 kvno test-aes128-sha1/localhost@TEST.LOCAL 2>&1) \
  && klist -f -c "FILE:$deleg" 2>&1 | grep -q "Default principal: $client"; then
  pass "the TGT delegated through SPNEGO gets a service ticket from MIT's KDC (kvno, klist)"
else
  fail "the TGT delegated through SPNEGO gets a service ticket from MIT's KDC" "$out"
fi

# --- 2. krbap-client -spnego -> MIT gss-server ----------------------------------------------
for svc in $services; do
  for opt in "" -nomutual; do
    exchange "krbap-client -spnego ${opt:+$opt }-> MIT gss-server, $svc" "$svc" \
      "gss-server -port @PORT@ -once @SVC@" \
      "$client_bin -port @PORT@ -spnego $opt localhost @SVC@ @MSG@" "$krbap_client_spnego"
  done
done

# --- 3. python3-gssapi (MIT's SPNEGO) ---------------------------------------------------------
if /usr/bin/python3 -c 'import gssapi' 2>/dev/null; then
  peer="/usr/bin/python3 $root/tests/interop/gssapi_peer.py"
  for svc in $services; do
    exchange "python3-gssapi SPNEGO -> krbap-server, $svc" "$svc" \
      "$server_bin -port @PORT@ -once @SVC@" "$peer initiate -spnego @PORT@ @SVC@ @MSG@" \
      "" "$krbap_server_saw_spnego"
    exchange "krbap-client -spnego -> python3-gssapi, $svc" "$svc" \
      "$peer accept @PORT@ @SVC@" "$client_bin -port @PORT@ -spnego localhost @SVC@ @MSG@" \
      "$krbap_client_spnego" "Initial token mechanism: SPNEGO"
  done
  exchange "python3-gssapi SPNEGO -nomutual -nx -> krbap-server" test@localhost \
    "$server_bin -port @PORT@ -once @SVC@" \
    "$peer initiate -spnego -nomutual -nx @PORT@ @SVC@ @MSG@" "" "$krbap_server_saw_spnego"
  exchange "krbap-client -spnego -nomutual -nx -> python3-gssapi" test@localhost \
    "$peer accept @PORT@ @SVC@" \
    "$client_bin -port @PORT@ -spnego -nomutual -nx localhost @SVC@ @MSG@" \
    "$krbap_client_spnego" "Initial token mechanism: SPNEGO"
else
  fail "python3-gssapi" "/usr/bin/python3 cannot import gssapi (install python3-gssapi)"
fi

# --- 4. the KRB-ERROR inside a SPNEGO reject, shown on the other side -----------------------
slog=$work/server.log clog=$work/client.log problems=""
if start_server "$slog" "$server_bin" -port @PORT@ -once -time "$(($(date +%s) + 3600))" \
  test@localhost; then
  timeout 30 gss-client -port "$PORT" -spnego localhost test@localhost skew >"$clog" 2>&1 </dev/null
  rc=$?
  finish_server
  { [ "$rc" != 0 ] && [ "$rc" != 124 ]; } || problems+="client exit status $rc; "
  grep -q 'GSS-API error initializing context: Clock skew too great' "$clog" \
    || problems+="MIT's client did not print 'Clock skew too great'; "
  grep -q 'sending SPNEGO reject token' "$slog" || problems+="server sent no SPNEGO reject; "
  verdict "MIT gss-client -spnego shows 'Clock skew too great' from krbap-server's reject" \
    "$problems" "$clog" "$slog"
else
  fail "skew, MIT client" "server did not start: $(tail -n 10 "$slog")"
fi
problems=""
if start_server "$slog" gss-server -port @PORT@ -once test@localhost; then
  timeout 30 "$client_bin" -port "$PORT" -spnego -time "$(($(date +%s) + 3600))" localhost \
    test@localhost skew >"$clog" 2>&1 </dev/null
  rc=$?
  kill -TERM "$SERVER_PID" 2>/dev/null
  finish_server
  { [ "$rc" != 0 ] && [ "$rc" != 124 ]; } || problems+="client exit status $rc; "
  grep -q 'initializing context (minor -1765328347): Clock skew too great' "$clog" \
    || problems+="krbap-client did not show KRB5KRB_AP_ERR_SKEW from MIT's reject; "
  verdict "krbap-client -spnego shows 'Clock skew too great' from MIT gss-server's reject" \
    "$problems" "$clog" "$slog"
else
  fail "skew, krbap client" "server did not start: $(tail -n 10 "$slog")"
fi

# --- 5. token level: hand-built tokens, Windows-style answers, pyspnego -----------------------
if py=$(tests/interop/pyvenv.sh 2>"$work/pyvenv.log"); then
  matrix_args=()
else
  echo "      (pyspnego venv unavailable, token matrix without pyspnego: $(tail -n 3 "$work/pyvenv.log"))"
  py=/usr/bin/python3
  matrix_args=(--no-pyspnego)
  fail "pyspnego venv (tests/interop/pyvenv.sh)" "$(tail -n 20 "$work/pyvenv.log")"
fi
# Heimdal's libraries, unpacked beside MIT's (their Debian packages conflict with MIT's).
if heimdal_peer=$(tests/interop/heimdal.sh 2>"$work/heimdal.log"); then
  matrix_args+=(--heimdal "$heimdal_peer")
else
  fail "Heimdal's libgssapi (tests/interop/heimdal.sh)" "$(tail -n 20 "$work/heimdal.log")"
fi
timeout 300 "$py" tests/interop/spnego_matrix.py "$release/libkrbap.so" "${matrix_args[@]}" \
  >"$work/matrix.log" 2>&1
matrix_rc=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$work/matrix.log"
if counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/matrix.log" | tail -n 1) \
  && [ -n "$counts" ]; then
  T_PASS=$((T_PASS + ${counts%% passed*}))
  n_failed=${counts#*passed, }
  T_FAIL=$((T_FAIL + ${n_failed%% failed}))
  [ "$matrix_rc" = 0 ] || [ "${n_failed%% failed}" != 0 ] \
    || fail "spnego_matrix.py exit status $matrix_rc"
else
  fail "spnego_matrix.py printed no summary (exit status $matrix_rc)" "$(tail -n 20 "$work/matrix.log")"
fi

summary
