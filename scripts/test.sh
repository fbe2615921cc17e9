#!/usr/bin/env bash
# The driver behind `make test` (and `make test-asan` with --asan). Stages, in order:
#   deps      scripts/install-deps.sh (apt-get, only what is missing)
#   lint      cargo fmt --check (also in fuzz/); cargo clippy --all-targets -- -D warnings
#   build     cargo build --release (libkrbap.so, libkrbap.a, the krbap CLI, the header)
#   rust      cargo test --profile test-release (release optimizations without fat LTO: Cargo.toml)
#   header    the committed include/krbap.h equals the one the build generated
#   c         every c-tests/*.c built against the shared library, the static library and
#             as C++17, each run; the shared build under valgrind; an ASan+UBSan build
#   install   make install into a temporary prefix; a C test built with pkg-config
#   scripts   every executable tests/*.sh, up to KRBAP_TEST_JOBS (4) at once, each printing
#             "N passed, N failed"; logs shown in name order
# Then ONE line "N passed, N failed" (C checks + scripts' counts + one per gate: fmt,
# clippy, header, install; a failed cargo test adds one failure, its passes are counted
# by cargo's own summary lines). Exits non-zero if anything failed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=$root/target/release
build=$root/build/c-tests
mode=full
case "${1:-}" in
    "") ;;
    --asan) mode=asan ;;
    *) echo "usage: $0 [--asan]" >&2; exit 2 ;;
esac

passed=0
failed=0
failures=()
failed_checks=() # the failing checks of each suite and their first detail lines, for the end

# failed_lines NAME LOG: a suite's FAIL lines with up to 8 of their indented detail lines,
# so that the end of a CI log (often all one sees of it) says what failed and why.
failed_lines() {
    echo "$1:"
    awk '/^(FAIL|not ok)[ :]/ { n = 8; print "    " $0; next }
         n > 0 && /^[ \t]/ { n--; print "    " $0; next }
         { n = 0 }' "$2" | head -n 60
}

pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    failures+=("$1")
    echo "  FAIL $1"
}
stage() { echo "== $1 (at ${SECONDS}s)"; }
# Runs a gate command: one pass or one failure.
gate() {
    local name=$1
    shift
    if "$@"; then pass; else fail "$name"; fi
}
fatal() {
    echo "test: $1: cannot go on" >&2
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
}

# Adds the counts of the last "N passed, N failed" line of $2 (a log) under the name $1;
# a missing line or a non-zero exit status $3 without a counted failure is one failure.
count_run() {
    local name=$1 log=$2 status=$3 line p f
    line=$(grep -E '^[[:space:]]*([A-Za-z]+:[[:space:]]*)?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        fail "$name (no 'N passed, N failed' line, exit status $status)"
        return
    fi
    p=$(sed -E 's/^[^0-9]*([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures+=("$name ($f failed)")
        failed_checks+=("$(failed_lines "$name" "$log")")
        echo "  FAIL $name: $p passed, $f failed"
    elif [ "$status" -ne 0 ]; then
        fail "$name (exit status $status)"
    else
        echo "  ok   $name: $p checks"
    fi
}

# Runs one built test program (cwd = repository root) and counts it; shows its output
# when it failed.
run_c() {
    local name=$1 log=$build/$2.log status
    shift 2
    "$@" >"$log" 2>&1 </dev/null
    status=$?
    local before=$failed
    count_run "$name" "$log" "$status"
    if [ "$failed" -ne "$before" ]; then sed 's/^/  | /' "$log" | tail -n 60; fi
}

# Compiles with the given command; a compile error is one failure (and shows it).
compile() {
    local name=$1 log=$build/$2.compile.log
    shift 2
    if "$@" >"$log" 2>&1; then
        return 0
    fi
    fail "$name does not compile"
    sed 's/^/  | /' "$log" | head -n 40
    return 1
}

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -pthread -I"$root/include" -I"$root/c-tests")
cxxflags=(-x c++ -std=c++17 -Wall -Wextra -Werror -pedantic -pthread -I"$root/include"
    -I"$root/c-tests")
shared_libs=(-L"$release" -lkrbap -Wl,-rpath,"$release")
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer -g)
# Suppression files, used when present. Neither valgrind nor LeakSanitizer reports
# anything today (the Rust runtime's one-time allocations stay reachable); an entry
# added there must say which documented one-time allocation it covers.
valgrind_supp=()
[ -f "$root/c-tests/valgrind.supp" ] && valgrind_supp=(--suppressions="$root/c-tests/valgrind.supp")
lsan_options=print_suppressions=0
[ -f "$root/c-tests/lsan.supp" ] && lsan_options+=":suppressions=$root/c-tests/lsan.supp"
native_static_libs=${NATIVE_STATIC_LIBS:-$(make -s --no-print-directory print-native-static-libs)}
read -r -a static_libs <<<"$release/libkrbap.a $native_static_libs"

