#!/usr/bin/env bash
# realm.sh - the project's own throwaway MIT Kerberos realm for interop tests.
#
#   realm.sh start DIR [--cross]
#                        build realm TEST.LOCAL in DIR and start its KDC on 127.0.0.1;
#                        with --cross also realm OTHER.LOCAL, served by the same krb5kdc
#                        (same port), with cross-realm keys both ways (below)
#   realm.sh stop DIR    stop the KDC started for DIR (only that pid)
#
# start installs the Debian packages it needs when missing (as root, non-interactive),
# writes DIR/krb5.conf and DIR/kdc.conf (never /etc/krb5.conf: everything goes through
# KRB5_CONFIG / KRB5_KDC_PROFILE), creates the principals below, exports keytabs, kinits
# alice into DIR/ccache and writes DIR/env (export lines; `. DIR/env`). Running start
# again on the same DIR stops its KDC and rebuilds everything. Progress goes to stderr.
#
# Principals (fixed passwords, so long-term keys are the same on every run; kvno 1):
#   alice@TEST.LOCAL                 password alice-Passw0rd      keys also in DIR/alice.keytab
#   jürgen@TEST.LOCAL (UTF-8)        password jurgen-Passw0rd
#   bob@TEST.LOCAL                   password bob-Passw0rd (a second user; REALM_CLIENT2*)
#   test/localhost                   password service-Passw0rd, all four AES enctypes
#   test-aes256-sha1/localhost, test-aes128-sha1/localhost,
#   test-aes256-sha384/localhost, test-aes128-sha256/localhost
#                                    one key each (service password) and the string
#                                    attribute session_enctypes=<that enctype>
#   all services are exported (-norandkey) into DIR/keytab.
#   alice and jürgen require pre-authentication (default_principal_flags = +preauth).
#
# DIR/krb5-deadfirst.conf is DIR/krb5.conf with a dead KDC (a closed port on 127.0.0.1)
# listed before the live one (REALM_KRB5_CONFIG_DEAD_FIRST in DIR/env).
#
# With --cross (REALM_OTHER_NAME etc. in DIR/env):
#   krbtgt/OTHER.LOCAL@TEST.LOCAL and krbtgt/TEST.LOCAL@OTHER.LOCAL, in both databases with
#                                    the same password (so the same keys)
#   test/localhost@OTHER.LOCAL, test/host.other.test@OTHER.LOCAL
#                                    service password, exported into DIR/other.keytab
#   [domain_realm] .other.test = OTHER.LOCAL, so the TEST.LOCAL KDC answers a
#   canonicalizing request for test/host.other.test@TEST.LOCAL with a referral (RFC 6806).
set -euo pipefail

REALM=TEST.LOCAL
OTHER=OTHER.LOCAL
CROSS=""
CROSS_PW=cross-Realm-Passw0rd
ALICE_PW=alice-Passw0rd
JURGEN=jürgen
JURGEN_PW=jurgen-Passw0rd
BOB_PW=bob-Passw0rd
SERVICE_PW=service-Passw0rd
AES="aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128"
declare -A SINGLE=(
  [test-aes256-sha1]=aes256-cts-hmac-sha1-96
  [test-aes128-sha1]=aes128-cts-hmac-sha1-96
  [test-aes256-sha384]=aes256-cts-hmac-sha384-192
  [test-aes128-sha256]=aes128-cts-hmac-sha256-128
)
SINGLE_ORDER="test-aes256-sha1 test-aes128-sha1 test-aes256-sha384 test-aes128-sha256"
PACKAGES="krb5-kdc krb5-admin-server krb5-user krb5-gss-samples libkrb5-dev python3-gssapi"
# Files this script creates in DIR (and deletes on a rebuild; nothing else is touched).
GENERATED="krb5.conf kdc.conf env principal principal.kadm5 principal.kadm5.lock principal.ok
  stash kadm5.acl keytab alice.keytab ccache kdc.log kdc.stderr kadmin.log krb5lib.log kdc.pid
  kinit.err krb5-deadfirst.conf other-principal other-principal.kadm5 other-principal.kadm5.lock
  other-principal.ok other-stash other.keytab"

