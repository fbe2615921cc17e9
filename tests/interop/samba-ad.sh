#!/usr/bin/env bash
# samba-ad.sh - the project's own throwaway Active Directory domain controller (Debian's
# Samba AD DC, its Heimdal-based KDC issuing real Windows PACs) for the PAC tests.
#
#   samba-ad.sh start DIR   provision domain AD.TEST into DIR (once: a second start on the
#                           same DIR reuses it), create the accounts below, export keytabs,
#                           start the KDC on a free loopback port, write DIR/env
#   samba-ad.sh stop DIR    stop the samba started for DIR (only that pid)
#
# Only the KDC runs (`server services = kdc`, one process, `samba -M single`): no LDAP,
# SMB or DNS ports are opened, and every path (pid file, sockets, logs, databases) stays
# in DIR. Accounts are made offline in DIR's sam.ldb with Samba's own Python API, in one
# process (samba-tool would take ~0.3 s per call). Fixed passwords; realm AD.TEST,
# NetBIOS domain ADTEST, DC name dc1:
#   alice    Alice-Passw0rd1   "Alice Tester", logon script/profile/home set, UPN
#            alice@ad.test; member of pacgroup (global), pacdomlocal (domain-local),
#            pacuniversal (universal) and, through pacgroup, of pacgroup2 (nested)
#   bob      Bob-Passw0rd1     no userPrincipalName (the KDC constructs one), no groups
#   carol    Carol-Passw0rd1   display name with non-ASCII and non-BMP characters
#   svc      Svc-Passw0rd1     user account with SPN HTTP/localhost, AES keys only;
#            may delegate to HTTP/ws1.ad.test (constrained delegation, S4U2self with
#            protocol transition and S4U2proxy)
#   ws1$     computer account with SPN HTTP/ws1.ad.test, AES keys only
# Keytabs in DIR: svc.keytab (HTTP/localhost), svc-user.keytab (svc, for kinit -k),
# ws1.keytab (HTTP/ws1.ad.test), krbtgt.keytab (krbtgt: the PAC's KDC signature key).
# DIR/sids.env: the domain SID and every account's and group's SID and RID, as Samba has
# them (SAMBA_SID_<name>=S-1-5-21-...).
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
# Samba's Python modules exist only for Debian's interpreter (not for a pyenv one).
PY=/usr/bin/python3
PACKAGES="samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind krb5-user"
REALM=AD.TEST
DOMAIN=ADTEST
ADMIN_PW='Admin-Passw0rd1'

