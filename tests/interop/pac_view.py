#!/usr/bin/python3
"""pac_view.py - one PAC, field by field, as `key=value` lines, from two independent
decoders, so that a diff shows any disagreement:

  pac_view.py samba PAC_FILE      Samba's own NDR decoder (python3-samba, krb5pac.PAC_DATA)
  pac_view.py krbap PAC_FILE      krbap's C API (libkrbap via ctypes: krbap_import_pac and
                                  the krbap_pac_* getters; $KRBAP_LIB names the library)
  pac_view.py mit-pac KEYTAB TOKEN OUT
                                  accept TOKEN with MIT krb5's GSS acceptor (python3-gssapi)
                                  and write the PAC it exposes (name attribute urn:mspac:) to
                                  OUT; prints the attributes and whether MIT marked them
                                  authenticated; exits 3 when MIT found the PAC unverified
                                  (it lists the urn:mspac attributes but withholds their
                                  values)

tests/pac.rs prints the same lines from krbap's Rust API for the fixtures in
tests/data/samba-ad/. Must run with Debian's /usr/bin/python3 (python3-samba, python3-gssapi).
"""
import ctypes
import os
import sys


def hx(b):
    return bytes(b).hex()


def line(out, key, value):
    out.append("%s=%s" % (key, "" if value is None else value))


# ---------------------------------------------------------------------------- Samba
def samba_view(raw):
    from samba.dcerpc import krb5pac
    from samba.ndr import ndr_unpack

    pac = ndr_unpack(krb5pac.PAC_DATA, raw)
    out = []
    line(out, "buffers", " ".join("%d/%d" % (b.type, b._ndr_size) for b in pac.buffers))
    s = lambda x: x.string or ""
    for b in pac.buffers:
        i = b.info
        if b.type == 1:
            li = i.info
            base = li.info3.base
            for k, v in (("logon_time", base.logon_time), ("logoff_time", base.logoff_time),
                         ("kick_off_time", base.kickoff_time),
                         ("password_last_set", base.last_password_change),
                         ("password_can_change", base.allow_password_change),
                         ("password_must_change", base.force_password_change)):
                line(out, "logon." + k, v)
            for k, v in (("effective_name", base.account_name), ("full_name", base.full_name),
                         ("logon_script", base.logon_script), ("profile_path", base.profile_path),
                         ("home_directory", base.home_directory),
                         ("home_directory_drive", base.home_drive)):
                line(out, "logon." + k, s(v))
            line(out, "logon.logon_count", base.logon_count)
            line(out, "logon.bad_password_count", base.bad_password_count)
            line(out, "logon.user_id", base.rid)
            line(out, "logon.primary_group_id", base.primary_gid)
            line(out, "logon.group_count", base.groups.count)
            for g in base.groups.rids or []:
                line(out, "logon.group_id", "%d 0x%08x" % (g.rid, g.attributes))
            line(out, "logon.user_flags", "0x%08x" % base.user_flags)
            line(out, "logon.user_session_key", hx(base.key.key))
            line(out, "logon.logon_server", s(base.logon_server))
            line(out, "logon.logon_domain_name", s(base.logon_domain))
            line(out, "logon.logon_domain_id", base.domain_sid or "-")
            lm = bytes(base.LMSessKey.key)  # Reserved1[2] of MS-PAC
            line(out, "logon.reserved1", "%d %d" % (int.from_bytes(lm[:4], "little"),
                                                    int.from_bytes(lm[4:], "little")))
            line(out, "logon.user_account_control", "0x%08x" % base.acct_flags)
            line(out, "logon.sub_auth_status", base.sub_auth_status)
            line(out, "logon.last_successful_ilogon", base.last_successful_logon)
            line(out, "logon.last_failed_ilogon", base.last_failed_logon)
            line(out, "logon.failed_ilogon_count", base.failed_logon_count)
            line(out, "logon.reserved3", base.reserved)
            line(out, "logon.sid_count", li.info3.sidcount)
            for e in li.info3.sids or []:
                line(out, "logon.extra_sid", "%s 0x%08x" % (e.sid, e.attributes))
            rg = li.resource_groups
            line(out, "logon.resource_group_domain_sid", rg.domain_sid or "-")
            line(out, "logon.resource_group_count", rg.groups.count)
            for g in rg.groups.rids or []:
                line(out, "logon.resource_group_id", "%d 0x%08x" % (g.rid, g.attributes))
        elif b.type == 10:
            line(out, "client.client_id", i.logon_time)
            line(out, "client.name", i.account_name)
        elif b.type == 12:
            line(out, "upn.upn", i.upn_name or "")
            line(out, "upn.dns_domain", i.dns_domain_name or "")
            line(out, "upn.flags", "0x%x" % i.flags)
            if i.flags & 2:
                line(out, "upn.sam_name", i.ex.samaccountname or "")
                line(out, "upn.sid", i.ex.objectsid)
        elif b.type == 11:
            d = i.info
            line(out, "deleg.proxy_target", s(d.proxy_target))
            line(out, "deleg.transited_count", d.num_transited_services)
            for t in d.transited_services or []:
                line(out, "deleg.transited", s(t))
        elif b.type == 17:
            line(out, "attributes.flags_length", i.flags_length)
            line(out, "attributes.flags", "0x%08x" % i.flags)
        elif b.type == 18:
            line(out, "requestor.sid", i.sid)
        elif b.type in (6, 7, 16, 19):
            line(out, "signature.%d" % b.type, "%d %s" % (i.type, hx(i.signature)))
    return out


