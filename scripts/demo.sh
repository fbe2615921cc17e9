#!/usr/bin/env bash
# `make demo`: the six steps of the Kerberos AP exchange between two processes over
# loopback TCP — examples/krbap-server and examples/krbap-client, speaking the wire
# protocol of MIT's gss-sample programs — each printing what it sends and checks.
#
# Without a realm it makes everything on the spot: a service keytab (`krbap keytab add`)
# and a ticket minted with the service key by `krbap mint-ticket`, a clearly labelled
# TEST HELPER that plays the KDC's part. Pointed at a real realm it uses that instead:
#   KRBAP_DEMO_SERVICE=host@server.example.com KRB5_KTNAME=/path/keytab \
#   KRB5CCNAME=/path/ccache make demo      (the ccache must hold a ticket for the service)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-demo.XXXXXX")
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A free TCP port on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

if [ -n "${KRBAP_DEMO_SERVICE:-}" ]; then
    service=$KRBAP_DEMO_SERVICE
    keytab=${KRB5_KTNAME:?set KRB5_KTNAME to the service keytab}
    ccache=${KRB5CCNAME:?set KRB5CCNAME to a ccache holding a ticket for $service}
    echo "== using the realm from the environment: service $service, keytab $keytab, ccache $ccache"
else
    service=demo@localhost
    keytab=FILE:$work/demo.keytab
    ccache=FILE:$work/alice.ccache
    echo "== no realm given: making a keytab and a ticket on the spot (realm DEMO.LOCAL)"
    "$bin/krbap" keytab add --principal demo/localhost@DEMO.LOCAL --kvno 3 \
        --enctype aes256-cts-hmac-sha1-96 --password "demo-service-$$-$RANDOM" "$keytab"
    "$bin/krbap" mint-ticket --keytab "$keytab" --service demo/localhost@DEMO.LOCAL \
        --client alice@DEMO.LOCAL --ccache "$ccache" --lifetime 3600
fi

echo "== starting the server on 127.0.0.1:$port"
build/examples/krbap-server -port "$port" -once -keytab "$keytab" "$service" \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    grep -q . "$work/server.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.2
echo "== running the client"
status=0
build/examples/krbap-client -port "$port" -ccache "$ccache" -mcount 1 127.0.0.1 "$service" \
    "hello from the krbap demo" 2>&1 || status=$?
wait "$server_pid" || status=$?
server_pid=""
echo "== server output"
cat "$work/server.log"
exit "$status"
