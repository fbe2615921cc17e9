#!/usr/bin/env bash
# bench-ab.sh LIB_A LIB_B [N] [ROUNDS] - two libkrbap builds against each other in one process
# (bench/ab_bench.c), on the same MIT tokens from a throwaway realm (tests/interop/realm.sh).
# A developer tool for a change too small for `make bench`'s noise: build the other revision
# into its own target directory, e.g.
#   git worktree add /tmp/base acb26ea && (cd /tmp/base && CARGO_TARGET_DIR=/tmp/base-target cargo build --release --lib)
#   scripts/bench-ab.sh /tmp/base-target/release/libkrbap.so target/release/libkrbap.so
# Env: AB_KEEP_MIT=1, AB_MIT=1, AB_SERVICE, AB_RCACHE (see bench/ab_bench.c); AB_PRELOAD=LIB
# runs it with LD_PRELOAD=LIB (e.g. another malloc).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
[ $# -ge 2 ] || { echo "usage: $0 LIB_A LIB_B [N] [ROUNDS]" >&2; exit 2; }
for lib in "$1" "$2"; do
  [ -f "$lib" ] || { echo "bench-ab.sh: no such library: $lib" >&2; exit 2; }
done
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-ab.XXXXXX") || exit 2
cleanup() {
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/install-deps.sh >&2 || { echo "bench-ab.sh: scripts/install-deps.sh failed" >&2; exit 1; }
if ! log=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  printf '%s\n' "$log" >&2
  echo "bench-ab.sh: realm.sh start failed" >&2
  exit 1
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
# shellcheck disable=SC2046  # pkg-config's flags are words
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude $(pkg-config --cflags krb5-gssapi) bench/ab_bench.c \
  -o "$work/ab_bench" $(pkg-config --libs krb5-gssapi) -ldl || exit 1
if [ -n "${AB_PRELOAD:-}" ]; then
  LD_PRELOAD=$AB_PRELOAD "$work/ab_bench" "$@"
else
  "$work/ab_bench" "$@"
fi
