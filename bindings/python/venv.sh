#!/usr/bin/env bash
# venv.sh - the virtualenv of the Python package's tests (tests/python.sh) and benchmark
# (scripts/bench-python.sh), cached in the build tree.
#
#   py=$(bindings/python/venv.sh)    # prints the venv's python; builds the venv when missing
#
# Made from Debian's /usr/bin/python3 with --system-site-packages, so that MIT's GSS-API for
# Python (python3-gssapi, the peer of the tests) loads in the same process as krbap. From
# PyPI, pinned: the build backend (so that tests/python.sh can also build without
# isolation), pytest, ruff and mypy; for the HTTP tests requests (and its type stubs),
# httpx, Flask with waitress (a WSGI server with keep-alive, which multi-leg SPNEGO needs),
# Starlette with uvicorn, and requests-gssapi (an MIT-based client; its
# `gssapi` requirement is met by Debian's python3-gssapi). The krbap package itself is
# installed by the callers.
# Idempotent and safe to run concurrently (a lock, and a stamp naming the pins).
# Environment: KRBAP_PY_VENV (default: <repo>/build/py-krbap). Progress goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
venv=${KRBAP_PY_VENV:-$root/build/py-krbap}
pins=(hatchling==1.27.0 pytest==8.4.2 mypy==1.18.2 ruff==0.16.10
    requests==2.33.1 types-requests==2.33.0.20261030 httpx==0.28.1 flask==3.1.3
    starlette==1.10.0 uvicorn==0.55.0 requests-gssapi==1.4.0 waitress==3.0.2)
stamp="pins: ${pins[*]}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock -w 900 9 || { echo "venv.sh: timed out waiting for $venv.lock" >&2; exit 1; }
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.krbap-stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$venv/bin/python"
    exit 0
fi
echo "venv.sh: building $venv (${pins[*]})" >&2
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv" >&2
PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q "${pins[@]}" >&2
"$venv/bin/python" -c 'import gssapi, pytest, hatchling, requests, httpx, flask, starlette, uvicorn, requests_gssapi' >&2
echo "$stamp" >"$venv/.krbap-stamp"
echo "$venv/bin/python"