# ---------------------------------------------------------------------------- krbap (C API)
class Buf(ctypes.Structure):
    _fields_ = [("length", ctypes.c_size_t), ("value", ctypes.c_void_p)]


# Field numbers of krbap_pac_get_number / krbap_pac_get_string (include/krbap.h).
NUM = dict(logon_time=1, logoff_time=2, kick_off_time=3, password_last_set=4,
           password_can_change=5, password_must_change=6, logon_count=7, bad_password_count=8,
           user_id=9, primary_group_id=10, user_flags=11, reserved1_0=12, reserved1_1=13,
           user_account_control=14, sub_auth_status=15, last_successful_ilogon=16,
           last_failed_ilogon=17, failed_ilogon_count=18, reserved3=19, client_id=20,
           upn_flags=21, attributes_flags_length=22, attributes_flags=23, group_count=24,
           sid_count=25, resource_group_count=26, transited_count=27)
STR = dict(effective_name=101, full_name=102, logon_script=103, profile_path=104,
           home_directory=105, home_directory_drive=106, logon_server=107,
           logon_domain_name=108, logon_domain_sid=109, resource_group_domain_sid=110,
           client_name=111, upn=112, dns_domain=113, sam_name=114, upn_sid=115,
           proxy_target=116, requestor_sid=117, user_session_key=118, user_sid=119,
           primary_group_sid=120)


