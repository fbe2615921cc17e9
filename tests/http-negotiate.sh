#!/usr/bin/env bash
# http-negotiate.sh - HTTP Negotiate (RFC 4559) with real clients and two servers, in a
# throwaway realm (tests/interop/realm.sh) on loopback, everything under one temp dir:
#   servers  krbap-http-server (examples/) and the reference, Apache httpd with
#            mod_auth_gssapi (MIT's acceptor; /neg/ per request, /neg-cb/ connection-bound
#            for multi-leg exchanges), both for HTTP/localhost@TEST.LOCAL
#   clients  curl --negotiate, headless Chromium (Negotiate allowlist, seeded profile),
#            requests-gssapi, pyspnego, python-gssapi, krbap-http-client; each must get the
#            page with alice's name and, where it can check it, verify the final token
#   also     401 without a ticket; multi-leg SPNEGO on one keep-alive connection (no
#            optimistic token, NTLM or NegoEx listed first, the Microsoft OID first);
#            krbap-http-client -> a pyspnego HTTP acceptor (and its damaged or missing final
#            token refused); SPNEGO offering only NTLM; krbap-http-server: a replayed
#            token, the -allow list (403), hostile requests (garbage, oversized heads and
#            tokens, slow heads, too many connections) with the server serving afterwards
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
. tests/interop/lib.sh
. tests/interop/apache.sh  # start_apache, stop_apache
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-http.XXXXXX") || exit 2
started=()     # pids of the servers this script started (each a `timeout` wrapper)

cleanup() {
  stop_apache
  interop_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- setup -----------------------------------------------------------------------------------
for c in curl chromium apache2 cc; do
  command -v "$c" >/dev/null || bail "setup: $c not found (scripts/install-deps.sh installs it)"
done
[ -e /usr/lib/apache2/modules/mod_auth_gssapi.so ] ||
  bail "setup: mod_auth_gssapi missing (libapache2-mod-auth-gssapi)"
[ -e "$release/libkrbap.so" ] || bail "setup: $release/libkrbap.so missing (cargo build --release)"

# The HTTP examples, as `make examples` builds them (or built here when that copy is stale).
http_example() {
  local name=$1 bin=$root/build/examples/$1
  if [ -x "$bin" ] && [ "$bin" -nt "$release/libkrbap.so" ] && [ "$bin" -nt "$root/examples/$name.c" ] &&
     [ "$bin" -nt "$root/examples/http_common.c" ]; then
    echo "$bin"; return 0
  fi
  bin=$work/$name
  cc -std=c11 -Wall -Wextra -Werror -pedantic -pthread -I"$root/include" "$root/examples/$name.c" \
    "$root/examples/http_common.c" "$root/examples/common.c" -L"$release" -lkrbap \
    -Wl,-rpath,"$release" -o "$bin" >"$work/$name.cc.log" 2>&1 || { cat "$work/$name.cc.log"; return 1; }
  echo "$bin"
}
server_bin=$(http_example krbap-http-server) || bail "setup: building krbap-http-server" "$server_bin"
client_bin=$(http_example krbap-http-client) || bail "setup: building krbap-http-client" "$client_bin"
py=$(tests/interop/pyvenv.sh 2>"$work/pyvenv.log") || bail "setup: tests/interop/pyvenv.sh" "$(tail -n 20 "$work/pyvenv.log")"
peers=$root/tests/interop/http_peers.py

if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
# The HTTP service: HTTP/localhost (clients ask for HTTP@localhost, from the URL's host).
for q in "addprinc -randkey HTTP/localhost" "ktadd -k $work/http.keytab HTTP/localhost"; do
  out=$(kadmin.local -r TEST.LOCAL -q "$q" </dev/null 2>&1) || bail "setup: kadmin.local $q" "$out"
done
user=alice@TEST.LOCAL
empty_cc=FILE:$work/no-ticket.ccache   # does not exist: no credentials at all

# start_bg LOG CMD...: like lib.sh's start_server, for servers that live through the whole
# script (a 10-minute timeout bounds them).
start_bg() {
  local log=$1 attempt a i; shift
  for attempt in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 12000))
    port_busy "$PORT" && continue
    local -a cmd=()
    for a in "$@"; do cmd+=("${a//@PORT@/$PORT}"); done
    timeout 600 "${cmd[@]}" >"$log" 2>&1 </dev/null &
    SERVER_PID=$!
    started+=("$SERVER_PID")
    for i in $(seq 100); do
      grep -q '^starting\.\.\.' "$log" 2>/dev/null && return 0
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  done
  return 1
}

