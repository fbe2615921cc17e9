#!/usr/bin/env bash
# bench.sh - `make bench`: krbap against MIT krb5's libgssapi_krb5 in one process
# (bench/krbap_bench.c), on a throwaway realm (tests/interop/realm.sh, which installs the
# MIT packages when missing).
#
#   scripts/bench.sh [--smoke] [--rounds N]
#
# Builds the release library (unless KRBAP_RELEASE_DIR points at one) and the benchmark,
# runs it (it runs krbap-crypto-bench, the raw crypto limit, between its chunks) and writes the
# table to build/bench/results.txt and build/bench/results.csv, then scripts/bench-redis.sh
# (the redis: replay cache; build/bench/redis.txt and .csv). --smoke: a few
# iterations, no timing verdicts, checks that every item ran and both libraries agreed;
# prints `N passed, N failed` last (tests/bench-smoke.sh runs it so).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
smoke=0
rounds=3
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1 ;;
    --rounds) rounds=${2:?}; shift ;;
    *) echo "usage: $0 [--smoke] [--rounds N]" >&2; exit 2 ;;
  esac
  shift
done
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

out=$root/build/bench
mkdir -p "$out" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-bench.XXXXXX") || exit 2
cleanup() {
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_setup() { echo "bench.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# What the benchmark needs (gcc, pkg-config, MIT krb5 with libkrb5-dev's gssapi headers):
# install-deps.sh is a fast no-op when everything is there; realm.sh checks its own.
if [ "$smoke" = 0 ]; then
  scripts/install-deps.sh >&2 || fail_setup "scripts/install-deps.sh failed"
fi
# The realm: it installs MIT's packages when missing.
if ! log=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  printf '%s\n' "$log" >&2
  fail_setup "realm.sh start failed"
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
  cargo build --release >"$work/cargo.log" 2>&1 || { tail -n 30 "$work/cargo.log" >&2; fail_setup "cargo build --release failed"; }
fi
[ -e "$release/libkrbap.so" ] || fail_setup "$release/libkrbap.so missing"
[ -x "$release/krbap-crypto-bench" ] || fail_setup "$release/krbap-crypto-bench missing"

# The PAC item: the same service key, tickets with the Samba AD DC's PAC (re-signed for the
# service and client by `krbap mint-ticket --pac`) and without any PAC.
mkdir -p "$work/pac"
kadmin.local -q "ktadd -k $work/pac/krbtgt.keytab -norandkey krbtgt/$REALM_NAME" >"$work/pac/ktadd.log" 2>&1 \
  || fail_setup "exporting the realm's krbtgt key"
for svc in test-aes256-sha1 test-aes256-sha384; do
  for kind in pac nopac; do
    pac_args=()
    [ "$kind" = pac ] && pac_args=(--pac tests/data/samba-ad/alice.pac --krbtgt-keytab "$work/pac/krbtgt.keytab")
    "$release/krbap" mint-ticket --keytab "${KRB5_KTNAME#FILE:}" --service "$svc/localhost@$REALM_NAME" \
      --client "$REALM_CLIENT" --ccache "$work/pac/$svc.$kind.cc" "${pac_args[@]}" >/dev/null \
      || fail_setup "krbap mint-ticket for the PAC item"
  done
done
export KRBAP_BENCH_PAC_DIR=$work/pac

bench=$out/krbap_bench
# -O2 as a distribution would build an application; both libraries are release builds.
# shellcheck disable=SC2046  # pkg-config prints several words
if ! cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude $(pkg-config --cflags krb5-gssapi) \
     bench/krbap_bench.c -o "$bench" -L"$release" -lkrbap -Wl,-rpath,"$release" \
     $(pkg-config --libs krb5-gssapi) -lpthread >"$work/cc.log" 2>&1; then
  cat "$work/cc.log" >&2
  fail_setup "building bench/krbap_bench.c failed"
fi

if [ "$smoke" = 1 ]; then
  "$bench" --smoke --raw "$release/krbap-crypto-bench" --csv "$work/smoke.csv" \
    2>"$work/stderr.log"
  rc=$?
  if [ $rc != 0 ]; then sed 's/^/  stderr: /' "$work/stderr.log" | tail -n 40; fi
  exit $rc
fi

echo "bench.sh: running the benchmark ($rounds rounds; a few minutes)" >&2
{
  echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs:" \
       "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "# krbap $(git rev-parse --short HEAD 2>/dev/null || echo '?'), MIT krb5 $(dpkg-query -W -f='${Version}' libgssapi-krb5-2 2>/dev/null || echo '?')," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/results.txt"
"$bench" --rounds "$rounds" --raw "$release/krbap-crypto-bench" --csv "$out/results.csv" \
  2>"$out/stderr.log" | tee -a "$out/results.txt"
rc=${PIPESTATUS[0]}
echo "bench.sh: table in $out/results.txt, CSV in $out/results.csv" >&2
# The farm-wide replay cache (redis:): its own realm, Redis and table (build/bench/redis.txt).
KRBAP_RELEASE_DIR=$release scripts/bench-redis.sh --rounds "$rounds" || rc=1
exit "$rc"