class Krbap:
    """A PAC through krbap's C API."""

    def __init__(self, raw):
        self.lib = lib = ctypes.CDLL(os.environ.get("KRBAP_LIB", "libkrbap.so"))
        self.minor = ctypes.c_uint32()
        self.pac = ctypes.c_void_p()
        self._raw = ctypes.create_string_buffer(raw, len(raw))
        inbuf = Buf(len(raw), ctypes.cast(self._raw, ctypes.c_void_p))
        major = lib.krbap_import_pac(ctypes.byref(self.minor), ctypes.byref(inbuf),
                                     ctypes.byref(self.pac))
        if major != 0:
            raise SystemExit("krbap_import_pac: major 0x%x minor %d" % (major, self.minor.value))

    def _take(self, buf):
        b = ctypes.string_at(buf.value, buf.length) if buf.length else b""
        self.lib.krbap_buffer_free(ctypes.byref(self.minor), ctypes.byref(buf))
        return b

    def string(self, name):
        buf = Buf()
        if self.lib.krbap_pac_get_string(ctypes.byref(self.minor), self.pac,
                                         ctypes.c_uint32(STR[name]), ctypes.byref(buf)) != 0:
            return None
        return self._take(buf).decode("utf-8")

    def number(self, name):
        v = ctypes.c_uint64()
        if self.lib.krbap_pac_get_number(ctypes.byref(self.minor), self.pac,
                                         ctypes.c_uint32(NUM[name]), ctypes.byref(v)) != 0:
            return None
        return v.value

    def _count(self, fn):
        n = ctypes.c_size_t()
        if getattr(self.lib, fn)(ctypes.byref(self.minor), self.pac, ctypes.byref(n)) != 0:
            raise SystemExit("%s failed" % fn)
        return n.value

    def groups(self):
        out = []
        for i in range(self._count("krbap_pac_group_count")):
            buf, attrs, source = Buf(), ctypes.c_uint32(), ctypes.c_uint32()
            if self.lib.krbap_pac_get_group(ctypes.byref(self.minor), self.pac, ctypes.c_size_t(i),
                                            ctypes.byref(buf), ctypes.byref(attrs),
                                            ctypes.byref(source)) != 0:
                raise SystemExit("krbap_pac_get_group(%d) failed" % i)
            out.append((self._take(buf).decode(), attrs.value, source.value))
        return out

    def transited(self):
        out = []
        for i in range(self._count("krbap_pac_transited_count")):
            buf = Buf()
            if self.lib.krbap_pac_get_transited(ctypes.byref(self.minor), self.pac,
                                                ctypes.c_size_t(i), ctypes.byref(buf)) != 0:
                raise SystemExit("krbap_pac_get_transited(%d) failed" % i)
            out.append(self._take(buf).decode())
        return out

    def buffers(self):
        out = []
        for i in range(self._count("krbap_pac_buffer_count")):
            buf, t = Buf(), ctypes.c_uint32()
            if self.lib.krbap_pac_get_buffer(ctypes.byref(self.minor), self.pac, ctypes.c_size_t(i),
                                             ctypes.byref(t), ctypes.byref(buf)) != 0:
                raise SystemExit("krbap_pac_get_buffer(%d) failed" % i)
            out.append((t.value, len(self._take(buf))))
        return out

    def signature(self, buffer_type):
        buf, t = Buf(), ctypes.c_int32()
        if self.lib.krbap_pac_get_signature(ctypes.byref(self.minor), self.pac,
                                            ctypes.c_uint32(buffer_type), ctypes.byref(t),
                                            ctypes.byref(buf)) != 0:
            raise SystemExit("krbap_pac_get_signature(%d) failed" % buffer_type)
        return t.value, self._take(buf)

    def release(self):
        self.lib.krbap_release_pac(ctypes.byref(self.minor), ctypes.byref(self.pac))