# krbap-http-server: the main one (file2 replay cache), one with short timeouts and few
# connections for the hostile requests, one that allows only bob (403 for alice).
start_bg "$work/krbap.log" "$server_bin" -port @PORT@ -keytab "$work/http.keytab" \
  -rcache "file2:$work/krbap.rcache2" || bail "setup: krbap-http-server" "$(cat "$work/krbap.log")"
krbap_port=$PORT
# The hostile requests go to a build with AddressSanitizer + UBSan: a memory error or
# undefined behaviour in the HTTP parsing stops it with a report.
cc -std=c11 -Wall -Wextra -Werror -pedantic -pthread -fsanitize=address,undefined -fno-omit-frame-pointer -g \
  -I"$root/include" "$root/examples/krbap-http-server.c" "$root/examples/http_common.c" "$root/examples/common.c" \
  -L"$release" -lkrbap -Wl,-rpath,"$release" -o "$work/krbap-http-server.asan" >"$work/asan.cc.log" 2>&1 ||
  bail "setup: building krbap-http-server with ASan" "$(cat "$work/asan.cc.log")"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
start_bg "$work/hostile.log" "$work/krbap-http-server.asan" -port @PORT@ -keytab "$work/http.keytab" \
  -header-timeout 2 -idle-timeout 3 -max-conns 8 || bail "setup: krbap-http-server (hostile)" "$(cat "$work/hostile.log")"
hostile_port=$PORT
start_bg "$work/allow.log" "$server_bin" -port @PORT@ -bind 127.0.0.1 -keytab "$work/http.keytab" \
  -allow bob@TEST.LOCAL || bail "setup: krbap-http-server -allow" "$(cat "$work/allow.log")"
allow_port=$PORT
# pyspnego as an HTTP acceptor (for krbap's initiator).
KRB5_KTNAME=FILE:$work/http.keytab start_bg "$work/pyspnego.log" "$py" "$peers" server @PORT@ ||
  bail "setup: pyspnego acceptor" "$(cat "$work/pyspnego.log")"
pyspnego_port=$PORT

# Apache + mod_auth_gssapi (tests/interop/apache.sh).
start_apache "$work/apache" "$work/http.keytab" || bail "setup: Apache" "$(cat "$work/apache/start.log" "$work/apache/logs/error.log" 2>/dev/null | tail -n 20)"

# Chromium: a profile seeded so that the first Negotiate challenge works (without
# net.received_http_auth_negotiate_headers, Linux Chromium loads no GSS-API library until a
# Negotiate challenge has been seen once, and that first challenge fails).
profile=$work/chromium-profile
mkdir -p "$profile" "$work/home"
printf '{"net":{"received_http_auth_negotiate_headers":true},"auth":{"server_allowlist":"localhost"}}\n' \
  >"$profile/Local State"
chromium_dom() {  # chromium_dom URL OUT [KRB5CCNAME]: the page's DOM after authentication
  local cc=${3:-$KRB5CCNAME}
  HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache \
    KRB5CCNAME=$cc timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --auth-server-allowlist=localhost --user-data-dir="$profile" \
    --dump-dom "$1" >"$2" 2>"$2.stderr"
}

# expect NAME FILE PATTERN...: passes when every grep -E pattern is in FILE.
expect() {
  local name=$1 file=$2 p missing=""; shift 2
  for p in "$@"; do grep -qE -- "$p" "$file" || missing="$missing '$p'"; done
  if [ -z "$missing" ]; then pass "$name"; else fail "$name" "missing$missing in:
$(head -c 1500 "$file")"; fi
}

run() {  # run OUT CMD...: output and stderr to OUT, then the exit status as a last line
  local out=$1; shift
  timeout 120 "$@" >"$out" 2>&1
  printf '\nexit %d\n' $? >>"$out"
}

page_user="<p id=\"user\">$user</p>"

