#!/usr/bin/env bash
# heimdal.sh - Heimdal's GSS-API library beside MIT's, for the SPNEGO interop tests.
#
#   peer=$(tests/interop/heimdal.sh)    # prints the path of the built heimdal_peer
#
# Debian's Heimdal packages conflict with MIT's (krb5-user, libkrb5-dev), so they are not
# installed: `apt-get download` fetches the library packages and dpkg -x unpacks them into
# the build tree (build/heimdal, reused when present). Heimdal's libraries have other
# sonames than MIT's (libgssapi.so.3, libkrb5.so.26), so a program linked against them
# with an rpath (DT_RPATH, which also covers their own dependencies) runs beside MIT's. The peer is tests/interop/heimdal_peer.c.
# Environment: KRBAP_HEIMDAL_DIR (default <repo>/build/heimdal). Progress goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
dir=${KRBAP_HEIMDAL_DIR:-$root/build/heimdal}
packages="libgssapi3-heimdal libkrb5-26-heimdal libasn1-8-heimdal libhcrypto5-heimdal
  libheimbase1-heimdal libhx509-5-heimdal libroken19-heimdal libwind0-heimdal
  libheimntlm0-heimdal heimdal-multidev"
mkdir -p "$dir"
exec 9>"$dir.lock"
flock -w 600 9 || { echo "heimdal.sh: timed out waiting for $dir.lock" >&2; exit 1; }
lib=$dir/root/usr/lib/x86_64-linux-gnu
peer=$dir/heimdal_peer
if [ ! -e "$lib/libgssapi.so.3" ] || [ ! -e "$dir/root/usr/include/heimdal/gssapi/gssapi_spnego.h" ]; then
  echo "heimdal.sh: fetching Heimdal's libraries into $dir" >&2
  rm -rf "$dir/debs" "$dir/root"
  mkdir -p "$dir/debs"
  # shellcheck disable=SC2086  # a list of package names
  (cd "$dir/debs" && apt-get -o DPkg::Lock::Timeout=600 download $packages >&2) \
    || { apt-get -o DPkg::Lock::Timeout=600 update >&2 && (cd "$dir/debs" && apt-get download $packages >&2); }
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir/root"; done
fi
if [ ! -x "$peer" ] || [ "$peer" -ot "$root/tests/interop/heimdal_peer.c" ]; then
  cc -std=c11 -Wall -Wextra -Werror -I"$dir/root/usr/include/heimdal" \
    "$root/tests/interop/heimdal_peer.c" -o "$peer" "$lib/libgssapi.so.3" \
    -Wl,--disable-new-dtags -Wl,-rpath,"$lib" -Wl,-rpath-link,"$lib" >&2
fi
echo "$peer"