def krbap_view(raw):
    k = Krbap(raw)
    out = []
    bufs = k.buffers()
    line(out, "buffers", " ".join("%d/%d" % b for b in bufs))
    groups = k.groups()
    for t, _ in bufs:
        if t == 1:
            for f in ("logon_time", "logoff_time", "kick_off_time", "password_last_set",
                      "password_can_change", "password_must_change"):
                line(out, "logon." + f, k.number(f))
            for f in ("effective_name", "full_name", "logon_script", "profile_path",
                      "home_directory", "home_directory_drive"):
                line(out, "logon." + f, k.string(f))
            for f in ("logon_count", "bad_password_count", "user_id", "primary_group_id",
                      "group_count"):
                line(out, "logon." + f, k.number(f))
            for sid, attrs, source in groups:
                if source == 1:
                    line(out, "logon.group_id", "%s 0x%08x" % (sid.rsplit("-", 1)[1], attrs))
            line(out, "logon.user_flags", "0x%08x" % k.number("user_flags"))
            line(out, "logon.user_session_key", k.string("user_session_key"))
            line(out, "logon.logon_server", k.string("logon_server"))
            line(out, "logon.logon_domain_name", k.string("logon_domain_name"))
            line(out, "logon.logon_domain_id", k.string("logon_domain_sid") or "-")
            line(out, "logon.reserved1", "%d %d" % (k.number("reserved1_0"), k.number("reserved1_1")))
            line(out, "logon.user_account_control", "0x%08x" % k.number("user_account_control"))
            for f in ("sub_auth_status", "last_successful_ilogon", "last_failed_ilogon",
                      "failed_ilogon_count", "reserved3", "sid_count"):
                line(out, "logon." + f, k.number(f))
            for sid, attrs, source in groups:
                if source == 2:
                    line(out, "logon.extra_sid", "%s 0x%08x" % (sid, attrs))
            line(out, "logon.resource_group_domain_sid",
                 k.string("resource_group_domain_sid") or "-")
            line(out, "logon.resource_group_count", k.number("resource_group_count"))
            for sid, attrs, source in groups:
                if source == 3:
                    line(out, "logon.resource_group_id", "%s 0x%08x" % (sid.rsplit("-", 1)[1], attrs))
        elif t == 10:
            line(out, "client.client_id", k.number("client_id"))
            line(out, "client.name", k.string("client_name"))
        elif t == 12:
            line(out, "upn.upn", k.string("upn"))
            line(out, "upn.dns_domain", k.string("dns_domain"))
            flags = k.number("upn_flags")
            line(out, "upn.flags", "0x%x" % flags)
            if flags & 2:
                line(out, "upn.sam_name", k.string("sam_name"))
                line(out, "upn.sid", k.string("upn_sid"))
        elif t == 11:
            line(out, "deleg.proxy_target", k.string("proxy_target"))
            line(out, "deleg.transited_count", k.number("transited_count"))
            for s in k.transited():
                line(out, "deleg.transited", s)
        elif t == 17:
            line(out, "attributes.flags_length", k.number("attributes_flags_length"))
            line(out, "attributes.flags", "0x%08x" % k.number("attributes_flags"))
        elif t == 18:
            line(out, "requestor.sid", k.string("requestor_sid"))
        elif t in (6, 7, 16, 19):
            ctype, sig = k.signature(t)
            line(out, "signature.%d" % t, "%d %s" % (ctype, hx(sig)))
    k.release()
    return out


# ---------------------------------------------------------------------------- MIT acceptor
def mit_pac(keytab, token, out_path):
    os.environ["KRB5_KTNAME"] = "FILE:" + os.path.abspath(keytab)
    os.environ.setdefault("KRB5RCACHETYPE", "none")
    import gssapi
    from gssapi.raw import ext_rfc6680 as r

    ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"), usage="accept")
    ctx.step(open(token, "rb").read())
    print("MIT accepted the token: complete=%s initiator=%s" % (ctx.complete, ctx.initiator_name))
    attrs = [a.decode() for a in r.inquire_name(ctx.initiator_name).attrs]
    if not any(a.startswith("urn:mspac:") for a in attrs):
        print("no urn:mspac attributes")
        return 3
    try:
        g = r.get_name_attribute(ctx.initiator_name, b"urn:mspac:")
    except gssapi.exceptions.GSSError as e:
        # MIT lists the attributes of an unverified PAC but withholds their values (ENOENT).
        print("urn:mspac attributes listed (%s) but their values withheld: %s"
              % (" ".join(sorted(attrs)), e))
        return 3
    print("urn:mspac: authenticated=%s, %d bytes; attributes %s" %
          (g.authenticated, len(g.values[0]), " ".join(sorted(attrs))))
    open(out_path, "wb").write(g.values[0])
    return 0 if g.authenticated else 4


def main(argv):
    if len(argv) == 3 and argv[1] in ("samba", "krbap"):
        raw = open(argv[2], "rb").read()
        view = samba_view(raw) if argv[1] == "samba" else krbap_view(raw)
        print("\n".join(view))
        return 0
    if len(argv) == 5 and argv[1] == "mit-pac":
        return mit_pac(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
