#!/usr/bin/env bash
# go.sh - the Go package bindings/go (cgo over include/krbap.h):
#   1. gofmt, go vet (and staticcheck when it builds from the module proxy), the README's
#      Go programs equal to bindings/go/examples/hello-{server,client}
#   2. go test -race ./... against a throwaway MIT realm (tests/interop/realm.sh): MIT's
#      captured tokens, every sentinel error, krbap<->krbap every enctype, 8 goroutines x
#      2000 accepts with every replay refused once, MIT gss-client -> Go server and Go
#      client -> MIT gss-server (raw krb5 and -spnego), gokrb5 both ways, SPNEGO multi-round
#      accepts, the Negotiate middleware against curl --negotiate and gokrb5's SPNEGO HTTP
#      client, the Transport against Apache + mod_auth_gssapi and krbap-http-server
#      (started here: tests/interop/apache.sh), two Acceptors sharing a redis: replay cache
#      (tests/interop/redis.sh) (KRBAP_GO_REQUIRE_REALM=1: no skips)
#   3. the tests again with GODEBUG=cgocheck=1 and built with GOEXPERIMENT=cgocheck2
#      (every Go pointer stored into C memory is caught), without the race detector
#   4. the fuzz targets FuzzAccept for GO_FUZZ_SECONDS (default 20) and FuzzNegotiate (the
#      middleware's Authorization handling) for GO_FUZZ_NEGOTIATE_SECONDS (default 10)
#   5. linking: the examples are static (no libkrbap.so needed), -tags krbap_shared links
#      libkrbap.so and passes the capture tests
#   6. Python's HTTP Negotiate clients (tests/interop/http_peers.py: requests-gssapi,
#      pyspnego, python-gssapi, hand-built multi-leg SPNEGO) and headless Chromium ->
#      examples/negotiate-server
#   7. an outside Go program depending on the module: through a replace to this checkout
#      (no environment needed), and through a copy of the module after `make install`
#      into a scratch prefix with CGO_CFLAGS/CGO_LDFLAGS from pkg-config; the README's
#      client and server built that way authenticate over HTTP, and curl --negotiate to
#      the README's server
# Go's caches live in build/go (GOCACHE, GOMODCACHE), reused by later runs.
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
. tests/interop/lib.sh
. tests/interop/apache.sh  # start_apache, stop_apache
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export GOCACHE=$root/build/go/cache GOMODCACHE=$root/build/go/mod GOFLAGS=-modcacherw GOTOOLCHAIN=local
# The library of this build first (the module's own -L points at target/release).
export CGO_CFLAGS="-I$root/include" CGO_LDFLAGS="-L$release"
unset GOPATH GOBIN

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-go.XXXXXX") || exit 2
started=()
trap 'stop_apache; tests/interop/redis.sh stop "$work/redis" >/dev/null 2>&1; interop_cleanup' EXIT
trap 'exit 130' INT TERM
mod=$root/bindings/go

command -v go >/dev/null || bail "setup: go not found"
for c in curl apache2 chromium cc; do
  command -v "$c" >/dev/null || bail "setup: $c not found (scripts/install-deps.sh installs it)"
done
[ -e /usr/lib/apache2/modules/mod_auth_gssapi.so ] ||
  bail "setup: mod_auth_gssapi missing (libapache2-mod-auth-gssapi)"
[ -e "$release/libkrbap.a" ] || bail "setup: $release/libkrbap.a missing (cargo build --release)"
echo "      $(go version)"

# --- 1. formatting and static checks -------------------------------------------------------
if out=$(cd "$mod" && gofmt -l .) && [ -z "$out" ]; then pass "gofmt"; else fail "gofmt" "$out"; fi
check "go vet ./..." bash -c "cd '$mod' && go vet ./... && go vet -tags krbap_shared ./..."
sc=$root/build/go/bin/staticcheck
if [ ! -x "$sc" ]; then
  GOBIN=$root/build/go/bin go install honnef.co/go/tools/cmd/staticcheck@v0.6.1 >"$work/sc-install.log" 2>&1 || true
