#!/usr/bin/env bash
# The ABI check (scripts/abi.py, README "ABI policy"): the built libkrbap.so and
# include/krbap.h against the committed reference abi/krbap.abi, then the checker itself
# on altered copies, so that it is known to catch what it is for:
# - a changed parameter type, a changed macro value, reordered struct members: an ABI
#   break (exit 1, "bump the major version"); `update` refuses it without a major bump
#   and takes it with --accept-break;
# - a function the reference lacks: additions only ("make abi-update"); `update` takes it
#   and writes the real reference again, but refuses it once that version is released;
# - a function the library no longer has: removed, a break;
# - a renamed parameter or a reworded comment: no change;
# - a library exporting a non-krbap_ symbol, lacking a declared function, with a wrong
#   SONAME: each reported.
# Needs the release build, python3, cc, nm, readelf. Last line: N passed, N failed.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$root/tests/interop/lib.sh"
cd "$root" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-abi-test.XXXXXX") || exit 2
trap 'rm -rf -- "$work"' EXIT
abi() { python3 scripts/abi.py "$@"; }

if out=$(abi check 2>&1); then pass "$out"; else
    fail "make abi-check: the build matches abi/krbap.abi" "$out"; fi
symbols=$(nm -D --defined-only target/release/libkrbap.so | awk '{print $NF}')
check "libkrbap.so exports only krbap_* ($(wc -l <<<"$symbols") symbols)" \
    bash -c "! grep -v '^krbap_' <<<'$symbols'"

# expect NAME STATUS PATTERN... -- ARGS: scripts/abi.py ARGS exits STATUS, output has each PATTERN.
expect() {
    local name=$1 status=$2 out rc missing=""
    shift 2
    local -a patterns=()
    while [ "$1" != -- ]; do patterns+=("$1"); shift; done
    shift
    out=$(abi "$@" 2>&1)
    rc=$?
    for p in "${patterns[@]}"; do grep -qF -- "$p" <<<"$out" || missing+=" [$p]"; done
    if [ "$rc" = "$status" ] && [ -z "$missing" ]; then pass "$name"; else
        fail "$name" "exit $rc (want $status), missing:$missing
$out"; fi
}

# ---------------------------------------------------------------- altered headers
h=$work/krbap.h
# alter SED_SCRIPT: $h is the header so altered (a script that changes nothing fails).
alter() {
    sed "$1" include/krbap.h >"$h"
    if cmp -s "$h" include/krbap.h; then fail "the alteration $1 changed nothing"; fi
}
alter '/krbap_cred_set_clock_skew(/,/);/s/int64_t seconds/int32_t seconds/'
expect "a changed parameter type is an ABI break" 1 \
    "changed: function krbap_cred_set_clock_skew" "int32_t);" "ABI BREAK" \
    "Bump the major version in Cargo.toml" -- check --header "$h"
expect "update refuses the break without a major bump" 1 "refused" "ABI break" -- \
    update --header "$h" --reference "$(cp abi/krbap.abi "$work/r0" && echo "$work/r0")"
expect "update --accept-break takes it" 0 "wrote" -- \
    update --accept-break --header "$h" --reference "$work/r0"
check "... and the new reference has the new signature" \
    grep -q 'krbap_cred_set_clock_skew(uint32_t\*, const struct krbap_cred\*, int32_t);' "$work/r0"
alter 's/^#define KRBAP_C_ACCEPT 2$/#define KRBAP_C_ACCEPT 3/'
expect "a changed macro value is an ABI break" 1 "changed: macro KRBAP_C_ACCEPT" "ABI BREAK" -- \
    check --header "$h"
alter '/^typedef struct krbap_buffer {/,/}/{s/size_t length;/void *value;/;t;s/void \*value;/size_t length;/}'
expect "reordered struct members are an ABI break" 1 "changed: type krbap_buffer" "ABI BREAK" -- \
    check --header "$h"
alter '/krbap_cred_set_clock_skew(/,/);/s/int64_t seconds/int64_t skew/; s|^// Releases a name|// Frees a name|'
expect "a renamed parameter and a reworded comment change nothing" 0 "as in" -- \
    check --header "$h"

# ---------------------------------------------------------------- altered references
ref=$work/ref
grep -v 'krbap_version' abi/krbap.abi >"$ref"
expect "a function the reference lacks: additions only" 1 \
    "added:   function krbap_version" "added:   symbol krbap_version" "Additions only" \
    "make abi-update" -- check --reference "$ref"
KRBAP_ABI_RELEASED=0.1.0 expect "update refuses additions to a released version" 1 \
    "refused" "is released" -- update --reference "$ref"
expect "update takes additions to an unreleased version" 0 "wrote" -- update --reference "$ref"
check "... and writes the committed reference again" cmp "$ref" abi/krbap.abi
{
    cat abi/krbap.abi
    echo "symbol krbap_gone: T"
    echo "function krbap_gone: uint32_t krbap_gone(uint32_t*);"
} >"$ref"
expect "a function the library lost: removed, an ABI break" 1 \
    "removed: function krbap_gone" "removed: symbol krbap_gone" "ABI BREAK" -- \
    check --reference "$ref"

# ---------------------------------------------------------------- a wrong library
cat >"$work/lib.c" <<'EOF'
const char *krbap_version(void) { return "0"; }
int helper_not_api(void) { return 1; }
EOF
if cc -shared -fPIC "$work/lib.c" -o "$work/libkrbap.so" -Wl,-soname,libkrbap.so.9 2>"$work/cc.log"; then
    expect "a wrong library: foreign symbol, missing functions, SONAME" 1 \
        "without the krbap_ prefix" "helper_not_api" \
        "krbap_wrap is declared in the header but not exported" \
        "has SONAME libkrbap.so.9, not $(make -s --no-print-directory print-soname)" -- check --lib "$work/libkrbap.so"
else
    fail "cc -shared (the wrong library)" "$(cat "$work/cc.log")"
fi

summary