# Extra pkg-config modules a test names on a "// krbap-test-pkgs: ..." line.
test_pkgs() {
    local modules
    modules=$(sed -n 's|^// krbap-test-pkgs:||p' "$1" | head -n 1)
    [ -n "$modules" ] || return 0
    # shellcheck disable=SC2086  # a list of module names
    pkg-config --cflags --libs $modules
}

c_tests() {
    local with_asan=$1 src name extra
    mkdir -p "$build"
    shopt -s nullglob
    local sources=("$root"/c-tests/*.c)
    shopt -u nullglob
    if [ ${#sources[@]} -eq 0 ]; then
        fail "no C tests in c-tests/"
        return
    fi
    for src in "${sources[@]}"; do
        name=$(basename "$src" .c)
        if ! extra=$(test_pkgs "$src"); then
            fail "$name: pkg-config modules missing"
            continue
        fi
        local -a extra_libs=()
        read -r -a extra_libs <<<"$extra"
        if [ "$with_asan" = only ]; then
            :
        else
            if compile "$name [shared]" "$name.shared" \
                gcc "${cflags[@]}" "$src" -o "$build/$name.shared" "${shared_libs[@]}" "${extra_libs[@]}"; then
                run_c "$name [shared]" "$name.shared" "$build/$name.shared"
                # Only definite and indirect leaks count: "still reachable" blocks are the
                # one-time allocations of the Rust runtime and of MIT's libraries.
                run_c "$name [shared, valgrind]" "$name.valgrind" \
                    valgrind -q --error-exitcode=1 --leak-check=full \
                    --errors-for-leak-kinds=definite,indirect "${valgrind_supp[@]}" \
                    "$build/$name.shared"
            fi
            if compile "$name [static]" "$name.static" \
                gcc "${cflags[@]}" "$src" -o "$build/$name.static" "${static_libs[@]}" "${extra_libs[@]}"; then
                run_c "$name [static]" "$name.static" "$build/$name.static"
            fi
            if compile "$name [C++]" "$name.cxx" \
                g++ "${cxxflags[@]}" "$src" -x none -o "$build/$name.cxx" "${shared_libs[@]}" "${extra_libs[@]}"; then
                run_c "$name [C++]" "$name.cxx" "$build/$name.cxx"
            fi
        fi
        if [ "$with_asan" != no ]; then
            if compile "$name [ASan+UBSan]" "$name.asan" \
                gcc "${cflags[@]}" "${sanitize[@]}" "$src" -o "$build/$name.asan" "${shared_libs[@]}" "${extra_libs[@]}"; then
                ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=$lsan_options \
                    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                    run_c "$name [ASan+UBSan]" "$name.asan" "$build/$name.asan"
            fi
        fi
    done
}

header_check() {
    if ! git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        echo "  (not a git checkout: header check skipped)"
        return 0
    fi
    if ! git -C "$root" ls-files --error-unmatch include/krbap.h >/dev/null 2>&1; then
        echo "  include/krbap.h is not committed: commit the header the build generated" >&2
        return 1
    fi
    if ! git -C "$root" diff --exit-code --stat -- include/krbap.h; then
        echo "  include/krbap.h is stale: the build regenerated it from src/ffi/;" >&2
        echo "  review \`git diff include/krbap.h\` and commit the regenerated header" >&2
        return 1
    fi
}

install_check() {
    local prefix status=0
    prefix=$(mktemp -d "${TMPDIR:-/tmp}/krbap-install.XXXXXX") || return 1
    installed_package_works "$prefix" || status=1
    rm -rf "$prefix"
    return $status
}

# Each step is checked explicitly: `set -e` is ignored in a function whose status is tested.
installed_package_works() {
    local prefix=$1 step
    step() {
        "$@" && return 0
        echo "  install check failed at: $*" >&2
        return 1
    }
    if ! make -s --no-print-directory install PREFIX="$prefix" >"$build/install.log" 2>&1; then
        sed 's/^/  | /' "$build/install.log"
        return 1
    fi
    local -x PKG_CONFIG_PATH=$prefix/lib/pkgconfig
    local version flags=()
    step cmp "$prefix/include/krbap.h" "$root/include/krbap.h" || return 1
    version=$(pkg-config --modversion krbap) || return 1
    step [ "$version" = "$(make -s --no-print-directory print-version)" ] || return 1
    read -r -a flags <<<"$(pkg-config --cflags --libs krbap)" || return 1
    step gcc -std=c11 -Wall -Wextra -Werror -pedantic -I"$root/c-tests" \
        "$root/c-tests/test_status.c" -o "$build/installed.shared" "${flags[@]}" \
        -Wl,-rpath,"$prefix/lib" || return 1
    step "$build/installed.shared" >"$build/installed.shared.log" 2>&1 || return 1
    # Static: the installed archive plus the Libs.private of krbap.pc.
    read -r -a flags <<<"$(pkg-config --static --cflags --libs krbap | sed 's/-lkrbap\b/-l:libkrbap.a/')"
    step gcc -std=c11 -Wall -Wextra -Werror -pedantic -I"$root/c-tests" \
        "$root/c-tests/test_status.c" -o "$build/installed.static" "${flags[@]}" || return 1
    step "$build/installed.static" >"$build/installed.static.log" 2>&1 || return 1
    if ldd "$build/installed.static" | grep -q libkrbap; then
        echo "  the static build links libkrbap.so" >&2
        return 1
    fi
}

script_tests() {
    local script log status name
    shopt -s nullglob
    local scripts=("$root"/tests/*.sh)
    shopt -u nullglob
    if [ ${#scripts[@]} -eq 0 ]; then
        echo "  (no tests/*.sh)"
        return
    fi
    export KRBAP_RELEASE_DIR=$release KRBAP_CLI=$release/krbap
    # The scripts are independent (each has its own temp dir, free loopback ports and
    # servers stopped by pid), so up to KRBAP_TEST_JOBS run at once; most of their time is
    # waiting (servers, fuzzing for a fixed time), not CPU. Logs are shown whole, in name
    # order, once every script has ended.
    local jobs=${KRBAP_TEST_JOBS:-4} running=0
    local -a runnable=()
    for script in "${scripts[@]}"; do
        if [ ! -x "$script" ]; then
            echo "  (skipped, not executable: ${script#"$root"/})"
            continue
        fi
        runnable+=("$script")
        name=$(basename "$script")
        log=$build/$name.log
        rm -f "$log.status"
        if [ "$running" -ge "$jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
        echo "  -- ${script#"$root"/} (started at ${SECONDS}s)"
        (
            start=$SECONDS
            "$script" </dev/null >"$log" 2>&1
            echo $? >"$log.status"
            echo "  -- ${script#"$root"/} ended after $((SECONDS - start))s"
        ) &
        running=$((running + 1))
    done
    wait
    for script in "${runnable[@]}"; do
        name=$(basename "$script")
        log=$build/$name.log
        status=$(cat "$log.status" 2>/dev/null || echo 1)
        echo "  -- ${script#"$root"/}"
        sed 's/^/  | /' "$log"
        count_run "${script#"$root"/}" "$log" "$status"
    done
}

# `make demo` must show all six steps and end well.
demo_check() {
    local log=$build/demo.log
    if ! scripts/demo.sh >"$log" 2>&1 </dev/null; then
        sed 's/^/  | /' "$log" | tail -n 40
        return 1
    fi
    local step missing=0
    for step in 1 2 3 4 5 6; do
        grep -qi "step $step" "$log" || { echo "  demo output lacks step $step"; missing=1; }
    done
    [ "$missing" -eq 0 ] || sed 's/^/  | /' "$log" | tail -n 40
    return "$missing"
}

mkdir -p "$build"
if [ "$mode" = full ]; then
    stage deps
    scripts/install-deps.sh || fatal "installing the test dependencies failed"
    stage "cargo fmt --check"
    gate "cargo fmt --check" cargo fmt --check
    # The fuzz crate is its own workspace: the root check does not see it.
    gate "cargo fmt --check (fuzz/)" cargo fmt --check --manifest-path fuzz/Cargo.toml
    stage "cargo clippy --all-targets -- -D warnings"
    gate "cargo clippy" cargo clippy --all-targets -- -D warnings
fi
stage "cargo build --release"
cargo build --release || fatal "cargo build --release failed"
if [ "$mode" = full ]; then
    stage "cargo test --profile test-release"
    cargo test --profile test-release || fail "cargo test --profile test-release"
    stage "header"
    gate "include/krbap.h is up to date" header_check
    stage "C tests (shared, valgrind, static, C++, ASan+UBSan)"
    c_tests yes
    stage "make install + pkg-config"
    gate "make install + pkg-config" install_check
    stage "examples (C11 -Werror) and make demo"
    gate "make examples" make -s --no-print-directory examples
    gate "make demo" demo_check
    stage "tests/*.sh"
    script_tests
else
    stage "C tests (ASan+UBSan)"
    c_tests only
fi

stage "done"
if [ ${#failures[@]} -gt 0 ]; then
    echo "Failures:"
    printf '  %s\n' "${failures[@]}"
    if [ ${#failed_checks[@]} -gt 0 ]; then
        echo "Failed checks:"
        printf '%s\n' "${failed_checks[@]}" | sed 's/^/  /'
    fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