fi
if [ -x "$sc" ]; then
  check "staticcheck ./..." bash -c "cd '$mod' && '$sc' ./..."
else
  echo "      (staticcheck not built from the module proxy: $(tail -n 1 "$work/sc-install.log"))"
fi
# The README's Go programs are the example files, line for line.
readme_block() {  # the ```go block after the line "<!-- $1 -->"
  awk -v m="<!-- $1 -->" '$0 == m { f = 1; next } f && /^```go$/ { g = 1; next } g && /^```$/ { exit } g' README.md
}
for p in hello-server hello-client; do
  readme_block "$p" >"$work/$p.readme"
  same "README's $p is bindings/go/examples/$p/main.go" "$work/$p.readme" "$mod/examples/$p/main.go"
done

# --- 2. go test -race against an MIT realm ------------------------------------------------
if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
export REALM_DIR KRBAP_GO_REQUIRE_REALM=1
# HTTP/localhost (HTTP clients ask for HTTP@<host of the URL>): the keytab of the Go
# middleware in the tests, the README's server, Apache and krbap-http-server.
for q in "addprinc -randkey HTTP/localhost" "ktadd -k $work/http.keytab HTTP/localhost"; do
  out=$(kadmin.local -r TEST.LOCAL -q "$q" </dev/null 2>&1) || bail "setup: kadmin.local $q" "$out"
done
export KRBAP_GO_HTTP_KEYTAB=$work/http.keytab
# The Transport's peers (TestTransportToHTTPServers), up while the tests run.
cc -std=c11 -Wall -Wextra -Werror -pedantic -pthread -I"$root/include" "$root/examples/krbap-http-server.c" \
  "$root/examples/http_common.c" "$root/examples/common.c" -L"$release" -lkrbap -Wl,-rpath,"$release" \
  -o "$work/krbap-http-server" >"$work/http-server.cc.log" 2>&1 ||
  bail "setup: building krbap-http-server" "$(cat "$work/http-server.cc.log")"
SERVER_TIMEOUT=3600 start_server "$work/krbap-http-server.log" "$work/krbap-http-server" -port @PORT@ \
  -bind 127.0.0.1 -keytab "$work/http.keytab" || bail "setup: krbap-http-server" "$(cat "$work/krbap-http-server.log")"
krbap_http_port=$PORT
start_apache "$work/apache" "$work/http.keytab" ||
  bail "setup: Apache" "$(cat "$work/apache/start.log" "$work/apache/logs/error.log" 2>/dev/null | tail -n 20)"
# A Redis with a password for ReplayCache "redis://…" (TestRedisReplayCache).
if ! out=$(tests/interop/redis.sh start "$work/redis" --password "go-$RANDOM$RANDOM" 2>&1); then
  bail "setup: tests/interop/redis.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by redis.sh
. "$work/redis/env"
export KRBAP_GO_REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0" KRBAP_GO_REDIS_PASSWORD=$REDIS_PASSWORD
export KRBAP_GO_HTTP_SERVERS="krbap-http-server=http://localhost:$krbap_http_port/ \
apache=http://localhost:$apache_port/neg/whoami apache-connection-bound=http://localhost:$apache_port/neg-cb/whoami"