# --- the same matrix against both servers -------------------------------------------------
matrix() {  # matrix NAME URL MULTILEG_URL [SPNEGO_MARK KRB5_MARK]: the marks are what the page
  # says about the mechanism (krbap-http-server names it; Apache says krb5 for both)
  local s=$1 url=$2 ml=$3 spnego=${4:-} krb5=${5:-} o=$work/$1 c
  mkdir -p "$o"
  run "$o/curl-plain" curl -sS -i "$url"
  expect "$s: curl without credentials: 401 + bare Negotiate challenge" "$o/curl-plain" \
    '^HTTP/1.1 401' '^WWW-Authenticate: Negotiate.$'
  KRB5CCNAME=$empty_cc run "$o/curl-noticket" curl -sS -i --negotiate -u : "$url"
  expect "$s: curl --negotiate without a ticket: 401" "$o/curl-noticket" '^HTTP/1.1 401' '^exit 0$'
  run "$o/curl" curl -sS -i --negotiate -u : "$url"
  expect "$s: curl --negotiate: 200, alice's page" "$o/curl" '^HTTP/1.1 200' "$page_user" "$spnego" '^exit 0$'
  chromium_dom "$url" "$o/chromium.html"
  expect "$s: headless Chromium: alice's page in the DOM" "$o/chromium.html" "$page_user" "$spnego"
  chromium_dom "$url" "$o/chromium-noticket.html" "$empty_cc"
  if grep -q 'id="user"' "$o/chromium-noticket.html" || ! grep -q '<body' "$o/chromium-noticket.html"; then
    fail "$s: headless Chromium without a ticket: the 401 page" "$(head -c 800 "$o/chromium-noticket.html")"
  else
    pass "$s: headless Chromium without a ticket: the 401 page"
  fi
  run "$o/requests" "$py" "$peers" requests "$url"
  expect "$s: requests-gssapi (mutual REQUIRED): 200, alice" "$o/requests" '^status 200' "^user=$user\$" \
    "$spnego" '^exit 0$'
  run "$o/pyspnego" "$py" "$peers" pyspnego "$url"
  expect "$s: pyspnego: 200, alice, final token verified" "$o/pyspnego" '^status 200' "^user=$user\$" \
    '^mutual verified' "$spnego" '^exit 0$'
  run "$o/gssapi" "$py" "$peers" gssapi "$url"
  expect "$s: python-gssapi SPNEGO: 200, alice, final token verified" "$o/gssapi" '^status 200' \
    "^user=$user\$" '^mutual verified' "$spnego" '^exit 0$'
  run "$o/gssapi-nomutual" "$py" "$peers" gssapi "$url" --nomutual
  expect "$s: python-gssapi SPNEGO without mutual authentication: 200, alice" "$o/gssapi-nomutual" \
    '^status 200' "^user=$user\$" "$spnego" '^exit 0$'
  run "$o/krbap-client" "$client_bin" "$url"
  expect "$s: krbap-http-client (SPNEGO): 200, alice, final token verified" "$o/krbap-client" \
    '^status 200' '^mechanism SPNEGO$' '^mutual authentication verified' "$page_user" "$spnego" '^exit 0$'
  run "$o/krbap-client-nomutual" "$client_bin" -nomutual "$url"
  expect "$s: krbap-http-client (SPNEGO, no mutual authentication): 200, alice" "$o/krbap-client-nomutual" \
    '^status 200' '^mutual authentication not requested' "$page_user" "$spnego" '^exit 0$'
  run "$o/krbap-client-krb5" "$client_bin" -mech krb5 -preemptive "$url"
  expect "$s: krbap-http-client (raw krb5 token, preemptive): 200, alice, verified" "$o/krbap-client-krb5" \
    '^status 200' '^mechanism krb5$' '^mutual authentication verified' "$page_user" "$krb5" '^exit 0$'
  for c in no-optimistic ntlm-first-mutual ntlm-first-nomutual negoex-first ms-oid-first; do
    run "$o/multileg-$c" "$py" "$peers" multileg "$ml" "$c"
    expect "$s: multi-leg SPNEGO on one keep-alive connection: $c" "$o/multileg-$c" \
      "^user=$user\$" 'one connection' '^exit 0$'
    sed -n 's/^legs=/      legs=/p' "$o/multileg-$c"
  done
  run "$o/ntlm-only" "$py" "$peers" ntlm-only "$url"
  expect "$s: SPNEGO listing only NTLM: 401 with MIT's 9-byte reject token" "$o/ntlm-only" \
    '^status 401 reject oQcwBaADCgEC$' '^exit 0$'
}

krbap_url=http://localhost:$krbap_port/whoami
matrix krbap "$krbap_url" "$krbap_url" '(<p id="mech">|^mech=)SPNEGO' '<p id="mech">krb5</p>'
matrix apache "http://localhost:$apache_port/neg/whoami" "http://localhost:$apache_port/neg-cb/whoami"

expect "krbap: the NTLM-only page names the mechanisms offered and supported" "$work/krbap/ntlm-only" \
  '^page: .*offered NTLMSSP .*supports Kerberos 5'

