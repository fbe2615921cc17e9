#!/usr/bin/env bash
# `make deb`: build/deb/krbap_VERSION_ARCH.deb, one binary package with everything that
# `make install` installs, in Debian's paths (PREFIX=/usr, the multiarch libdir):
#   usr/bin/krbap, usr/share/man/man1/krbap*.1.gz, the bash/zsh/fish completions;
#   usr/lib/TRIPLET/libkrbap.so.X.Y.Z, its SONAME link libkrbap.so.X, libkrbap.so, libkrbap.a,
#   pkgconfig/krbap.pc, cmake/krbap/; usr/include/krbap.h; usr/share/doc/krbap/copyright.
# Control data: Depends computed by dpkg-shlibdeps, a shlibs file (so that packages built
# against libkrbap depend on this package), the ldconfig trigger, md5sums.
# Needs the release build (make build) and dpkg-dev; no root, no fakeroot (files are
# owned by root in the archive through dpkg-deb --root-owner-group).
# Env: DEB_MAINTAINER (the Maintainer field), DEB_OUT (output directory, default build/deb).
set -euo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
for tool in dpkg-deb dpkg-architecture dpkg-shlibdeps strip; do
    command -v "$tool" >/dev/null || { echo "deb: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

version=$(make -s --no-print-directory print-version)
soname=$(make -s --no-print-directory print-soname)
major=${soname##*.so.}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
maintainer=${DEB_MAINTAINER:-krbap developers <krbap@invalid>}
out=${DEB_OUT:-$root/build/deb}
deb=$out/krbap_${version}_${arch}.deb
libdir=/usr/lib/$multiarch

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-deb.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
stage=$work/root

# Exactly what `make install` installs, in Debian's layout (zsh: vendor-completions).
make -s --no-print-directory install DESTDIR="$stage" PREFIX=/usr LIBDIR="$libdir" \
    ZSHCOMPDIR=/usr/share/zsh/vendor-completions LDCONFIG=true >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    exit 1
}

# Debian policy: binaries stripped of debugging symbols, man pages compressed.
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$stage/usr/bin/krbap" "$stage$libdir/libkrbap.so.$version"
strip --strip-debug "$stage$libdir/libkrbap.a"
gzip -9n "$stage"/usr/share/man/man1/*.1

doc=$stage/usr/share/doc/krbap
install -d "$doc"
license=$(sed -n '/^\[package\]/,/^\[/s/^license *= *"\(.*\)"$/\1/p' Cargo.toml)
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: krbap

Files: *
Copyright: the krbap developers
License: $license
 krbap may be used under the terms of the MIT license or of the Apache License,
 Version 2.0 (on Debian systems in /usr/share/common-licenses/Apache-2.0), at your
 option.
EOF
chmod 0644 "$doc/copyright"

# Depends of the shared library and the CLI (libc6, libgcc-s1) from the symbols they use.
mkdir -p "$work/src/debian"
printf 'Source: krbap\n\nPackage: krbap\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$stage/usr/bin/krbap" \
    -e"$stage$libdir/libkrbap.so.$version" 2>"$work/shlibdeps.log" |
    sed -n 's/^shlibs:Depends=//p') || true
if [ -z "$depends" ]; then
    cat "$work/shlibdeps.log" >&2
    echo "deb: dpkg-shlibdeps found no dependencies" >&2
    exit 1
fi

description=$(sed -n '/^\[package\]/,/^\[/s/^description *= *"\(.*\)"$/\1/p' Cargo.toml)
install -d "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<EOF
Package: krbap
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Section: libs
Priority: optional
Description: Kerberos V5 AP exchange library with a GSS-API-style C ABI
 $description.
 .
 This package holds the shared library libkrbap.so.$major, the static library, the
 header, pkg-config and CMake package files, and the krbap command-line tool (keytab
 and credential-cache listing, string-to-key, token diagnosis, kinit and kvno) with its
 man pages and shell completions.
EOF
# Programs built against libkrbap.so.MAJOR need this package at this version or later.
echo "libkrbap $major krbap (>= $version)" >"$stage/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$stage/DEBIAN/triggers"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage"/DEBIAN/*

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
