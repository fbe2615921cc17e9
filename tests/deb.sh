#!/usr/bin/env bash
# `make deb`: the package's contents and control data, then the package installed on this
# machine with dpkg -i, used, and purged, leaving the machine as it was:
# - contents: the library under its versioned name with the SONAME and dev links, the
#   static library, header, pkg-config and CMake files in the multiarch libdir, the CLI,
#   every man page (gzipped) and the completions, the copyright; all owned by root;
#   Depends (dpkg-shlibdeps), shlibs, the ldconfig trigger, md5sums that verify;
# - installed: dpkg says installed, the loader's cache has libkrbap.so.X, /usr/bin/krbap
#   runs, dpkg --verify is clean; a C program built with pkg-config (no -L, no rpath)
#   and the C++ CMake project (tests/cmake-consumer, no prefix hint) build and run;
# - purged: dpkg says not installed, none of the package's files is left, the loader's
#   cache no longer has libkrbap.
# Runs of this script on one machine take turns (flock); the dpkg lock of a concurrent
# apt-get is waited for. When a krbap package is already installed (someone's own), the
# install part is skipped, not counted. Needs dpkg-dev, cmake, g++, pkg-config; as root.
# Last line: N passed, N failed.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$root/tests/interop/lib.sh"
cd "$root" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-deb-test.XXXXXX") || exit 2
installed_by_us=false
cleanup() {
    if $installed_by_us; then dpkg --purge krbap >/dev/null 2>&1; fi
    rm -rf -- "$work"
}
trap cleanup EXIT

