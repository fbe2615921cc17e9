#!/usr/bin/env bash
# callgrind.sh - `make callgrind`: instructions per call of krbap and of MIT's
# libgssapi_krb5 on the benchmark's workload (bench/krbap_bench.c --callgrind), counted by
# valgrind's callgrind. Unlike the times of `make bench`, these counts do not depend on the
# machine's load, so a change can be judged on a shared machine.
#
#   scripts/callgrind.sh [--calls N] [--out DIR]
#
# Starts a throwaway realm (tests/interop/realm.sh), builds the release library (unless
# KRBAP_RELEASE_DIR points at one) and the benchmark with -DKRBAP_BENCH_CALLGRIND, and runs
# it once under `valgrind --tool=callgrind --collect-atstart=no --collect-systime=yes`:
# collection is on only inside the measured library calls (init first call, accept with
# each library's default replay cache and without, AP-REP processing, get_mic and
# verify_mic 64 B; aes256-sha1 and aes256-sha384), N calls each after 8 uncounted ones.
# Prints per item: instructions per call for krbap and MIT, MIT/krbap, and system calls
# per call. The table goes to DIR/results.txt (default build/callgrind), the dumps stay in
# DIR/dumps for callgrind_annotate. Under valgrind the CPU has no SHA-NI (valgrind does
# not emulate it) while AES-NI stays: the hash counts are those of the portable code.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
calls=200
out=$root/build/callgrind
while [ $# -gt 0 ]; do
  case $1 in
    --calls) calls=${2:?}; shift ;;
    --out) out=${2:?}; shift ;;
    *) echo "usage: $0 [--calls N] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind missing (scripts/install-deps.sh)" >&2; exit 2; }

mkdir -p "$out" || exit 2
rm -rf -- "$out/dumps"
mkdir -p "$out/dumps" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-callgrind.XXXXXX") || exit 2
cleanup() {
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! log=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  printf '%s\n' "$log" >&2
  echo "callgrind.sh: realm.sh start failed" >&2
  exit 1
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
mkdir -p "$work/rcache"
export KRB5RCACHEDIR=$work/rcache
unset KRB5RCACHETYPE KRB5RCACHENAME

if [ -n "${KRBAP_RELEASE_DIR:-}" ]; then
  release=$KRBAP_RELEASE_DIR
else
  release=$root/target/release
  cargo build --release >"$work/cargo.log" 2>&1 || { tail -n 30 "$work/cargo.log" >&2; echo "callgrind.sh: cargo build --release failed" >&2; exit 1; }
fi
[ -e "$release/libkrbap.so" ] || { echo "callgrind.sh: $release/libkrbap.so missing" >&2; exit 1; }

bench=$work/krbap_bench_cg
# shellcheck disable=SC2046  # pkg-config prints several words
if ! cc -std=c11 -O2 -g -DKRBAP_BENCH_CALLGRIND -Wall -Wextra -Werror -Iinclude \
     $(pkg-config --cflags krb5-gssapi) bench/krbap_bench.c -o "$bench" -L"$release" -lkrbap \
     -Wl,-rpath,"$release" $(pkg-config --libs krb5-gssapi) -lpthread >"$work/cc.log" 2>&1; then
  cat "$work/cc.log" >&2
  echo "callgrind.sh: building bench/krbap_bench.c failed" >&2
  exit 1
fi

echo "callgrind.sh: $calls calls per item under callgrind (a few minutes)" >&2
if ! valgrind --tool=callgrind --collect-atstart=no --collect-systime=yes --compress-strings=no \
     --callgrind-out-file="$out/dumps/callgrind.out" "$bench" --callgrind "$calls" \
     >"$work/bench.out" 2>"$work/valgrind.log"; then
  tail -n 40 "$work/valgrind.log" >&2
  cat "$work/bench.out" >&2
  echo "callgrind.sh: the benchmark failed under callgrind" >&2
  exit 1
fi
grep -q '^[1-9][0-9]* passed, 0 failed$' "$work/bench.out" || { cat "$work/bench.out" >&2; exit 1; }

# One dump per item: "desc: Trigger: Client Request: item|enctype|library|calls", the event
# names and the totals (Ir sysCount sysTime).
for f in $(ls -v "$out"/dumps/callgrind.out.*); do
  awk '
    /^desc: Trigger: Client Request: / { sub(/^desc: Trigger: Client Request: /, ""); d = $0 }
    /^events: / { for (i = 2; i <= NF; i++) ev[$i] = i - 1 }
    /^(summary|totals): / { ir = $(1 + ev["Ir"]); sc = ("sysCount" in ev) ? $(1 + ev["sysCount"]) : 0 }
    END { if (d != "") printf "%s|%s|%s\n", d, ir + 0, sc + 0 }' "$f"
done >"$work/items"

{
  echo "# make callgrind, $(date -u '+%Y-%m-%d %H:%M UTC'), krbap $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
       "MIT krb5 $(dpkg-query -W -f='${Version}' libgssapi-krb5-2 2>/dev/null || echo '?'), $calls calls per item"
  awk -F'|' '
    { key = $1 "|" $2; if (!(key in seen)) { seen[key] = 1; order[n++] = key }
      ir[key, $3] = $5 / $4; sc[key, $3] = $6 / $4 }
    END {
      printf "%-24s %-28s %12s %12s %9s %15s\n", "item", "enctype", "krbap Ir", "MIT Ir",
             "MIT/krbap", "syscalls k / M"
      for (i = 0; i < n; i++) {
        split(order[i], p, "|"); k = ir[order[i], "krbap"]; m = ir[order[i], "MIT"]
        printf "%-24s %-28s %12.0f %12.0f %8.2fx %7.2f / %5.2f\n", p[1], p[2], k, m,
               (k > 0 ? m / k : 0), sc[order[i], "krbap"], sc[order[i], "MIT"]
      }
    }' "$work/items"
} | tee "$out/results.txt"
echo "callgrind.sh: table in $out/results.txt; per-function costs: callgrind_annotate --inclusive=yes $out/dumps/callgrind.out.<N>" >&2
