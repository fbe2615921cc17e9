#!/usr/bin/env bash
# bench-redis.sh - the farm-wide replay cache's figures (part of `make bench`):
# bench/farm_bench.c on a throwaway realm (tests/interop/realm.sh) and a throwaway Redis on
# loopback (tests/interop/redis.sh): krbap's accept with redis: against MIT's accept with
# its file2 cache, 2 acceptor processes sharing the Redis against 1, CPU per accept, and the
# latency redis: adds over memory:.
#
#   scripts/bench-redis.sh [--smoke] [--rounds N] [--tokens N]
#
# Builds the release library unless KRBAP_RELEASE_DIR points at one. Writes the table to
# build/bench/redis.txt and build/bench/redis.csv. --smoke: 200 tokens, one round, checks
# only (every token accepted by every run, replays refused, also across the 2 processes);
# prints `N passed, N failed` last (tests/redis-bench-smoke.sh runs it so).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
smoke=0
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1; args+=(--smoke) ;;
    --rounds|--tokens) args+=("$1" "${2:?}"); shift ;;
    *) echo "usage: $0 [--smoke] [--rounds N] [--tokens N]" >&2; exit 2 ;;
  esac
  shift
done
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

out=$root/build/bench
mkdir -p "$out" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-bench-redis.XXXXXX") || exit 2
cleanup() {
  tests/interop/redis.sh stop "$work/redis" >/dev/null 2>&1
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_setup() { echo "bench-redis.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

if ! log=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  printf '%s\n' "$log" >&2
  fail_setup "realm.sh start failed"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
mkdir -p "$work/rcache"
export KRB5RCACHEDIR=$work/rcache
unset KRB5RCACHETYPE KRB5RCACHENAME
if ! log=$(tests/interop/redis.sh start "$work/redis" --unix 2>&1); then
  printf '%s\n' "$log" >&2
  fail_setup "redis.sh start failed"
fi
# shellcheck disable=SC1091  # written by redis.sh
. "$work/redis/env"
redis_pid=$(cat "$work/redis/pid-$REDIS_PORT")

if [ -n "${KRBAP_RELEASE_DIR:-}" ]; then
  release=$KRBAP_RELEASE_DIR
else
  release=$root/target/release
  cargo build --release >"$work/cargo.log" 2>&1 || { tail -n 30 "$work/cargo.log" >&2; fail_setup "cargo build --release failed"; }
fi
[ -e "$release/libkrbap.so" ] || fail_setup "$release/libkrbap.so missing"

bench=$work/farm_bench
# shellcheck disable=SC2046  # pkg-config prints several words
if ! cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude $(pkg-config --cflags krb5-gssapi) \
     bench/farm_bench.c -o "$bench" -L"$release" -lkrbap -Wl,-rpath,"$release" \
     $(pkg-config --libs krb5-gssapi) >"$work/cc.log" 2>&1; then
  cat "$work/cc.log" >&2
  fail_setup "building bench/farm_bench.c failed"
fi

name="redis://127.0.0.1:$REDIS_PORT/0?timeout_ms=1000"
unix_name="redis+unix://$REDIS_SOCK?timeout_ms=1000"
if [ "$smoke" = 1 ]; then
  "$bench" "${args[@]}" --redis "$name" --redis-unix "$unix_name" --redis-pid "$redis_pid" \
    2>"$work/stderr.log"
  rc=$?
  if [ $rc != 0 ]; then sed 's/^/  stderr: /' "$work/stderr.log" | tail -n 40; fi
  exit $rc
fi

echo "bench-redis.sh: running the farm replay-cache benchmark (about a minute)" >&2
{
  echo "# make bench (redis: replay cache), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
       "krbap $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(redis-server --version | cut -d' ' -f1-3)," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/redis.txt"
"$bench" "${args[@]}" --redis "$name" --redis-unix "$unix_name" --redis-pid "$redis_pid" \
  --csv "$out/redis.csv" \
  2>"$out/redis-stderr.log" | tee -a "$out/redis.txt"
rc=${PIPESTATUS[0]}
echo "bench-redis.sh: table in $out/redis.txt, CSV in $out/redis.csv" >&2
exit "$rc"
