#!/usr/bin/env python3
"""One-time generator of the MIT-encoded plaintext fixtures in tests/data/asn1/<case>/.

Decrypts the enc-parts of the MIT krb5 1.20 captures in tests/data/mit-capture/ with
MIT's own libk5crypto (krb5_c_decrypt via ctypes), so the saved DER was produced by
MIT's encoder, not ours.  Needs MIT krb5 (libkrb5.so.3, libk5crypto.so.3) installed;
the tests only read the output files.  Run from the repository root:

    python3 tests/data/asn1/make-plaintexts.py

Keys: service long-term keys from mit-capture/keys.txt (by principal and enctype);
ticket session keys from each case's info.txt.  Key usages (RFC 4120 §7.5.1):
ticket 2, authenticator 11, EncAPRepPart 12, KRB-CRED enc-part 14.
Outputs per case: enc_ticket_part.der, authenticator.der, enc_ap_rep_part.der
(mutual cases), and for deleg krb_cred.der (from the 0x8003 checksum, RFC 4121
§4.1.1) and enc_krb_cred_part.der.
"""
import ctypes
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CAPTURE = os.path.join(ROOT, "mit-capture")
OUT = os.path.join(ROOT, "asn1")
ETYPE_NAMES = {"aes256-cts-hmac-sha1-96": 18, "aes128-cts-hmac-sha1-96": 17,
               "aes256-cts-hmac-sha384-192": 20, "aes128-cts-hmac-sha256-128": 19}


class KrbData(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("length", ctypes.c_uint), ("data", ctypes.c_void_p)]


class Keyblock(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("enctype", ctypes.c_int32),
                ("length", ctypes.c_uint), ("contents", ctypes.c_void_p)]


class EncData(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_int32), ("enctype", ctypes.c_int32),
                ("kvno", ctypes.c_uint32), ("ciphertext", KrbData)]


krb5 = ctypes.CDLL("libkrb5.so.3")
k5crypto = ctypes.CDLL("libk5crypto.so.3")
ctx = ctypes.c_void_p()
if krb5.krb5_init_context(ctypes.byref(ctx)) != 0:
    sys.exit("krb5_init_context failed")


def decrypt(etype, key, usage, cipher):
    kbuf = ctypes.create_string_buffer(key, len(key))
    cbuf = ctypes.create_string_buffer(cipher, len(cipher))
    out = ctypes.create_string_buffer(len(cipher))
    kb = Keyblock(0, etype, len(key), ctypes.cast(kbuf, ctypes.c_void_p))
    ed = EncData(0, etype, 0, KrbData(0, len(cipher), ctypes.cast(cbuf, ctypes.c_void_p)))
    od = KrbData(0, len(cipher), ctypes.cast(out, ctypes.c_void_p))
    r = k5crypto.krb5_c_decrypt(ctx, ctypes.byref(kb), usage, None, ctypes.byref(ed), ctypes.byref(od))
    if r != 0:
        raise ValueError("krb5_c_decrypt failed (%d), usage %d" % (r, usage))
    return out.raw[:od.length]


# ---- a minimal DER walker (independent of the Rust decoder under test)
def tlv(buf, pos=0):
    """(identifier, content_start, content_end) of the TLV at pos."""
    ident = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return ident, pos, pos + n


def children(buf, start, end):
    out = {}
    while start < end:
        ident, cs, ce = tlv(buf, start)
        out[ident] = (cs, ce)
        start = ce
    return out


def seq_fields(buf, outer=0):
    """Context-tagged fields [n] of the (possibly APPLICATION-wrapped) SEQUENCE at outer."""
    ident, cs, ce = tlv(buf, outer)
    if ident != 0x30:
        ident, cs, ce = tlv(buf, cs)
        assert ident == 0x30
    return {k & 0x1f: (s, e) for k, (s, e) in children(buf, cs, ce).items()}


def int_at(buf, s):
    ident, cs, ce = tlv(buf, s)
    assert ident == 0x02
    return int.from_bytes(buf[cs:ce], "big", signed=True)


def octets_at(buf, s):
    ident, cs, ce = tlv(buf, s)
    return buf[cs:ce]


def enc_data(buf, s):
    f = seq_fields(buf, s)
    return int_at(buf, f[0][0]), octets_at(buf, f[2][0])


def service_keys():
    keys = {}
    for m in re.finditer(r"^\s+\d+ \S+ \S+ (\S+)@TEST\.LOCAL \((\S+)\)\s+\(0x([0-9a-f]+)\)",
                         open(os.path.join(CAPTURE, "keys.txt")).read(), re.M):
        keys[(m.group(1), ETYPE_NAMES[m.group(2)])] = bytes.fromhex(m.group(3))
    return keys


def main():
    skeys = service_keys()
    for case in sorted(os.listdir(CAPTURE)):
        d = os.path.join(CAPTURE, case)
        if not os.path.isfile(os.path.join(d, "ap_req.der")):
            continue
        info = open(os.path.join(d, "info.txt")).read()
        m = re.search(r"ticket session key \((\S+)\) = ([0-9a-f]+)", info)
        sess_etype, sess_key = ETYPE_NAMES[m.group(1)], bytes.fromhex(m.group(2))
        out = os.path.join(OUT, case)
        os.makedirs(out, exist_ok=True)

        def save(name, data):
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
            print("%s/%s %d bytes" % (case, name, len(data)))

        ap_req = open(os.path.join(d, "ap_req.der"), "rb").read()
        f = seq_fields(ap_req)
        ticket = seq_fields(ap_req, f[3][0])
        # sname components
        sname = seq_fields(ap_req, ticket[2][0])
        _, ss, se = tlv(ap_req, sname[1][0])
        comps = [octets_at(ap_req, s).decode() for s in _starts(ap_req, ss, se)]
        tkt_etype, tkt_cipher = enc_data(ap_req, ticket[3][0])
        save("enc_ticket_part.der",
             decrypt(tkt_etype, skeys[("/".join(comps), tkt_etype)], 2, tkt_cipher))
        a_etype, a_cipher = enc_data(ap_req, f[4][0])
        auth = decrypt(a_etype, sess_key, 11, a_cipher)
        save("authenticator.der", auth)
        rep_path = os.path.join(d, "ap_rep.der")
        if os.path.isfile(rep_path):
            ap_rep = open(rep_path, "rb").read()
            r_etype, r_cipher = enc_data(ap_rep, seq_fields(ap_rep)[2][0])
            save("enc_ap_rep_part.der", decrypt(r_etype, sess_key, 12, r_cipher))
        if case == "deleg":
            af = seq_fields(auth)
            ck = seq_fields(auth, af[3][0])
            gss = octets_at(auth, ck[1][0])
            dlgth = int.from_bytes(gss[26:28], "little")  # RFC 4121 §4.1.1: Dlgth
            krb_cred = gss[28:28 + dlgth]
            save("krb_cred.der", krb_cred)
            c_etype, c_cipher = enc_data(krb_cred, seq_fields(krb_cred)[3][0])
            save("enc_krb_cred_part.der", decrypt(c_etype, sess_key, 14, c_cipher))


def _starts(buf, s, e):
    while s < e:
        yield s
        s = tlv(buf, s)[2]


if __name__ == "__main__":
    main()