# What Apache received from krbap's initiator: a SPNEGO token by default, a raw krb5 one
# with -mech krb5 (mod_auth_gssapi names the same mechanism, krb5, for both).
"$py" "$peers" token-kinds "$work/apache/logs/access.log" krbap-http-client >"$work/krbap-client-kinds" 2>&1
expect "apache: krbap-http-client sent a SPNEGO token, and with -mech krb5 a raw krb5 one" \
  "$work/krbap-client-kinds" '^spnego$' '^krb5$'

# --- krbap-http-client against pyspnego's acceptor --------------------------------------------
run "$work/pyspnego-acceptor" "$client_bin" "http://localhost:$pyspnego_port/whoami"
expect "krbap-http-client -> pyspnego HTTP acceptor: 200, alice, final token verified" \
  "$work/pyspnego-acceptor" '^status 200' '^mutual authentication verified' "$page_user" '^exit 0$'
# The final token is checked before the page is trusted (RFC 4559 §5).
run "$work/pyspnego-corrupt" "$client_bin" "http://localhost:$pyspnego_port/corrupt"
expect "krbap-http-client refuses a 200 whose final token is damaged" "$work/pyspnego-corrupt" \
  'GSS-API error processing the server.s token' '^exit 1$'
run "$work/pyspnego-omit" "$client_bin" "http://localhost:$pyspnego_port/omit"
expect "krbap-http-client refuses a 200 without the final token (mutual authentication)" \
  "$work/pyspnego-omit" 'mutual authentication failed: the server did not send the final token' '^exit 1$'
run "$work/pyspnego-omit-nomutual" "$client_bin" -nomutual "http://localhost:$pyspnego_port/omit"
expect "krbap-http-client -nomutual takes a 200 without a final token" "$work/pyspnego-omit-nomutual" \
  '^status 200' '^mutual authentication not requested' "$page_user" '^exit 0$'

# --- krbap-http-server only -----------------------------------------------------------------
run "$work/replay" "$py" "$peers" replay "$krbap_url"
expect "krbap: the same token twice: 200, then 401 with the reason" "$work/replay" \
  '^first 200' '^second 401 .*Request is a replay' '^exit 0$'
run "$work/allow" curl -sS -i --negotiate -u : "http://localhost:$allow_port/whoami"
expect "krbap: -allow bob@TEST.LOCAL: alice gets 403 with the reason" "$work/allow" \
  '^HTTP/1.1 403' "$user is authenticated but not allowed here"
# The server's log names the principal and the mechanism, or the reason of a failure.
expect "krbap: the log has each request with the principal and mechanism, or the reason" "$work/krbap.log" \
  '"GET /whoami" 200 alice@TEST.LOCAL \(SPNEGO\)$' '"GET /whoami" 200 alice@TEST.LOCAL \(krb5\)$' \
  '"GET /whoami" 401 challenge$' '"GET /whoami" 401 failed: .*Request is a replay'
run "$work/hostile" /usr/bin/python3 "$peers" hostile 127.0.0.1 "$hostile_port" 2
while IFS= read -r line; do
  case $line in
    "ok   "*) pass "krbap hostile: ${line#ok   }" ;;
    "FAIL "*) fail "krbap hostile: ${line#FAIL }" ;;
  esac
done <"$work/hostile"
grep -q '^exit 0$' "$work/hostile" || fail "krbap hostile: script failed" "$(tail -n 20 "$work/hostile")"
# More connections than -max-conns: the surplus gets 503 at once, the rest stay served.
busy=$(/usr/bin/python3 - "$hostile_port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
print(s.recv(100).decode("latin-1").split("\r\n")[0])
PY
)
[ "$busy" = "HTTP/1.1 503 Service Unavailable" ] && pass "krbap hostile: connection over -max-conns: 503" ||
  fail "krbap hostile: connection over -max-conns: 503" "got: $busy"
sleep 0.5
run "$work/after-hostile" curl -sS -i --negotiate -u : "http://localhost:$hostile_port/whoami"
expect "krbap hostile: afterwards the same server still serves alice" "$work/after-hostile" \
  '^HTTP/1.1 200' "$page_user"
kill -0 "${started[1]}" 2>/dev/null && pass "krbap hostile: the server process is still running" ||
  fail "krbap hostile: the server process is still running" "$(tail -n 20 "$work/hostile.log")"
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$work/hostile.log"; then
  fail "krbap hostile: no ASan/UBSan report" "$(grep -A 20 -E 'AddressSanitizer|runtime error' "$work/hostile.log")"
else
  pass "krbap hostile: no ASan/UBSan report"
fi

summary