say() { printf 'realm.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

install_packages() {
  local p missing=()
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root to install them"
  say "installing ${missing[*]}"
  local log; log=$(mktemp "${TMPDIR:-/tmp}/realm-apt.XXXXXX")
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
       </dev/null >"$log" 2>&1; then
    tail -n 30 "$log" >&2; rm -f "$log"; die "apt-get failed"
  fi
  rm -f "$log"
}

# True when any local TCP or UDP socket (IPv4 or IPv6) is bound to port $1. krb5kdc sets
# SO_REUSEADDR, so a second KDC can bind a busy UDP port without any error.
port_busy() {
  local hex; hex=$(printf '%04X' "$1")
  awk -v h=":$hex" 'FNR > 1 && toupper(substr($2, length($2) - 4)) == h { found = 1 }
                    END { exit !found }' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}

kdc_pid_if_ours() {  # print the pid in DIR/kdc.pid if it is a krb5kdc started with that pid file
  local dir=$1 pidfile="$1/kdc.pid" pid
  [ -s "$pidfile" ] || return 1
  pid=$(tr -cd '0-9' <"$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qx -- "$pidfile" || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 | grep -q 'krb5kdc$' || return 1
  echo "$pid"
}

stop_realm() {
  local dir=$1 pid
  if pid=$(kdc_pid_if_ours "$dir"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    say "stopped krb5kdc pid $pid"
  elif [ -e "$dir/kdc.pid" ]; then
    say "$dir/kdc.pid does not name a running krb5kdc of this realm; nothing killed"
  fi
  rm -f "$dir/kdc.pid"
}

write_config() {  # DIR PORT [DEAD_PORT]
  local dir=$1 port=$2 dead=${3:-} e supported="" other_realm="" other_kdc="" other_domain=""
  for e in $AES; do supported="$supported $e:normal"; done
  if [ -n "$CROSS" ]; then
    other_realm="    $OTHER = {
        kdc = 127.0.0.1:$port
    }"
    other_domain="    .other.test = $OTHER"
    other_kdc="    $OTHER = {
        database_name = $dir/other-principal
        key_stash_file = $dir/other-stash
        acl_file = $dir/kadm5.acl
        kdc_listen = 127.0.0.1:$port
        kdc_tcp_listen = 127.0.0.1:$port
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes =$supported
        max_life = 24h 0m 0s
        max_renewable_life = 7d 0h 0m 0s
        default_principal_flags = +preauth
    }"
  fi
  cat >"$dir/krb5.conf" <<CONF
# written by tests/interop/realm.sh
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    forwardable = true
    permitted_enctypes = $AES
    default_ccache_name = FILE:$dir/ccache
    default_keytab_name = FILE:$dir/keytab

[realms]
    $REALM = {
        kdc = 127.0.0.1:$port
    }
$other_realm

[domain_realm]
    localhost = $REALM
$other_domain

[logging]
    default = FILE:$dir/krb5lib.log
CONF
  cat >"$dir/kdc.conf" <<CONF
# written by tests/interop/realm.sh
[kdcdefaults]
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port

[realms]
    $REALM = {
        database_name = $dir/principal
        key_stash_file = $dir/stash
        acl_file = $dir/kadm5.acl
        kdc_listen = 127.0.0.1:$port
        kdc_tcp_listen = 127.0.0.1:$port
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes =$supported
        max_life = 24h 0m 0s
        max_renewable_life = 7d 0h 0m 0s
        default_principal_flags = +preauth
    }
$other_kdc

[logging]
    kdc = FILE:$dir/kdc.log
    admin_server = FILE:$dir/kadmin.log
CONF
  : >"$dir/kadm5.acl"
  if [ -n "$dead" ]; then
    # The same file with a closed port first: clients must fail over to the live KDC.
    sed "s|^        kdc = 127.0.0.1:$port\$|        kdc = 127.0.0.1:$dead\n        kdc = 127.0.0.1:$port|" \
      "$dir/krb5.conf" >"$dir/krb5-deadfirst.conf"
  fi
}

kadmin() {  # run one kadmin.local query (in realm $2, default TEST.LOCAL); fail on any error text
  local out
  out=$(kadmin.local -r "${2:-$REALM}" -q "$1" </dev/null 2>&1) || { printf '%s\n' "$out" >&2; die "kadmin.local: $1"; }
  if printf '%s\n' "$out" | grep -qiE 'error|while |failed|unknown|not found'; then
    printf '%s\n' "$out" >&2; die "kadmin.local: $1"
  fi
}

start_realm() {
  local dir=$1 port="" dead_port="" pid="" s attempt realms
  install_packages
  for c in krb5kdc kdb5_util kadmin.local kinit klist kvno ktutil; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  mkdir -p -- "$dir"
  dir=$(cd -- "$dir" && pwd -P)
  case $dir in *[[:space:]]*) die "DIR must not contain whitespace: $dir";; esac

  stop_realm "$dir"
  for f in $GENERATED; do rm -f -- "${dir:?}/$f"; done
  rm -rf -- "${dir:?}/rcache"
  mkdir -p "$dir/rcache"
  chmod 700 "$dir" "$dir/rcache"

  export KRB5_CONFIG="$dir/krb5.conf" KRB5_KDC_PROFILE="$dir/kdc.conf"
  export KRB5CCNAME="FILE:$dir/ccache" KRB5_KTNAME="FILE:$dir/keytab" KRB5RCACHEDIR="$dir/rcache"
  unset KRB5_CLIENT_KTNAME KRB5RCACHENAME KRB5RCACHETYPE KRB5_TRACE

  write_config "$dir" 88
  local master; master=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  kdb5_util -r "$REALM" create -s -P "$master" </dev/null >"$dir/kadmin.log" 2>&1 \
    || { cat "$dir/kadmin.log" >&2; die "kdb5_util create failed"; }
  unset master

  kadmin "addprinc -pw $ALICE_PW alice"
  kadmin "addprinc -pw $JURGEN_PW $JURGEN"
  kadmin "addprinc -pw $BOB_PW bob"
  kadmin "addprinc -pw $SERVICE_PW test/localhost"
  local services="test/localhost"
  for s in $SINGLE_ORDER; do
    kadmin "addprinc -pw $SERVICE_PW -e ${SINGLE[$s]}:normal $s/localhost"
    # Without session_enctypes the KDC would still pick aes256-sha1 session keys.
    kadmin "setstr $s/localhost session_enctypes ${SINGLE[$s]}"
    services="$services $s/localhost"
  done
  for s in $services; do kadmin "ktadd -k $dir/keytab -norandkey $s"; done
  kadmin "ktadd -k $dir/alice.keytab -norandkey alice"
  chmod 600 "$dir/keytab" "$dir/alice.keytab"
  if [ -n "$CROSS" ]; then
    kdb5_util -r "$OTHER" create -s -P "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      </dev/null >>"$dir/kadmin.log" 2>&1 || { cat "$dir/kadmin.log" >&2; die "kdb5_util create $OTHER failed"; }
    local r
    for r in "$REALM" "$OTHER"; do
      # Same password and salt in both databases: the same cross-realm keys.
      kadmin "addprinc -pw $CROSS_PW krbtgt/$OTHER@$REALM" "$r"
      kadmin "addprinc -pw $CROSS_PW krbtgt/$REALM@$OTHER" "$r"
    done
    for s in test/localhost test/host.other.test; do
      kadmin "addprinc -pw $SERVICE_PW $s@$OTHER" "$OTHER"
      kadmin "ktadd -k $dir/other.keytab -norandkey $s@$OTHER" "$OTHER"
    done
    chmod 600 "$dir/other.keytab"
  fi

  # Stop a KDC this run started if anything below fails.
  trap 'rc=$?; [ $rc = 0 ] || stop_realm "'"$dir"'"; exit $rc' EXIT
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((21000 + RANDOM % 11000))
    port_busy "$port" && continue
    dead_port=$((21000 + RANDOM % 11000))
    { [ "$dead_port" = "$port" ] || port_busy "$dead_port"; } && continue
    write_config "$dir" "$port" "$dead_port"
    rm -f "$dir/kdc.pid"
    : >"$dir/kdc.log"
    # krb5kdc daemonizes and writes its pid file; detach stdio so callers do not wait on it.
    realms=(-r "$REALM")
    [ -n "$CROSS" ] && realms+=(-r "$OTHER")
    krb5kdc "${realms[@]}" -P "$dir/kdc.pid" </dev/null >>"$dir/kdc.stderr" 2>&1 || true
    for _ in $(seq 50); do [ -s "$dir/kdc.pid" ] && break; sleep 0.1; done
    sleep 0.2
    if pid=$(kdc_pid_if_ours "$dir") && ! grep -qiE 'cannot bind|address already in use' "$dir/kdc.log"; then
      break
    fi
    say "KDC did not start on port $port (attempt $attempt)"
    stop_realm "$dir"
    pid=""
  done
  [ -n "$pid" ] || { tail -n 20 "$dir/kdc.log" "$dir/kdc.stderr" >&2 || true; die "could not start krb5kdc"; }

  local ok=""
  for _ in $(seq 30); do
    if kinit "alice@$REALM" <<<"$ALICE_PW" >/dev/null 2>"$dir/kinit.err"; then ok=1; break; fi
    sleep 0.2
  done
  [ -n "$ok" ] || { cat "$dir/kinit.err" >&2; die "kinit alice failed"; }
  rm -f "$dir/kinit.err"

  {
    printf 'export %s=%q\n' \
      KRB5_CONFIG "$dir/krb5.conf" \
      KRB5_KDC_PROFILE "$dir/kdc.conf" \
      KRB5CCNAME "FILE:$dir/ccache" \
      KRB5_KTNAME "FILE:$dir/keytab" \
      KRB5RCACHEDIR "$dir/rcache" \
      REALM_DIR "$dir" \
      REALM_NAME "$REALM" \
      REALM_KDC_HOST 127.0.0.1 \
      REALM_KDC_PORT "$port" \
      REALM_KDC_PID "$pid" \
      REALM_KDC_PIDFILE "$dir/kdc.pid" \
      REALM_CLIENT "alice@$REALM" \
      REALM_CLIENT_PASSWORD "$ALICE_PW" \
      REALM_CLIENT_KEYTAB "$dir/alice.keytab" \
      REALM_UTF8_CLIENT "$JURGEN@$REALM" \
      REALM_UTF8_CLIENT_PASSWORD "$JURGEN_PW" \
      REALM_CLIENT2 "bob@$REALM" \
      REALM_CLIENT2_PASSWORD "$BOB_PW" \
      REALM_SERVICE "test/localhost@$REALM" \
      REALM_SERVICE_GSS_NAME "test@localhost" \
      REALM_SERVICE_PASSWORD "$SERVICE_PW" \
      REALM_SERVICE_KEYTAB "$dir/keytab" \
      REALM_SINGLE_ENCTYPE_SERVICES "$(for s in $SINGLE_ORDER; do printf '%s/localhost@%s ' "$s" "$REALM"; done)" \
      REALM_KRB5_CONFIG_DEAD_FIRST "$dir/krb5-deadfirst.conf" \
      REALM_DEAD_KDC_PORT "$dead_port"
    if [ -n "$CROSS" ]; then
      printf 'export %s=%q\n' \
        REALM_OTHER_NAME "$OTHER" \
        REALM_OTHER_SERVICE "test/localhost@$OTHER" \
        REALM_OTHER_REFERRAL_SERVICE "test/host.other.test@$OTHER" \
        REALM_OTHER_KEYTAB "$dir/other.keytab"
    fi
  } >"$dir/env"
  trap - EXIT
  say "realm $REALM up: krb5kdc pid $pid on 127.0.0.1:$port (tcp+udp), dir $dir"
}

case "${1:-}" in
  start) [ $# = 2 ] || { [ $# = 3 ] && [ "$3" = --cross ] && CROSS=1; } || die "usage: realm.sh start DIR [--cross]"
         [ -n "$2" ] || die "usage: realm.sh start DIR [--cross]"
         start_realm "$2" ;;
  stop)  [ $# = 2 ] && [ -n "$2" ] || die "usage: realm.sh stop DIR"
         [ -d "$2" ] || exit 0
         stop_realm "$(cd -- "$2" && pwd -P)" ;;
  *) echo "usage: realm.sh start DIR [--cross] | realm.sh stop DIR" >&2; exit 2 ;;
esac
