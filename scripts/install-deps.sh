#!/usr/bin/env bash
# Installs, with apt-get, what `make test` needs beyond the Rust toolchain: a C/C++
# toolchain, pkg-config, valgrind, and MIT krb5 (KDC, admin server, client tools, the
# gss-sample programs, headers, python3-gssapi) for the interoperability tests, and the
# other real peers (HTTP server and browser, AD domain controller, Redis: peer_packages).
# Idempotent: when everything is present it only checks (dpkg-query) and prints one line.
# Runs as root without a TTY (CI); as another user it uses `sudo -n` when it can.
set -euo pipefail

# Debian package -> a command that proves it is usable. Tools found on PATH count as
# present even when they came from elsewhere; the krb5 packages are checked with dpkg.
tool_packages=(gcc:gcc g++:g++ make:make pkg-config:pkg-config valgrind:valgrind)
tool_packages+=(cmake:cmake dpkg-dev:dpkg-shlibdeps)   # packaging: CMake consumer (tests/install.sh), make deb (tests/deb.sh)
krb5_packages=(krb5-kdc krb5-admin-server krb5-user krb5-gss-samples libkrb5-dev python3-gssapi)
# The other real peers, checked with dpkg like the krb5 packages, one line per suite:
peer_packages=(
    python3-venv python3-dev curl                     # tests/interop/pyvenv.sh (pykrb5 builds from source), curl --negotiate
    apache2 libapache2-mod-auth-gssapi chromium       # HTTP Negotiate: the reference server and a real browser
    samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind   # a real AD domain controller (PAC tests)
    redis-server                                      # the farm-wide replay cache
    openssl                                           # rediss: tests, a throwaway CA (tests/interop/redis.sh --tls)
)

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

missing=()
for entry in "${tool_packages[@]}"; do
    package=${entry%%:*}
    command=${entry#*:}
    command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
have_dpkg=true
command -v dpkg-query >/dev/null 2>&1 || have_dpkg=false
for package in "${krb5_packages[@]}" "${peer_packages[@]}"; do
    if ! $have_dpkg || ! is_installed "$package"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all test dependencies present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]}, and this is not a Debian/Ubuntu system:" >&2
    echo "install-deps: install them (or their equivalents) by hand" >&2
    exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        echo "install-deps: missing ${missing[*]}; run this script as root to install them" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# krb5-config (pulled in by the krb5 packages) asks for a default realm: noninteractive
# debconf takes the default (none); the tests write their own krb5.conf.
"${as_root[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: done"