say() { printf 'samba-ad.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

install_packages() {
  local p missing=()
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root to install them"
  say "installing ${missing[*]}"
  # --no-install-recommends: keeps out libnss-winbind/libpam-winbind (they edit nsswitch.conf).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "${missing[@]}" </dev/null >&2 || die "apt-get install failed"
}

# True when a TCP or UDP socket on any local address uses port $1.
port_busy() {
  local hex; hex=$(printf '%04X' "$1")
  awk -v h=":$hex" 'FNR > 1 && toupper(substr($2, length($2) - 4)) == h { found = 1 }
                    END { exit !found }' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}

# The pid in DIR/samba.pid when it is a samba of this DIR. samba rewrites its argv
# ("samba: root process"), so the binary and the log file it writes to decide.
samba_pid_if_ours() {
  local dir=$1 pid
  [ -s "$dir/samba.pid" ] || return 1
  pid=$(tr -cd '0-9' <"$dir/samba.pid")
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/samba ] || return 1
  # its stdout is DIR/samba.out (samba keeps the descriptor it was started with)
  [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$dir/samba.out" ] || return 1
  echo "$pid"
}

stop_dc() {
  local dir=$1 pid
  if pid=$(samba_pid_if_ours "$dir"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    say "stopped samba pid $pid"
  elif [ -e "$dir/samba.pid" ]; then
    say "$dir/samba.pid does not name a samba of this directory; nothing killed"
  fi
  rm -f "$dir/samba.pid"
}

provision() {  # DIR PORT
  local dir=$1 port=$2
  rm -rf -- "${dir:?}/etc" "$dir/private" "$dir/state" "$dir/cache" "$dir/bind-dns"
  # An empty config file keeps the host's /etc/samba/smb.conf out of the new one.
  : >"$dir/empty.conf"
  samba-tool domain provision -s "$dir/empty.conf" --targetdir="$dir" \
    --realm="$REALM" --domain="$DOMAIN" --server-role=dc --dns-backend=SAMBA_INTERNAL \
    --adminpass="$ADMIN_PW" --host-name=dc1 --host-ip=127.0.0.1 \
    --option="server services = kdc" --option="interfaces = lo" \
    --option="bind interfaces only = yes" --option="netbios name = DC1" \
    --option="krb5 port = $port" --option="kpasswd port = $((port + 1))" \
    --option="log file = $dir/log.%m" --option="pid directory = $dir" \
    --option="ncalrpc dir = $dir/ncalrpc" --option="winbindd socket directory = $dir/winbindd" \
    --option="ntp signd socket directory = $dir/ntp_signd" \
    >"$dir/provision.log" 2>&1 || { tail -n 30 "$dir/provision.log" >&2; die "samba-tool domain provision failed"; }
}

# Accounts, groups, SPNs, delegation and keytabs, in one Python process on DIR's sam.ldb.
populate() {  # DIR
  local dir=$1
  rm -f "$dir"/*.keytab
  "$PY" - "$dir" "$REALM" >"$dir/sids.env" 2>"$dir/populate.log" <<'PY' || { cat "$dir/populate.log" >&2; die "populating the domain failed"; }
import sys, ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.net import Net
from samba import dsdb
import samba.dckeytab  # noqa: F401 (adds Net.export_keytab)

d, realm = sys.argv[1], sys.argv[2]
lp = LoadParm()
lp.load(d + "/etc/smb.conf")
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = db.domain_dn()

def dn_of(sam):
    return db.search(base=base, expression="(sAMAccountName=%s)" % ldb.binary_encode(sam), attrs=[])[0].dn

def modify(sam, attr, values, flag=ldb.FLAG_MOD_REPLACE):
    m = ldb.Message()
    m.dn = dn_of(sam)
    m[attr] = ldb.MessageElement(values, flag, attr)
    db.modify(m)

def user(name, pw, **kw):
    db.newuser(name, pw, **kw)
    db.setexpiry("(sAMAccountName=%s)" % name, 0, no_expiry_req=True)

user("alice", "Alice-Passw0rd1", givenname="Alice", surname="Tester",
     scriptpath="logon-alice.cmd", profilepath="\\\\dc1\\profiles\\alice",
     homedirectory="\\\\dc1\\home\\alice", homedrive="H:")
user("bob", "Bob-Passw0rd1")
modify("bob", "userPrincipalName", [], ldb.FLAG_MOD_DELETE)
user("carol", "Carol-Passw0rd1", givenname="Carol", surname="\u00dcml\u00e4ut \U0001d11e")
user("svc", "Svc-Passw0rd1")

db.newgroup("pacgroup")                      # global security group (the default)
db.newgroup("pacgroup2")
db.newgroup("pacdomlocal", grouptype=dsdb.GTYPE_SECURITY_DOMAIN_LOCAL_GROUP)
db.newgroup("pacuniversal", grouptype=dsdb.GTYPE_SECURITY_UNIVERSAL_GROUP)
db.add_remove_group_members("pacgroup", ["alice"])
db.add_remove_group_members("pacgroup2", ["pacgroup"])   # alice only through pacgroup
db.add_remove_group_members("pacdomlocal", ["alice"])
db.add_remove_group_members("pacuniversal", ["alice"])

db.newcomputer("ws1", service_principal_name_list=["HTTP/ws1.ad.test"])
db.setpassword("(sAMAccountName=ws1$)", "Ws1-Machine-Passw0rd1")
db.enable_account("(sAMAccountName=ws1$)")

# AES only (user accounts without msDS-SupportedEncryptionTypes get RC4 tickets).
for a in ("svc", "ws1$"):
    modify(a, "msDS-SupportedEncryptionTypes", ["24"])
modify("svc", "servicePrincipalName", ["HTTP/localhost"])
# Constrained delegation to HTTP/ws1.ad.test, with protocol transition (S4U2self).
modify("svc", "msDS-AllowedToDelegateTo", ["HTTP/ws1.ad.test"])
db.toggle_userAccountFlags("(sAMAccountName=svc)", dsdb.UF_TRUSTED_TO_AUTHENTICATE_FOR_DELEGATION,
                           "TRUSTED_TO_AUTH_FOR_DELEGATION", on=True)

net = Net(None, lp)
for kt, princ in (("svc.keytab", "HTTP/localhost"), ("svc-user.keytab", "svc"),
                  ("ws1.keytab", "HTTP/ws1.ad.test"), ("krbtgt.keytab", "krbtgt")):
    net.export_keytab(keytab=d + "/" + kt, principal="%s@%s" % (princ, realm))

print("SAMBA_DOMAIN_SID=%s" % db.get_domain_sid())
for a in ("alice", "bob", "carol", "svc", "ws1$", "pacgroup", "pacgroup2", "pacdomlocal",
          "pacuniversal", "Domain Users", "Domain Computers"):
    r = db.search(base=base, expression="(sAMAccountName=%s)" % ldb.binary_encode(a),
                  attrs=["objectSid"])[0]
    sid = str(db.schema_format_value("objectSid", r["objectSid"][0]).decode())
    key = a.replace("$", "").replace(" ", "_")
    print("SAMBA_SID_%s=%s" % (key, sid))
    print("SAMBA_RID_%s=%s" % (key, sid.rsplit("-", 1)[1]))
PY
  chmod 600 "$dir"/*.keytab
}

start_dc() {
  local dir=$1 port="" attempt pid="" hex
  install_packages
  for c in samba samba-tool kinit; do command -v "$c" >/dev/null || die "$c not found"; done
  mkdir -p -- "$dir"
  dir=$(cd -- "$dir" && pwd -P)
  case $dir in *[[:space:]]*) die "DIR must not contain whitespace: $dir";; esac
  stop_dc "$dir"

  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 12000))
    port_busy "$port" || port_busy $((port + 1)) || break
    port=""
  done
  [ -n "$port" ] || die "no free port pair found"
  local t0=$SECONDS
  if [ -f "$dir/etc/smb.conf" ] && [ -s "$dir/sids.env" ]; then
    # Reuse the provisioned domain; only the KDC port changes.
    sed -i -e "s/^\(\s*krb5 port = \).*/\1$port/" -e "s/^\(\s*kpasswd port = \).*/\1$((port + 1))/" \
      "$dir/etc/smb.conf"
  else
    provision "$dir" "$port"
    populate "$dir"
  fi

  hex=$(printf ':%04X' "$port")
  samba -i -M single -s "$dir/etc/smb.conf" --debug-stdout -d 1 </dev/null >"$dir/samba.out" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/samba.pid"
  # If anything below fails, stop the samba this run started (its pid is known for sure).
  trap 'rc=$?; if [ $rc != 0 ]; then kill -TERM '"$pid"' 2>/dev/null; rm -f "'"$dir"'/samba.pid"; fi; exit $rc' EXIT
  for _ in $(seq 300); do
    awk -v h="$hex" 'FNR > 1 && toupper(substr($2, length($2) - 4)) == h && $4 == "0A" { f = 1 }
                     END { exit !f }' /proc/net/tcp 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/samba.out" >&2; die "samba exited"; }
    sleep 0.1
  done
  samba_pid_if_ours "$dir" >/dev/null || die "samba did not start (see $dir/samba.out)"

  cat >"$dir/krb5.conf" <<EOF
# written by tests/interop/samba-ad.sh
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    forwardable = true
    default_ccache_name = FILE:$dir/ccache

[realms]
    $REALM = {
        kdc = 127.0.0.1:$port
    }

[domain_realm]
    localhost = $REALM
    .ad.test = $REALM
EOF
  {
    printf 'export %s=%q\n' \
      KRB5_CONFIG "$dir/krb5.conf" \
      SAMBA_AD_DIR "$dir" \
      SAMBA_AD_PID "$pid" \
      SAMBA_AD_KDC_PORT "$port" \
      SAMBA_AD_REALM "$REALM" \
      SAMBA_AD_DOMAIN "$DOMAIN" \
      SAMBA_AD_ALICE_PASSWORD 'Alice-Passw0rd1' \
      SAMBA_AD_BOB_PASSWORD 'Bob-Passw0rd1' \
      SAMBA_AD_CAROL_PASSWORD 'Carol-Passw0rd1' \
      SAMBA_AD_SERVICE_KEYTAB "$dir/svc.keytab" \
      SAMBA_AD_SVC_USER_KEYTAB "$dir/svc-user.keytab" \
      SAMBA_AD_WS1_KEYTAB "$dir/ws1.keytab" \
      SAMBA_AD_KRBTGT_KEYTAB "$dir/krbtgt.keytab"
    sed 's/^/export /' "$dir/sids.env"
  } >"$dir/env"
  trap - EXIT
  say "domain $REALM up: samba pid $pid, KDC on 127.0.0.1:$port (tcp+udp), dir $dir ($((SECONDS - t0)) s)"
}

case "${1:-}" in
  start) [ $# = 2 ] && [ -n "$2" ] || die "usage: samba-ad.sh start DIR"
         start_dc "$2" ;;
  stop)  [ $# = 2 ] && [ -n "$2" ] || die "usage: samba-ad.sh stop DIR"
         [ -d "$2" ] || exit 0
         stop_dc "$(cd -- "$2" && pwd -P)" ;;
  *) echo "usage: samba-ad.sh start DIR | samba-ad.sh stop DIR" >&2; exit 2 ;;
esac
