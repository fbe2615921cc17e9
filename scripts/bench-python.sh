#!/usr/bin/env bash
# bench-python.sh - the Python part of `make bench`: accepts per second from Python, the
# krbap package (bindings/python) against python-gssapi (MIT) on the same tokens in one
# process (bindings/python/bench/bench_accept.py), in a throwaway realm.
#
#   scripts/bench-python.sh [--tokens N] [--rounds R] [--smoke]
#
# Installs the package into the cached venv of bindings/python/venv.sh (the wheel build
# reuses the release library in target/) and writes the table to build/bench/python.txt.
# Exits non-zero when the target (>= 5x with the default replay caches) is missed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
out=$root/build/bench
mkdir -p "$out" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-bench-python.XXXXXX") || exit 2
cleanup() {
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench-python.sh: $*" >&2; exit 1; }

scripts/install-deps.sh >&2 || die "scripts/install-deps.sh failed"
py=$(bindings/python/venv.sh) || die "bindings/python/venv.sh failed"
env -u KRBAP_LIBRARY PIP_DISABLE_PIP_VERSION_CHECK=1 "$py" -m pip install -q --force-reinstall \
  --no-deps ./bindings/python >&2 || die "pip install ./bindings/python failed"
if ! log=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  printf '%s\n' "$log" >&2
  die "realm.sh start failed"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
mkdir -p "$work/rcache"
export KRB5RCACHEDIR=$work/rcache
unset KRB5RCACHETYPE KRB5RCACHENAME KRBAP_LIBRARY
echo "bench-python.sh: running (a minute or two)" >&2
{
  echo "# make bench (Python), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
       "krbap $(git rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/python.txt"
"$py" bindings/python/bench/bench_accept.py "$@" | tee -a "$out/python.txt"
rc=${PIPESTATUS[0]}
echo "bench-python.sh: table in $out/python.txt" >&2
exit "$rc"
