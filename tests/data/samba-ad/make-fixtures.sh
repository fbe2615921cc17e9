#!/usr/bin/env bash
# make-fixtures.sh - captures the PAC fixtures of tests/data/samba-ad/ (a Samba AD DC,
# tests/interop/samba-ad.sh) and tests/data/mit-pac/ (MIT krb5 1.20's KDC,
# tests/interop/realm.sh). Not run by `make test` (the fixtures are committed; the live
# suite tests/pac-interop.sh does the same against fresh KDCs). Re-run to refresh:
#   tests/data/samba-ad/make-fixtures.sh
# Every initial token comes from MIT's GSS initiator (python3-gssapi); every raw PAC is the
# one MIT's GSS acceptor exposes (urn:mspac:, verified by MIT); every *.samba.txt is
# Samba's own NDR decoder's view of it (tests/interop/pac_view.py samba).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
out=$root/tests/data/samba-ad
mit_out=$root/tests/data/mit-pac
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-pac-fixtures.XXXXXX")
cleanup() {
  tests/interop/samba-ad.sh stop "$work/ad" >/dev/null 2>&1 || true
  tests/interop/realm.sh stop "$work/realm" >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap cleanup EXIT
PY=/usr/bin/python3

token() {  # TARGET OUT [impersonate PRINCIPAL]: an initial token from $KRB5CCNAME
  "$PY" - "$@" <<'PY'
import sys, time, gssapi
target, out = sys.argv[1], sys.argv[2]
creds = gssapi.Credentials(usage="initiate")
if len(sys.argv) > 3:  # S4U2self + S4U2proxy through MIT's impersonation
    creds = creds.impersonate(gssapi.Name(sys.argv[4], gssapi.NameType.kerberos_principal),
                              usage="initiate")
ctx = gssapi.SecurityContext(name=gssapi.Name(target, gssapi.NameType.hostbased_service),
                             creds=creds, usage="initiate",
                             flags=[gssapi.RequirementFlag.mutual_authentication])
tok = ctx.step()
open(out, "wb").write(tok)
print(int(time.time()))
PY
}

# ------------------------------------------------------------------ Samba AD DC
tests/interop/samba-ad.sh start "$work/ad"
# shellcheck disable=SC1091
. "$work/ad/env"
mkdir -p "$out"
cp "$SAMBA_AD_SERVICE_KEYTAB" "$out/svc.keytab"
cp "$SAMBA_AD_WS1_KEYTAB" "$out/ws1.keytab"
cp "$SAMBA_AD_KRBTGT_KEYTAB" "$out/krbtgt.keytab"
grep -E '^SAMBA_(DOMAIN_SID|SID_|RID_)' "$work/ad/sids.env" >"$out/sids.txt"
: >"$out/times.txt"
for u in alice bob carol; do
  export KRB5CCNAME=FILE:$work/$u.cc
  pw_var=SAMBA_AD_$(echo "$u" | tr a-z A-Z)_PASSWORD
  kinit "$u@AD.TEST" <<<"${!pw_var}" >/dev/null
  t=$(token HTTP@localhost "$out/$u.token")
  echo "$u $t" >>"$out/times.txt"
  "$PY" tests/interop/pac_view.py mit-pac "$out/svc.keytab" "$out/$u.token" "$out/$u.pac"
done
export KRB5CCNAME=FILE:$work/svc.cc
kinit -k -t "$SAMBA_AD_SVC_USER_KEYTAB" svc@AD.TEST
t=$(token HTTP@ws1.ad.test "$out/s4u2proxy.token" impersonate alice@AD.TEST)
echo "s4u2proxy $t" >>"$out/times.txt"
"$PY" tests/interop/pac_view.py mit-pac "$out/ws1.keytab" "$out/s4u2proxy.token" "$out/s4u2proxy.pac"
for c in alice bob carol s4u2proxy; do
  "$PY" tests/interop/pac_view.py samba "$out/$c.pac" >"$out/$c.samba.txt"
done

# ------------------------------------------------------------------ MIT krb5 1.20 KDC
tests/interop/realm.sh start "$work/realm" 2>/dev/null
# shellcheck disable=SC1091
. "$work/realm/env"
mkdir -p "$mit_out"
kadmin.local -q "ktadd -k $mit_out/krbtgt.keytab -norandkey krbtgt/TEST.LOCAL" >/dev/null
cp "$REALM_SERVICE_KEYTAB" "$mit_out/service.keytab"
: >"$mit_out/times.txt"
for s in test test-aes256-sha1 test-aes128-sha1 test-aes256-sha384 test-aes128-sha256; do
  t=$(token "$s@localhost" "$mit_out/$s.token")
  echo "$s $t" >>"$mit_out/times.txt"
done
echo "fixtures written to $out and $mit_out"