# go_test NAME LOG ARGS...: runs go test -v in the module; one check per package result,
# and the test counts from -v output.
go_test() {
  local name=$1 log=$2 rc np nf; shift 2
  (cd "$mod" && go test -v -count=1 "$@") >"$log" 2>&1
  rc=$?
  np=$(grep -cE '^ *--- PASS' "$log")
  nf=$(grep -cE '^ *--- FAIL' "$log")
  if [ "$rc" = 0 ] && [ "$nf" = 0 ] && [ "$np" -gt 0 ]; then
    pass "$name: $np tests and subtests passed"
  else
    fail "$name: exit $rc, $np passed, $nf failed" \
      "$({ grep -E '^ *--- FAIL' "$log"; grep -E '_test.go:[0-9]+:|^panic|race|FAIL' "$log" | grep -v -- '--- FAIL'; } | head -n 40)"
  fi
}
start=$SECONDS
go_test "go test -race ./..." "$work/race.log" -race -timeout 15m ./...
grep -qE '16000 accepts on 8 goroutines: 8000 accepted once, 8000 replays refused' "$work/race.log" \
  && pass "8 goroutines x 2000 accepts: every token accepted once, every replay refused once (-race)" \
  || fail "8 goroutines x 2000 accepts" "$(grep -A3 TestConcurrentAccepts "$work/race.log" | head)"
grep -qE '^ *--- SKIP' "$work/race.log" && fail "no test skipped" "$(grep -E '^ *--- SKIP' "$work/race.log")" || pass "no test skipped"
echo "      (go test -race: $((SECONDS - start)) s)"

# --- 3. cgo pointer checks -------------------------------------------------------------------
GODEBUG=cgocheck=1 go_test "GODEBUG=cgocheck=1 go test" "$work/cgocheck1.log" .
GOEXPERIMENT=cgocheck2 go_test "GOEXPERIMENT=cgocheck2 go test" "$work/cgocheck2.log" .

# --- 4. fuzzing ----------------------------------------------------------------------------
# -fuzzminimizetime 0s: Go minimizes every new interesting input for up to 60 s by default,
# so a short run spent its budget shrinking one grown 57 KB header (17 executions in 10 s
# instead of ~100 000), and a worker still minimizing when -fuzztime ran out could be
# reported as "hung or terminated unexpectedly". A crasher is still written, unminimized.
fuzz_s=${GO_FUZZ_SECONDS:-20}
if (cd "$mod" && go test -count=1 -run '^$' -fuzz '^FuzzAccept$' -fuzztime "${fuzz_s}s" -fuzzminimizetime 0s -parallel 2 .) >"$work/fuzz.log" 2>&1; then
  pass "go fuzz FuzzAccept ${fuzz_s} s: $(grep -oE 'execs: [0-9]+' "$work/fuzz.log" | tail -n 1)"
else
  fail "go fuzz FuzzAccept" "$(tail -n 30 "$work/fuzz.log")"
fi
fuzz_n=${GO_FUZZ_NEGOTIATE_SECONDS:-10}
if (cd "$mod" && go test -count=1 -run '^$' -fuzz '^FuzzNegotiate$' -fuzztime "${fuzz_n}s" -fuzzminimizetime 0s -parallel 2 .) >"$work/fuzz-neg.log" 2>&1; then
  pass "go fuzz FuzzNegotiate (the HTTP middleware) ${fuzz_n} s: $(grep -oE 'execs: [0-9]+' "$work/fuzz-neg.log" | tail -n 1)"
else
  fail "go fuzz FuzzNegotiate" "$(tail -n 30 "$work/fuzz-neg.log")"
fi

# --- 5. static and shared linking ------------------------------------------------------------
if (cd "$mod" && go build -o "$work/bin/" ./examples/...) >"$work/build.log" 2>&1; then
  if ldd "$work/bin/gss-server" | grep -q libkrbap; then
    fail "examples link libkrbap statically" "$(ldd "$work/bin/gss-server")"
  else
    pass "examples link libkrbap statically (ldd shows no libkrbap)"
  fi
else
  fail "go build ./examples/..." "$(cat "$work/build.log")"
fi
if (cd "$mod" && go test -c -tags krbap_shared -o "$work/shared.test" .) >"$work/shared.log" 2>&1 \
   && ldd "$work/shared.test" | grep -q 'libkrbap\.so'; then
  check "-tags krbap_shared: linked to libkrbap.so, capture tests pass" \
    bash -c "cd '$mod' && KRBAP_GO_LINKAGE=shared '$work/shared.test' -test.short -test.run 'Capture|Sentinel|EveryEnctype|Linkage'"
