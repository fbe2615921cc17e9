#!/usr/bin/env bash
# bench-go.sh - Accept from Go (bindings/go) against gokrb5's service-side verification
# of the same tokens (BenchmarkAccept), in a throwaway MIT realm; run by `make bench`.
# Each implementation verifies GO_BENCH_N tokens (default 20000) per round, 3 rounds; the
# table (build/bench/go-results.txt) shows the median ns/op, B/op and allocs/op and the
# ratio gokrb5/krbap, with the target of >= 5x.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export GOCACHE=$root/build/go/cache GOMODCACHE=$root/build/go/mod GOFLAGS=-modcacherw GOTOOLCHAIN=local
export CGO_CFLAGS="-I$root/include" CGO_LDFLAGS="-L$release"
n=${GO_BENCH_N:-20000}
out=$root/build/bench/go-results.txt
mkdir -p "$root/build/bench"

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-bench-go.XXXXXX") || exit 2
trap 'tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1; rm -rf -- "$work"' EXIT
tests/interop/realm.sh start "$work/realm" 2>"$work/realm.log" || { cat "$work/realm.log"; exit 1; }
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
export REALM_DIR

(cd bindings/go && go test -run '^$' -bench '^BenchmarkAccept$' -benchmem -benchtime "${n}x" -count 3 .) \
  | tee "$work/bench.log" || exit 1

{
  echo "Accept from Go: krbap (cgo) vs gokrb5 v8.4.4 service-side verification, same tokens"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(go version | cut -d' ' -f3), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), $n tokens per round, median of 3"
  awk '
    /^BenchmarkAccept\// {
      split($1, p, "/"); enc = p[2]; impl = p[3]; sub(/-[0-9]+$/, "", impl)
      k = enc SUBSEP impl; n[k]++
      ns[k, n[k]] = $3; by[k, n[k]] = $5; al[k, n[k]] = $7; encs[enc] = 1
    }
    function med(a, k,   i, j, v, t, c) {
      c = n[k]; for (i = 1; i <= c; i++) v[i] = a[k, i] + 0
      for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return v[int((c + 1) / 2)]
    }
    END {
      fail = 0
      printf "%-15s %12s %12s %10s %10s %8s %8s  %s\n", "enctype", "krbap ns/op", "gokrb5 ns/op", "krbap B", "gokrb5 B", "krbap al", "gokrb5 al", "gokrb5/krbap"
      for (e in encs) {
        kk = e SUBSEP "krbap"; gk = e SUBSEP "gokrb5"
        r = med(ns, gk) / med(ns, kk)
        printf "%-15s %12d %12d %10d %10d %8d %8d  %.1fx %s\n", e, med(ns, kk), med(ns, gk), med(by, kk), med(by, gk), med(al, kk), med(al, gk), r, (r >= 5 ? ">=5x met" : ">=5x MISS")
        if (r < 5) fail = 1
      }
      exit fail
    }' "$work/bench.log"
} | tee "$out"
exit "${PIPESTATUS[0]}"
