#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...] — builds the libFuzzer targets of fuzz/
# (cargo-fuzz layout) and runs each for a bounded time from its committed seeds
# (fuzz/seeds/<target>, copied into a scratch corpus). `make fuzz` runs it with 60 s per
# target; `make test` runs it through tests/fuzz.sh with a smaller budget.
#
# Stable toolchain: this builds with plain cargo and the flags `cargo fuzz build
# --sanitizer none` uses (SanitizerCoverage via -Cpasses=sancov-module, --cfg fuzzing,
# debug assertions, so integer overflow panics too) into fuzz/target: no nightly and no
# cargo-fuzz install needed; developers with cargo-fuzz can use
# `cargo fuzz run <target> --sanitizer none` on the same targets. krbap is memory-safe
# Rust: what fuzzing finds is panics, aborts, hangs (-timeout) and runaway memory
# (-rss_limit_mb; -malloc_limit_mb needs a sanitizer's allocator hooks).
# FUZZ_SANITIZER=address builds with ASan instead (RUSTC_BOOTSTRAP=1 enables
# -Zsanitizer on stable; the runtime ships with the toolchain), into fuzz/target/asan.
#
# Env: FUZZ_SECONDS (per target, default 60; the first argument wins), FUZZ_JOBS (targets
# run at once, default 2), FUZZ_CORPUS_DIR (keep the corpus in DIR/<target> across runs
# instead of a scratch directory), FUZZ_SANITIZER (none | address), FUZZ_RSS_MB (2048).
# Prints one line per target, for a failure the crashing input and a one-line
# reproduction command, then `N passed, N failed` (one check per target); exits non-zero
# on any failure. Crashing inputs stay in fuzz/artifacts/<target>/.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root" || exit 2

seconds=${FUZZ_SECONDS:-60}
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
jobs=${FUZZ_JOBS:-2}
rss_mb=${FUZZ_RSS_MB:-2048}
sanitizer=${FUZZ_SANITIZER:-none}

# Every [[bin]] of fuzz/Cargo.toml is a target.
all_targets=$(sed -n 's/^name = "\([a-z0-9_]*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^krbap-fuzz$')
targets=${*:-$all_targets}
ntargets=$(wc -w <<<"$targets")

triple=$(rustc -vV | sed -n 's/^host: //p')
# The flags of cargo-fuzz 0.13 (`cargo fuzz build --sanitizer none`).
rustflags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
rustflags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
rustflags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
rustflags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
rustflags+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0"
rustflags+=" -Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=1"
target_dir=$root/fuzz/target
case $sanitizer in
    none) ;;
    address)
        export RUSTC_BOOTSTRAP=1
        rustflags+=" -Zsanitizer=address"
        target_dir=$root/fuzz/target/asan
        ;;
    *) echo "fuzz: FUZZ_SANITIZER must be none or address" >&2; exit 2 ;;
esac

echo "== fuzz: building $ntargets targets (sanitizer $sanitizer)"
start=$SECONDS
# shellcheck disable=SC2086 # word splitting of the target list is intended
if ! RUSTFLAGS="$rustflags" CARGO_TARGET_DIR=$target_dir cargo build --release \
    --manifest-path fuzz/Cargo.toml --target "$triple" $(printf -- '--bin %s ' $targets); then
    echo "fuzz: build failed"
    echo "0 passed, $ntargets failed"
    exit 1
fi
echo "== fuzz: built in $((SECONDS - start)) s; $seconds s per target, $jobs at a time"
bin_dir=$target_dir/$triple/release

scratch=$(mktemp -d "${TMPDIR:-/tmp}/krbap-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Runs one target; writes its verdict line to $scratch/<target>.result.
run_target() {
    local t=$1 corpus artifacts log status artifact
    if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
        corpus=$FUZZ_CORPUS_DIR/$t
    else
        corpus=$scratch/corpus-$t
    fi
    mkdir -p "$corpus"
    cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null
    artifacts=$root/fuzz/artifacts/$t
    mkdir -p "$artifacts"
    log=$scratch/$t.log
    # The outer timeout is a backstop should libFuzzer itself not stop.
    timeout -k 10 $((seconds + 120)) "$bin_dir/$t" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb="$rss_mb" \
        -malloc_limit_mb="$rss_mb" -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    status=$?
    local runs rss
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    if [ $status -eq 0 ]; then
        echo "ok   $t: ${runs:-?} inputs in $seconds s, peak RSS ${rss:-?} MB" >"$scratch/$t.result"
        return
    fi
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    {
        echo "FAIL $t (exit status $status)"
        grep -E "panicked|ERROR: libFuzzer|SUMMARY|out-of-memory|timeout" "$log" | head -n 5 | sed 's/^/     /'
        if [ -n "$artifact" ]; then
            echo "     input: $artifact"
            echo "     reproduce: $bin_dir/$t $artifact"
        else
            echo "     no input saved; log:"
            tail -n 20 "$log" | sed 's/^/     /'
        fi
    } >"$scratch/$t.result"
}

running=0
for t in $targets; do
    if [ ! -d "fuzz/seeds/$t" ]; then
        echo "FAIL $t (no seeds in fuzz/seeds/$t)" >"$scratch/$t.result"
        continue
    fi
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

passed=0
failed=0
for t in $targets; do
    if [ -f "$scratch/$t.result" ] && head -n 1 "$scratch/$t.result" | grep -q '^ok '; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
    cat "$scratch/$t.result" 2>/dev/null || echo "FAIL $t (no result)"
done
echo "== fuzz: done in $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
