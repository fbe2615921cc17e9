#!/usr/bin/env bash
# `make install` and `make uninstall` as a system library is installed, and krbap used the
# way C and C++ projects use it:
# - DESTDIR staging: libkrbap.so.X.Y.Z with SONAME libkrbap.so.X and the links
#   libkrbap.so.X and libkrbap.so, the static library, header, pkg-config and CMake files
#   (naming the final paths, not DESTDIR), the CLI with its man pages and completions (the
#   same the installed CLI generates); `make uninstall` leaves no file behind;
# - a C++17 project built with CMake (tests/cmake-consumer) against a `make install`
#   prefix through find_package(krbap CONFIG), once with krbap::krbap (records the SONAME)
#   and once with krbap::krbap_static (no libkrbap.so), each run; version requests that
#   the version file must accept and refuse;
# - a C program built with pkg-config records the SONAME and runs.
# Needs the release build (make build), cmake, g++, pkg-config. Last line: N passed, N failed.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$root/tests/interop/lib.sh"
cd "$root" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-install-test.XXXXXX") || exit 2
trap 'rm -rf -- "$work"' EXIT

mk() { make -s --no-print-directory "$@"; }
version=$(mk print-version)
soname=$(mk print-soname)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
real=libkrbap.so.$version

# ldd/readelf: the NEEDED entries of a binary.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
soname_of() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }

# ---------------------------------------------------------------- DESTDIR staging
dest=$work/dest
prefix=/opt/krbap-test
if mk install DESTDIR="$dest" PREFIX="$prefix" >"$work/install.log" 2>&1; then
    pass "make install DESTDIR=... PREFIX=$prefix"
else
    fail "make install DESTDIR=... PREFIX=$prefix" "$(tail -n 20 "$work/install.log")"
    summary
    exit 1
fi
d=$dest$prefix
check "$real is a regular file" test -f "$d/lib/$real" -a ! -L "$d/lib/$real"
check "$soname -> $real" test "$(readlink "$d/lib/$soname")" = "$real"
check "libkrbap.so -> $real" test "$(readlink "$d/lib/libkrbap.so")" = "$real"
check "the installed library's SONAME is $soname" test "$(soname_of "$d/lib/$real")" = "$soname"
for f in bin/krbap lib/libkrbap.a include/krbap.h lib/pkgconfig/krbap.pc \
    lib/cmake/krbap/krbap-config.cmake lib/cmake/krbap/krbap-config-version.cmake \
    share/bash-completion/completions/krbap share/zsh/site-functions/_krbap \
    share/fish/vendor_completions.d/krbap.fish share/man/man1/krbap.1 \
    share/man/man1/krbap-keytab-list.1 share/man/man1/krbap-kinit.1; do
    check "installed: $f" test -s "$d/$f"
done
check "the header is the committed one" cmp "$d/include/krbap.h" include/krbap.h
check "the CMake and pkg-config files name $prefix, not DESTDIR" \
    bash -c "! grep -rq '$dest' '$d/lib/cmake' '$d/lib/pkgconfig' && grep -q '\"$prefix/lib\"' '$d/lib/cmake/krbap/krbap-config.cmake'"
if out=$("$d/bin/krbap" --version 2>&1) && [ "$out" = "krbap $version" ]; then
    pass "installed krbap --version: $out"
else
    fail "installed krbap --version" "$out"
fi
# The installed pages and completions are what the installed CLI itself describes.
if "$d/bin/krbap" generate-assets "$work/assets" >/dev/null 2>&1 &&
    diff -r "$work/assets/man/man1" "$d/share/man/man1" >"$work/man.diff" 2>&1; then
    pass "the man pages ($(ls "$d/share/man/man1" | wc -l)) match the installed CLI"
else
    fail "the man pages match the installed CLI" "$(cat "$work/man.diff")"
fi
check "the bash completion matches the installed CLI" \
    cmp "$work/assets/completions/krbap.bash" "$d/share/bash-completion/completions/krbap"
if command -v groff >/dev/null; then
    check "krbap.1 formats without warnings" \
        bash -c "[ -z \"\$(groff -man -Tutf8 -ww -z '$d/share/man/man1/krbap.1' 2>&1)\" ]"
fi
check "bash reads the completion script" bash -n "$d/share/bash-completion/completions/krbap"

if mk uninstall DESTDIR="$dest" PREFIX="$prefix" >"$work/uninstall.log" 2>&1; then
    left=$(find "$dest" ! -type d)
    if [ -z "$left" ]; then pass "make uninstall removes every file and link"; else
        fail "make uninstall removes every file and link" "$left"; fi
