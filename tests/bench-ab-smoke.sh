#!/usr/bin/env bash
# bench-ab-smoke.sh - scripts/bench-ab.sh (two krbap builds in one process) on the release
# library against itself, a few tokens, one round: both copies load side by side with
# dlopen, accept the same MIT tokens, and the report has its three lines. Judges no timing.
# Prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
lib=$PWD/target/release/libkrbap.so
[ -f "$lib" ] || { echo "bench-ab-smoke: $lib missing (cargo build --release)"; echo "0 passed, 1 failed"; exit 1; }
# dlopen with RTLD_LOCAL loads one file once: the second copy must be another file.
copy=$(mktemp "${TMPDIR:-/tmp}/krbap-ab-copy.XXXXXX.so") || exit 2
trap 'rm -f -- "$copy"' EXIT
cp "$lib" "$copy" || exit 2
out=$(AB_KEEP_MIT=1 AB_MIT=1 scripts/bench-ab.sh "$lib" "$copy" 40 1 2>&1)
rc=$?
pass=0 fail=0
check() {
  if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}
check "bench-ab.sh exits 0" '[ "$rc" = 0 ]'
check "a time for MIT, A and B" '[ "$(grep -cE "^(MIT|A|B) +[0-9]+\.[0-9]+ us per accept" <<<"$out")" = 3 ]'
check "a ratio A/B" 'grep -qE "^A/B +[0-9]+\.[0-9]+ median of 1 rounds" <<<"$out"'
[ "$fail" = 0 ] || printf '%s\n' "$out"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