else
  fail "-tags krbap_shared links libkrbap.so" "$(cat "$work/shared.log"; ldd "$work/shared.test" 2>&1)"
fi

# --- 6. independent HTTP clients against the Go middleware ------------------------------------
# examples/negotiate-server (the middleware; built in 5.) and the Python peers of
# tests/interop/http_peers.py: requests-gssapi, pyspnego (its own SPNEGO), python-gssapi with
# and without mutual authentication, a hand-built SPNEGO initiator whose exchange needs
# several legs on one keep-alive connection (Kerberos not first, no optimistic token), SPNEGO
# offering only NTLM, and a replayed token.
# py_peer NAME PATTERN... -- PEER ARGS...: the peer exits 0 and prints every pattern.
py_peer() {
  local name=$1 out p missing=""; shift
  local -a pats=()
  while [ "$1" != "--" ]; do pats+=("$1"); shift; done
  shift
  out=$work/peer-$(printf '%s' "$*" | tr -c 'a-zA-Z0-9' '_')
  timeout 60 "$py" "$root/tests/interop/http_peers.py" "$@" >"$out" 2>&1
  echo "exit $?" >>"$out"
  for p in "${pats[@]}" '^exit 0$'; do grep -qE -- "$p" "$out" || missing="$missing '$p'"; done
  if [ -z "$missing" ]; then pass "$name"; else fail "$name" "missing$missing in: $(head -c 1500 "$out")"; fi
}
if ! py=$(tests/interop/pyvenv.sh 2>"$work/pyvenv.log"); then
  fail "setup: tests/interop/pyvenv.sh" "$(tail -n 20 "$work/pyvenv.log")"
elif ! SERVER_TIMEOUT=600 start_server "$work/negotiate-server.log" "$work/bin/negotiate-server" \
       -addr 127.0.0.1:@PORT@ -keytab "$work/http.keytab"; then
  fail "examples/negotiate-server did not start" "$(cat "$work/negotiate-server.log")"
else
  url=http://localhost:$PORT/
  u='^user=alice@TEST\.LOCAL$'
  py_peer "requests-gssapi -> Go middleware: 200, alice, SPNEGO" '^status 200' "$u" '^mech=SPNEGO$' -- requests "$url"
  py_peer "pyspnego -> Go middleware: 200, alice, final token verified" '^status 200' "$u" '^mutual verified' \
    -- pyspnego "$url"
  py_peer "python-gssapi SPNEGO -> Go middleware: 200, alice, final token verified" '^status 200' "$u" \
    '^mutual verified' -- gssapi "$url"
  py_peer "python-gssapi SPNEGO without mutual authentication -> Go middleware: 200, alice" '^status 200' "$u" \
    -- gssapi "$url" --nomutual
  for c in no-optimistic ntlm-first-mutual ntlm-first-nomutual negoex-first ms-oid-first; do
    py_peer "multi-leg SPNEGO on one keep-alive connection -> Go middleware: $c" "$u" 'one connection' \
      -- multileg "$url" "$c"
  done
  py_peer "SPNEGO listing only NTLM -> Go middleware: 401 with MIT's reject token" \
    '^status 401 reject oQcwBaADCgEC$' -- ntlm-only "$url"
  py_peer "one SPNEGO token twice -> Go middleware: 200, then 401 (a replay)" '^first 200' \
    '^second 401 .*replay' -- replay "$url"
  # Headless Chromium, its profile seeded as tests/http-negotiate.sh does (Linux Chromium
  # loads its GSS-API library only after it has once seen a Negotiate challenge).
  prof=$work/chromium-profile
  mkdir -p "$prof" "$work/home"
  printf '{"net":{"received_http_auth_negotiate_headers":true},"auth":{"server_allowlist":"localhost"}}\n' \
    >"$prof/Local State"
  HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache \
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --auth-server-allowlist=localhost --user-data-dir="$prof" --dump-dom "$url" \
    >"$work/chromium.html" 2>"$work/chromium.stderr"
  if grep -q '<p id="user">alice@TEST.LOCAL</p><p id="mech">SPNEGO</p>' "$work/chromium.html"; then
    pass "headless Chromium -> Go middleware: alice's page (SPNEGO)"
  else
    fail "headless Chromium -> Go middleware" "$(head -c 800 "$work/chromium.html"; tail -n 5 "$work/chromium.stderr")"
  fi
  kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