mk() { make -s --no-print-directory "$@"; }
version=$(mk print-version)
soname=$(mk print-soname)
major=${soname##*.so.}
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
libdir=usr/lib/$multiarch
real=libkrbap.so.$version

# ---------------------------------------------------------------- build and contents
if deb=$(DEB_OUT=$work/out mk deb 2>"$work/deb.log" | tail -n 1) && [ -f "$deb" ]; then
    pass "make deb: $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"
else
    fail "make deb" "$(tail -n 30 "$work/deb.log")"
    summary
    exit 1
fi
check "file name krbap_${version}_$arch.deb" test "$(basename "$deb")" = "krbap_${version}_$arch.deb"

dpkg-deb -c "$deb" >"$work/contents"
# The paths (./usr/... -> usr/...) with " -> target" for links.
awk '{ p = $6; sub(/^\.\//, "", p); if ($7 == "->") p = p " -> " $8; print p }' \
    "$work/contents" | grep -v '/$' | grep -v '^$' | sort >"$work/paths"
{
    echo "usr/bin/krbap"
    echo "usr/include/krbap.h"
    echo "$libdir/$real"
    echo "$libdir/$soname -> $real"
    echo "$libdir/libkrbap.so -> $real"
    echo "$libdir/libkrbap.a"
    echo "$libdir/pkgconfig/krbap.pc"
    echo "$libdir/cmake/krbap/krbap-config.cmake"
    echo "$libdir/cmake/krbap/krbap-config-version.cmake"
    for page in build/share/man/man1/*.1; do echo "usr/share/man/man1/$(basename "$page").gz"; done
    echo "usr/share/bash-completion/completions/krbap"
    echo "usr/share/zsh/vendor-completions/_krbap"
    echo "usr/share/fish/vendor_completions.d/krbap.fish"
    echo "usr/share/doc/krbap/copyright"
} | sort >"$work/expected"
same "contents: exactly the expected files and links ($(wc -l <"$work/expected"))" \
    "$work/expected" "$work/paths"
check "contents: everything owned by root/root" \
    bash -c "! awk '{print \$2}' '$work/contents' | grep -vqx root/root"

field() { dpkg-deb -f "$deb" "$1"; }
check "control: Package krbap, Version $version, Architecture $arch" \
    test "$(field Package) $(field Version) $(field Architecture)" = "krbap $version $arch"
check "control: Depends on libc6 (from dpkg-shlibdeps): $(field Depends)" \
    grep -Eq '(^|, )libc6 \(>= [0-9.]+\)' <<<"$(field Depends)"
check "control: Maintainer and Description present" test -n "$(field Maintainer)" -a -n "$(field Description)"
mkdir -p "$work/ctl" "$work/x"
dpkg-deb -e "$deb" "$work/ctl"
dpkg-deb -x "$deb" "$work/x"
check "shlibs: libkrbap $major krbap (>= $version)" \
    test "$(cat "$work/ctl/shlibs")" = "libkrbap $major krbap (>= $version)"
check "triggers: activate-noawait ldconfig" grep -qx 'activate-noawait ldconfig' "$work/ctl/triggers"
check "md5sums verify every file" bash -c "cd '$work/x' && md5sum --quiet -c '$work/ctl/md5sums'"
check "the packaged library's SONAME is $soname" \
    bash -c "readelf -d '$work/x/$libdir/$real' | grep -q 'Library soname: \[$soname\]'"
check "the packaged library and CLI are stripped" \
    bash -c "! readelf -S '$work/x/$libdir/$real' '$work/x/usr/bin/krbap' | grep -q '\.symtab\|\.debug'"
check "krbap.pc: prefix /usr, libdir /$libdir" \
    grep -qx "libdir=/$libdir" "$work/x/$libdir/pkgconfig/krbap.pc"
check "man pages are gzip" gzip -t "$work/x/usr/share/man/man1/krbap.1.gz"

# ---------------------------------------------------------------- install, use, purge
if [ "$(id -u)" != 0 ]; then
    echo "(not root: the dpkg -i part is skipped)"
    echo "$T_PASS passed, $T_FAIL failed, 1 skipped"
    [ "$T_FAIL" = 0 ]
    exit
fi
state() { dpkg-query -W -f='${db:Status-Status}' krbap 2>/dev/null; }
exec 9>"${TMPDIR:-/tmp}/krbap-deb-test.lock"
flock -w 900 9 || { fail "another tests/deb.sh held the lock for 15 minutes"; summary; exit 1; }
before=$(state)
if [ -n "$before" ] && [ "$before" != not-installed ] && [ "$before" != config-files ]; then
    echo "(a krbap package is installed here ($before): install, use and purge skipped)"
    echo "$T_PASS passed, $T_FAIL failed, 1 skipped"
    [ "$T_FAIL" = 0 ]
    exit
fi
ldconfig -p >"$work/ldcache.before"

# dpkg refuses to run while apt-get (another test, a helper) holds its lock: wait for it.
dpkg_wait() {
    local deadline=$((SECONDS + 600)) out
    while :; do
        if out=$(dpkg "$@" 2>&1); then return 0; fi
        if grep -qi 'lock' <<<"$out" && [ "$SECONDS" -lt "$deadline" ]; then
            sleep 5
            continue
        fi
        printf '%s\n' "$out"
        return 1
    done
}

installed_by_us=true
if out=$(dpkg_wait -i "$deb"); then
    pass "dpkg -i $(basename "$deb")"
else
    fail "dpkg -i $(basename "$deb")" "$out"
fi
check "dpkg-query: krbap installed" test "$(state)" = installed
# (/lib is /usr/lib on a merged-/usr system: the cache may name either.)
check "the loader's cache has $soname" \
    bash -c "ldconfig -p | grep -Eq '$soname .*=> (/usr)?/${libdir#usr/}/$soname\$'"
check "/usr/bin/krbap --version: krbap $version" test "$(/usr/bin/krbap --version 2>&1)" = "krbap $version"
check "dpkg --verify krbap: nothing changed" test -z "$(dpkg --verify krbap 2>&1)"
dpkg -L krbap | sort >"$work/listed"

# A C program from the system's pkg-config: no -L, no rpath, no LD_LIBRARY_PATH.
if read -r -a flags <<<"$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs krbap)" &&
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -Ic-tests c-tests/test_status.c \
        -o "$work/c-consumer" "${flags[@]}" >"$work/c.log" 2>&1; then
    pass "C program built with pkg-config krbap ($(env -u PKG_CONFIG_PATH pkg-config --modversion krbap))"
    if out=$(env -u LD_LIBRARY_PATH "$work/c-consumer" 2>&1); then
        pass "C program runs against /$libdir/$soname: $(tail -n 1 <<<"$out")"
    else
        fail "C program runs" "$(tail -n 10 <<<"$out")"
    fi
    check "C program loads /$libdir/$soname" \
        bash -c "ldd '$work/c-consumer' | grep -Eq '$soname => (/usr)?/${libdir#usr/}/$soname '"
else
    fail "C program built with pkg-config krbap" "$(cat "$work/c.log")"
fi
# The C++ CMake project, finding the package by itself in /usr.
dir=$work/cmake
if cmake -S tests/cmake-consumer -B "$dir" -DKRBAP_TARGET=krbap::krbap \
    -DKRBAP_REQUEST="$major" -DEXPECTED_VERSION="$version" >"$dir.log" 2>&1 &&
    cmake --build "$dir" >>"$dir.log" 2>&1; then
    pass "C++ CMake project finds krbap: $(grep -o "krbap $version from [^,]*" "$dir.log")"
    if out=$("$dir/consumer" 2>&1); then pass "C++ CMake project runs: $out"; else
        fail "C++ CMake project runs" "$out"; fi
else
    fail "C++ CMake project against the package" "$(tail -n 30 "$dir.log")"
fi

if out=$(dpkg_wait --purge krbap); then
    installed_by_us=false
    pass "dpkg --purge krbap"
else
    fail "dpkg --purge krbap" "$out"
fi
check "dpkg-query: krbap not installed" bash -c "s=\$(dpkg-query -W -f='\${db:Status-Status}' krbap 2>/dev/null); [ -z \"\$s\" ] || [ \"\$s\" = not-installed ]"
left=$(grep -v '^/\.$' "$work/listed" | while read -r f; do
    if [ -e "$f" ] || [ -L "$f" ]; then
        # Directories shared with other packages (/usr/share/man/man1, ...) stay.
        [ -d "$f" ] && [ ! -L "$f" ] && [ -n "$(ls -A "$f")" ] && continue
        [ -d "$f" ] && [ ! -L "$f" ] && dpkg -S "$f" >/dev/null 2>&1 && continue
        echo "$f"
    fi
done)
if [ -z "$left" ]; then pass "no file of the package is left"; else fail "no file of the package is left" "$left"; fi
ldconfig -p >"$work/ldcache.after"
same "the loader's cache is as before" "$work/ldcache.before" "$work/ldcache.after"

summary
