#!/usr/bin/env bash
# pyvenv.sh - the Python peers of the interop tests, in a virtualenv cached in the build tree.
#
#   py=$(tests/interop/pyvenv.sh)      # prints the venv's python; builds it when missing
#
# The venv is made from Debian's /usr/bin/python3 with --system-site-packages, so it also sees
# python3-gssapi (MIT's GSS-API, SPNEGO included). From PyPI, pinned: requests-gssapi (an MIT-based
# HTTP Negotiate client) and pyspnego with its kerberos extra — pyspnego builds SPNEGO itself, so
# it is a peer independent of MIT's SPNEGO code; its extra needs the `krb5` package, built from
# source once (about 90 s; it needs gcc, libkrb5-dev and python3-dev from install-deps.sh).
# Idempotent and safe to run from concurrent scripts (a lock, and a stamp naming the pins).
# Environment: KRBAP_PYVENV (default: <repo>/build/py-peers). Progress goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
venv=${KRBAP_PYVENV:-$root/build/py-peers}
pins=(requests-gssapi==1.4.0 pyspnego==0.12.4 krb5==0.10.0)
stamp="pins: ${pins[*]}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock -w 900 9 || { echo "pyvenv.sh: timed out waiting for $venv.lock" >&2; exit 1; }
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.krbap-stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$venv/bin/python"
    exit 0
fi
echo "pyvenv.sh: building $venv (${pins[*]})" >&2
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv" >&2
# pyspnego's kerberos extra is the `krb5` pin above (listed explicitly so it stays pinned).
PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q "${pins[@]}" >&2
"$venv/bin/python" -c 'import gssapi, krb5, spnego, requests_gssapi' >&2
echo "$stamp" >"$venv/.krbap-stamp"
echo "$venv/bin/python"