fi

# --- 7. an outside program depending on the module -----------------------------------------
# outside DIR MODULE_DIR: a module with the README's two programs, requiring the krbap
# module through a replace to MODULE_DIR.
outside() {
  local dir=$1 p
  mkdir -p "$dir"
  for p in hello-server hello-client; do mkdir -p "$dir/$p"; cp "$work/$p.readme" "$dir/$p/main.go"; done
  cat >"$dir/go.mod" <<EOF
module example.com/app

go 1.22

require github.com/krbap/krbap/bindings/go v0.0.0

replace github.com/krbap/krbap/bindings/go => $2
EOF
  (cd "$dir" && go mod tidy && go build -o "$dir/bin/" ./...) >"$dir/build.log" 2>&1
}
# hello DIR NAME: the README's client (SPNEGO, the final token verified) and curl
# --negotiate authenticate to the README's server (built in DIR/bin).
hello() {
  local dir=$1 out
  if ! KRB5_KTNAME=FILE:$work/http.keytab start_server "$dir/server.log" \
       bash -c "echo starting...; exec '$dir/bin/hello-server' 127.0.0.1:@PORT@"; then
    fail "$2: hello-server did not start" "$(cat "$dir/server.log")"; return
  fi
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
  if out=$(timeout 30 "$dir/bin/hello-client" "http://localhost:$PORT/" 2>&1) \
     && [ "$out" = "200 OK: hello alice@TEST.LOCAL" ]; then
    pass "$2: README client -> README server: '$out'"
  else
    fail "$2: README client -> README server" "$out"
  fi
  if out=$(timeout 30 curl -sS --negotiate -u : "http://localhost:$PORT/" 2>&1) \
     && [ "$out" = "hello alice@TEST.LOCAL" ]; then
    pass "$2: curl --negotiate -> README server: '$out'"
  else
    fail "$2: curl --negotiate -> README server" "$out"
  fi
  kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
}
unset CGO_CFLAGS CGO_LDFLAGS
if outside "$work/app-checkout" "$mod"; then
  pass "outside module, replace => this checkout: builds without CGO_* variables"
  hello "$work/app-checkout" "checkout"
else
  fail "outside module, replace => this checkout" "$(tail -n 20 "$work/app-checkout/build.log")"
fi
prefix=$work/prefix
if make -s install PREFIX="$prefix" >"$work/install.log" 2>&1; then
  cp -r "$mod" "$work/krbap-go"   # a copy away from the checkout: no ../../target, ../../include
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  export CGO_CFLAGS="$(pkg-config --cflags krbap)" CGO_LDFLAGS="$(pkg-config --libs-only-L krbap)"
  if outside "$work/app-installed" "$work/krbap-go"; then
    if ldd "$work/app-installed/bin/hello-server" | grep -q libkrbap; then
      fail "outside module after make install: static" "$(ldd "$work/app-installed/bin/hello-server")"
    else
      pass "outside module after make install (CGO_* from pkg-config): builds, static"
    fi
    hello "$work/app-installed" "installed"
  else
    fail "outside module after make install" "$(tail -n 20 "$work/app-installed/build.log")"
  fi
  unset CGO_CFLAGS CGO_LDFLAGS PKG_CONFIG_PATH
else
  fail "make install PREFIX=$prefix" "$(tail -n 20 "$work/install.log")"
fi

summary