else
    fail "make uninstall" "$(tail -n 20 "$work/uninstall.log")"
fi

# ---------------------------------------------------------------- a real prefix: CMake, pkg-config
prefix=$work/prefix
if ! mk install PREFIX="$prefix" >"$work/install2.log" 2>&1; then
    fail "make install PREFIX=$prefix" "$(tail -n 20 "$work/install2.log")"
    summary
    exit 1
fi

# cmake_consumer NAME TARGET REQUEST: configure + build tests/cmake-consumer; 0 when built.
cmake_consumer() {
    local dir=$work/cmake-$1
    cmake -S tests/cmake-consumer -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" \
        -DKRBAP_TARGET="$2" -DKRBAP_REQUEST="$3" -DEXPECTED_VERSION="$version" \
        >"$dir.log" 2>&1 && cmake --build "$dir" >>"$dir.log" 2>&1
}

# run_consumer NAME BINARY: its own "N passed, 0 failed" line and exit status 0.
run_consumer() {
    local out
    if out=$("$2" 2>&1) && grep -Eq '^[1-9][0-9]* passed, 0 failed$' <<<"$out"; then
        pass "$1 runs: $out"
    else
        fail "$1 runs" "$out"
    fi
}

if cmake_consumer shared krbap::krbap "$major.$minor"; then
    pass "C++ project: find_package(krbap $major.$minor CONFIG), krbap::krbap builds"
    bin=$work/cmake-shared/consumer
    check "krbap::krbap: the program records NEEDED $soname" grep -qx "$soname" <<<"$(needed "$bin")"
    run_consumer "C++ consumer (krbap::krbap)" "$bin"
else
    fail "C++ project with krbap::krbap" "$(tail -n 30 "$work/cmake-shared.log")"
fi
if cmake_consumer static krbap::krbap_static "$major"; then
    pass "C++ project: find_package(krbap $major CONFIG), krbap::krbap_static builds"
    bin=$work/cmake-static/consumer
    check "krbap::krbap_static: no libkrbap.so needed" bash -c "! grep -q libkrbap <<<'$(needed "$bin")'"
    run_consumer "C++ consumer (krbap::krbap_static)" "$bin"
else
    fail "C++ project with krbap::krbap_static" "$(tail -n 30 "$work/cmake-static.log")"
fi
# The version file: same major and not older, or a range containing this version.
if cmake_consumer range krbap::krbap "$major.$minor...<$((major + 1))"; then
    pass "find_package(krbap $major.$minor...<$((major + 1))) accepts $version"
else
    fail "find_package(krbap $major.$minor...<$((major + 1))) accepts $version" \
        "$(tail -n 20 "$work/cmake-range.log")"
fi
for request in "$major.$((minor + 1))" "$((major + 1))" "$((major + 1)).0...<$((major + 2))"; do
    name=refuse-${request//[^0-9a-z]/_}
    if cmake_consumer "$name" krbap::krbap "$request"; then
        fail "find_package(krbap $request) refuses $version" "it was accepted"
    elif grep -q 'with requested version' "$work/cmake-$name.log"; then
        pass "find_package(krbap $request) refuses $version"
    else
        fail "find_package(krbap $request) refuses $version" "$(tail -n 20 "$work/cmake-$name.log")"
    fi
done

# pkg-config: the program records the SONAME, and finds the library through it.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
read -r -a flags <<<"$(pkg-config --cflags --libs krbap)"
if gcc -std=c11 -Wall -Wextra -Werror -pedantic -Ic-tests c-tests/test_status.c \
    -o "$work/pc-shared" "${flags[@]}" >"$work/pc.log" 2>&1; then
    check "pkg-config build records NEEDED $soname" grep -qx "$soname" <<<"$(needed "$work/pc-shared")"
    if out=$(LD_LIBRARY_PATH=$prefix/lib "$work/pc-shared" 2>&1); then
        pass "pkg-config build runs against $prefix/lib/$soname"
    else
        fail "pkg-config build runs" "$(tail -n 10 <<<"$out")"
    fi
else
    fail "pkg-config build compiles" "$(cat "$work/pc.log")"
fi
# And a program linked against the build tree finds target/release/$soname (build.rs).
check "target/release/$soname -> libkrbap.so (build.rs)" \
    test "$(readlink target/release/"$soname")" = libkrbap.so

summary
