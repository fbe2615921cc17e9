"""spnego_matrix.py - SPNEGO (RFC 4178) token by token between krbap (its C ABI through
ctypes) and independent peers, in one process, on a live realm (tests/interop-spnego.sh).

  spnego_matrix.py LIBKRBAP [--no-pyspnego] [--heimdal HEIMDAL_PEER]

1. Hand-built NegTokenInits (the DER made here; the krb5 tokens inside from MIT's raw
   krb5 mechanism through python-gssapi) run against krbap's acceptor AND MIT's SPNEGO
   acceptor, and each acceptor's answers are pinned leg by leg: the Microsoft krb5 OID
   first or alone, NTLM or NegoEx first (request-mic and the mechListMIC exchange),
   mechListMIC absent / bad / over another list / unsolicited, NTLM alone, MS
   NegTokenInit2 negHints, reqFlags, a replay, a mech token of another mechanism. Where
   krbap and MIT differ on purpose, both answers are pinned and the case says why.
2. Windows-style acceptor answers (supportedMech = the MS OID, the old krb5 OID, none;
   accept-completed without responseToken; an empty responseToken; Windows 2000's
   repeated token; an acceptor mechListMIC; a reject carrying a KRB-ERROR) built around
   the AP-REP of MIT's raw krb5 acceptor, given to krbap's SPNEGO initiator AND to MIT's.
3. pyspnego (its own SPNEGO code) as initiator to krbap's acceptor and as acceptor for
   krbap's initiator, with and without mutual authentication, then Wrap both ways.
4. Heimdal's SPNEGO (tests/interop/heimdal_peer.c on Heimdal's libgssapi, unpacked by
   tests/interop/heimdal.sh) as initiator and as acceptor, mutual and not.

Environment: KRB5_CONFIG, KRB5CCNAME (alice's TGT), KRB5_KTNAME (test/localhost's keys),
KRB5RCACHEDIR. Prints `ok    NAME` or `FAIL  NAME` plus details per check, and
`N passed, N failed` last; exits 1 when anything failed.
"""
import os
import sys
import traceback

import gssapi
import gssapi.raw as graw
from gssapi.raw.misc import GSSError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import krbap_ctypes as K  # noqa: E402

KRB5 = "1.2.840.113554.1.2.2"
MSKRB5 = "1.2.840.48018.1.2.2"
OLDKRB5 = "1.3.5.1.5.2"
NTLM = "1.3.6.1.4.1.311.2.2.10"
NEGOEX = "1.3.6.1.4.1.311.2.2.30"
SPNEGO = "1.3.6.1.5.5.2"
SERVICE = "test@localhost"
STATES = {0: "completed", 1: "incomplete", 2: "reject", 3: "request-mic"}
OID_NAMES = {KRB5: "krb5", MSKRB5: "ms-krb5", OLDKRB5: "old-krb5", NTLM: "ntlm"}

PASSED = FAILED = 0


def result(name, ok, details=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("ok    " + name)
    else:
        FAILED += 1
        print("FAIL  " + name)
        for line in str(details).splitlines()[:40]:
            print("      " + line)
    sys.stdout.flush()


# ---- DER, written and read here (independent of krbap's encoder) ------------------------

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, value):
    return bytes([tag]) + der_len(len(value)) + value


def oid_der(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytes([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.insert(0, 0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(enc)
    return tlv(0x06, out)


def oid_text(contents):
    arcs, v = [], 0
    for b in contents:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            if not arcs:
                arcs += [min(v // 40, 2), v - 40 * min(v // 40, 2)]
            else:
                arcs.append(v)
            v = 0
    return ".".join(map(str, arcs))


def mech_types(oids):
    return tlv(0x30, b"".join(oid_der(o) for o in oids))


def neg_token_init(types_der, mech_token=None, mic=None, req_flags=None, neg_hints=None):
    body = tlv(0xA0, types_der)
    if req_flags is not None:
        body += tlv(0xA1, tlv(0x03, req_flags))
    if mech_token is not None:
        body += tlv(0xA2, tlv(0x04, mech_token))
    if neg_hints is not None:  # MS NegTokenInit2: [3] NegHints, [4] mechListMIC
        body += tlv(0xA3, neg_hints)
        if mic is not None:
            body += tlv(0xA4, tlv(0x04, mic))
    elif mic is not None:
        body += tlv(0xA3, tlv(0x04, mic))
    return tlv(0x60, oid_der(SPNEGO) + tlv(0xA0, tlv(0x30, body)))


def neg_token_resp(state=None, mech=None, token=None, mic=None):
    body = b""
    if state is not None:
        body += tlv(0xA0, tlv(0x0A, bytes([state])))
    if mech is not None:
        body += tlv(0xA1, oid_der(mech))
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    if mic is not None:
        body += tlv(0xA3, tlv(0x04, mic))
    return tlv(0xA1, tlv(0x30, body))


def read_tlv(buf, pos):
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, buf[pos:pos + n], pos + n


def fields(seq):
    out, pos = {}, 0
    while pos < len(seq):
        tag, value, pos = read_tlv(seq, pos)
        out[tag & 0x1F] = read_tlv(value, 0)[1]
    return out


def parse_resp(token):
    """{state, mech, token, mic} of a NegTokenResp (values None when absent)."""
    tag, body, _ = read_tlv(token, 0)
    assert tag == 0xA1, "not a NegTokenResp: %s" % token[:4].hex()
    f = fields(read_tlv(body, 0)[1])
    return {"state": f[0][0] if 0 in f else None,
            "mech": oid_text(f[1]) if 1 in f else None,
            "token": f.get(2), "mic": f.get(3)}


def parse_init(token):
    """(MechTypeList DER, mechToken) of a SPNEGO initial token."""
    _, body, _ = read_tlv(token, 0)
    _, _, pos = read_tlv(body, 0)           # the SPNEGO OID
    _, inner, _ = read_tlv(body, pos)       # [0]
    seq = read_tlv(inner, 0)[1]
    pos, types, mech_token = 0, None, None
    while pos < len(seq):
        start = pos
        tag, value, pos = read_tlv(seq, pos)
        if tag == 0xA0:
            types = value
        elif tag == 0xA2:
            mech_token = read_tlv(value, 0)[1]
    return types, mech_token


def tok_id(token):
    """The RFC 4121 TOK_ID after an RFC 2743 header (0x60, length, OID)."""
    _, body, _ = read_tlv(token, 0)
    _, _, pos = read_tlv(body, 0)
    return body[pos:pos + 2]


def describe(status, token):
    """One leg of an acceptor's answers: 'STATUS state mech tok mic'."""
    if token is None:
        return "%s (no token)" % status
    try:
        r = parse_resp(token)
    except Exception:
        return "%s token %s..." % (status, token[:6].hex())
    return "%s %s %s tok=%s mic=%s" % (
        status, STATES.get(r["state"], r["state"]), OID_NAMES.get(r["mech"], r["mech"] or "-"),
        "-" if r["token"] is None else ("empty" if not r["token"] else "Y"),
        "Y" if r["mic"] else "-")


MAJORS = {0: "COMPLETE", 1: "CONTINUE", 1 << 16: "BAD_MECH", 6 << 16: "BAD_MIC",
          7 << 16: "NO_CRED", 9 << 16: "DEFECTIVE_TOKEN", 13 << 16: "FAILURE"}


def major_name(major):
    routine = major & 0xFFFF0000
    if routine:
        return MAJORS.get(routine, "%#x" % routine)
    return MAJORS.get(major & 1, "%#x" % major)


# ---- the two acceptors and the two SPNEGO initiators --------------------------------------

LIB = None
ACCEPTOR_CRED = None
TARGET = None


class KrbapAcceptor:
    name = "krbap"

    def __init__(self):
        self.ctx = LIB.context()

    def step(self, token):
        major, out = self.ctx.accept(ACCEPTOR_CRED, token)
        return major_name(major), out

    @property
    def client(self):
        return self.ctx.src_name


class MitAcceptor:
    name = "MIT"

    def __init__(self):
        self.ctx = None
        self.client = None

    def step(self, token):
        try:
            r = graw.accept_sec_context(token, context=self.ctx)
        except GSSError as e:
            return major_name(e.maj_code), getattr(e, "token", None)
        self.ctx = r.context
        if not r.more_steps:
            self.client = str(gssapi.Name(r.initiator_name))
        return ("CONTINUE" if r.more_steps else "COMPLETE"), r.token


def flags(mutual):
    f = gssapi.RequirementFlag.integrity | gssapi.RequirementFlag.confidentiality
    if mutual:
        f |= gssapi.RequirementFlag.mutual_authentication
    return f


def krb5_initiator(mutual):
    """MIT's raw krb5 initiator (python-gssapi): the inner tokens of the hand-built cases."""
    return gssapi.SecurityContext(name=gssapi.Name(SERVICE, gssapi.NameType.hostbased_service),
                                  mech=gssapi.OID.from_int_seq(KRB5), flags=flags(mutual),
                                  usage="initiate")


class KrbapInitiator:
    name = "krbap"

    def __init__(self, mutual):
        self.flags = K.C_REPLAY | K.C_SEQUENCE | (K.C_MUTUAL if mutual else 0)
        self.ctx = LIB.context()

    def first(self):
        major, out = self.ctx.init(TARGET, K.MECH_SPNEGO, self.flags)
        assert major == K.CONTINUE_NEEDED, "krbap init: %#x %s" % (major, LIB.last_text)
        return out

    def step(self, token):
        major, out = self.ctx.init(TARGET, K.MECH_SPNEGO, self.flags, token)
        return major_name(major), out


class MitSpnegoInitiator:
    name = "MIT"

    def __init__(self, mutual):
        self.flags = flags(mutual)
        self.ctx = None
        self.name_ = gssapi.Name(SERVICE, gssapi.NameType.hostbased_service)

    def _call(self, token):
        try:
            r = graw.init_sec_context(self.name_, context=self.ctx,
                                      mech=gssapi.OID.from_int_seq(SPNEGO), flags=self.flags,
                                      input_token=token)
        except GSSError as e:
            return major_name(e.maj_code), getattr(e, "token", None)
        self.ctx = r.context
        return ("CONTINUE" if r.more_steps else "COMPLETE"), r.token

    def first(self):
        status, out = self._call(None)
        assert status == "CONTINUE", status
        return out

    def step(self, token):
        return self._call(token)


# ---- 1. hand-built initiators against both acceptors -------------------------------------

REJECT = bytes.fromhex("a1073005a0030a0102")  # MIT's NegTokenResp{negState reject}
NTLM_NEGOTIATE = (b"NTLMSSP\x00" + (1).to_bytes(4, "little")
                  + (0x62088215).to_bytes(4, "little") + bytes(16))
NEG_HINTS = tlv(0x30, tlv(0xA0, tlv(0x1B, b"not_defined_in_RFC4178@please_ignore")))


def run_case(acc, mechs, opt, mutual, o):
    """Drives one acceptor through a negotiation; returns the legs as text."""
    k = krb5_initiator(mutual)
    types = mech_types(mechs)
    legs = []
    first = k.step() if opt == "krb5" else None
    if first and o.get("reframe_ms"):
        first = first.replace(oid_der(KRB5), oid_der(MSKRB5), 1)
    if o.get("foreign_framing"):
        first = tlv(0x60, oid_der(NTLM) + b"\x01\x00" + NTLM_NEGOTIATE)
    init_mic = k.get_signature(types) if o.get("mic_in_init") else None
    mech_token = first if opt == "krb5" else (NTLM_NEGOTIATE if opt == "ntlm" else None)
    token = neg_token_init(types, mech_token, init_mic, req_flags=o.get("req_flags"),
                           neg_hints=NEG_HINTS if o.get("neg_hints") else None)
    if o.get("replay"):
        status, out = acc.step(token)
        legs.append("A " + describe(status, out))
        status, out = type(acc)().step(token)   # a new context, the same replay cache
        legs.append("A " + describe(status, out))
        r = parse_resp(out) if out else {}
        if r.get("token"):
            legs.append("A reject carries %s" % ("a KRB-ERROR" if tok_id(r["token"]) == b"\x03\x00"
                                                 else "another token"))
        return legs
    mic_required = False
    for _ in range(4):
        status, out = acc.step(token)
        legs.append("A " + describe(status, out))
        if status not in ("COMPLETE", "CONTINUE"):
            break
        r = parse_resp(out) if out else {}
        if r.get("state") == 3:
            mic_required = True
        if r.get("token") and not k.complete:
            k.step(r["token"])
            legs.append("I AP-REP verified")
        if r.get("mic"):
            k.verify_signature(types, r["mic"])
            legs.append("I acceptor MIC verified")
            mic_required = True
        if status == "COMPLETE":
            break
        nxt = None
        if not k.complete:
            nxt = k.step()
        mic = None
        if k.complete and (mic_required or init_mic) and not o.get("omit_mic"):
            mic = k.get_signature(mech_types(o["mic_over"]) if o.get("mic_over") else types)
            if o.get("corrupt_mic"):
                mic = mic[:-1] + bytes([mic[-1] ^ 0xFF])
        if nxt is None and mic is None:
            legs.append("I nothing to send")
            break
        token = neg_token_resp(token=nxt, mic=mic)
    if status == "COMPLETE":
        legs.append("client %s" % acc.client)
    return legs


# (name, mechTypes, optimistic token, mutual, options, {acceptor: expected legs}); a case
# with one expectation "both" expects it from both acceptors.
CASES = [
    ("01 [krb5] + AP-REQ, mutual", [KRB5], "krb5", True, {},
     {"both": ["A COMPLETE completed krb5 tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    ("02 [krb5] + AP-REQ, no mutual: the 22-byte answer", [KRB5], "krb5", False, {},
     {"both": ["A COMPLETE completed krb5 tok=- mic=-", "client alice@TEST.LOCAL"]}),
    ("03 [MS-krb5, krb5]: supportedMech is the MS OID, no MIC (either OID counts as first)",
     [MSKRB5, KRB5], "krb5", True, {},
     {"both": ["A COMPLETE completed ms-krb5 tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    ("04 [krb5, MS-krb5]", [KRB5, MSKRB5], "krb5", True, {},
     {"both": ["A COMPLETE completed krb5 tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    ("05 [MS-krb5] alone", [MSKRB5], "krb5", True, {},
     {"both": ["A COMPLETE completed ms-krb5 tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    ("06 [krb5] without optimistic token: accept-incomplete, AP-REQ in leg 2", [KRB5], None,
     True, {},
     {"both": ["A CONTINUE incomplete krb5 tok=- mic=-",
               "A COMPLETE completed - tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    ("07 [NTLM, krb5] + NTLM token, mutual: request-mic, MICs cross in legs 2-3",
     [NTLM, KRB5], "ntlm", True, {},
     {"both": ["A CONTINUE request-mic krb5 tok=- mic=-",
               "A CONTINUE incomplete - tok=Y mic=Y", "I AP-REP verified",
               "I acceptor MIC verified", "A COMPLETE (no token)", "client alice@TEST.LOCAL"]}),
    ("08 [NTLM, krb5] + NTLM token, no mutual: AP-REQ and MIC together", [NTLM, KRB5], "ntlm",
     False, {},
     {"both": ["A CONTINUE request-mic krb5 tok=- mic=-",
               "A COMPLETE completed - tok=- mic=Y", "I acceptor MIC verified",
               "client alice@TEST.LOCAL"]}),
    ("09 [NegoEx, krb5] without token, mutual", [NEGOEX, KRB5], None, True, {},
     {"both": ["A CONTINUE request-mic krb5 tok=- mic=-",
               "A CONTINUE incomplete - tok=Y mic=Y", "I AP-REP verified",
               "I acceptor MIC verified", "A COMPLETE (no token)", "client alice@TEST.LOCAL"]}),
    ("10 [krb5, NTLM] + AP-REQ: krb5 first, no MIC", [KRB5, NTLM], "krb5", True, {},
     {"both": ["A COMPLETE completed krb5 tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    # MIT refuses an inner token framed with the MS OID (its mechglue finds no credential
    # for that OID); krbap reads it as krb5 (the OIDs differ in one byte).
    ("11 [MS-krb5, krb5], inner token framed with the MS OID", [MSKRB5, KRB5], "krb5", True,
     {"reframe_ms": True},
     {"krbap": ["A COMPLETE completed ms-krb5 tok=Y mic=-", "I AP-REP verified",
                "client alice@TEST.LOCAL"],
      "MIT": ["A NO_CRED reject - tok=- mic=-"]}),
    ("12 [NTLM, krb5], no mutual, the required MIC omitted: DEFECTIVE_TOKEN", [NTLM, KRB5],
     "ntlm", False, {"omit_mic": True},
     {"both": ["A CONTINUE request-mic krb5 tok=- mic=-",
               "A DEFECTIVE_TOKEN reject - tok=- mic=-"]}),
    ("13 [NTLM, krb5], no mutual, corrupted MIC: BAD_MIC", [NTLM, KRB5], "ntlm", False,
     {"corrupt_mic": True},
     {"both": ["A CONTINUE request-mic krb5 tok=- mic=-", "A BAD_MIC reject - tok=- mic=-"]}),
    ("14 MIC over [krb5] where [NTLM, krb5] was sent (a stripped list): BAD_MIC",
     [NTLM, KRB5], "ntlm", False, {"mic_over": [KRB5]},
     {"both": ["A CONTINUE request-mic krb5 tok=- mic=-", "A BAD_MIC reject - tok=- mic=-"]}),
    # RFC 4178 §4.2.2: supportedMech belongs in the first reply; MIT leaves it out when it
    # answers an initiator's MIC at once (its INIT/CONT token flag), krbap does not.
    ("15 [krb5], no mutual, unsolicited initiator MIC: verified and answered", [KRB5], "krb5",
     False, {"mic_in_init": True},
     {"krbap": ["A COMPLETE completed krb5 tok=- mic=Y", "I acceptor MIC verified",
                "client alice@TEST.LOCAL"],
      "MIT": ["A COMPLETE completed - tok=- mic=Y", "I acceptor MIC verified",
              "client alice@TEST.LOCAL"]}),
    ("16 [NTLM] alone: BAD_MECH and the 9-byte reject", [NTLM], "ntlm", True, {},
     {"both": ["A BAD_MECH reject - tok=- mic=-"]}),
    # MIT 1.20 reads [3] as mechListMIC and fails on the NegHints SEQUENCE; krbap reads the
    # NegTokenInit2 layout (hints ignored), as Samba and Windows acceptors do.
    ("17 MS NegTokenInit2 layout with negHints", [KRB5], "krb5", True, {"neg_hints": True},
     {"krbap": ["A COMPLETE completed krb5 tok=Y mic=-", "I AP-REP verified",
                "client alice@TEST.LOCAL"],
      "MIT": ["A FAILURE reject - tok=- mic=-"]}),
    ("18 reqFlags present (RFC 4178: acceptors MUST ignore it)", [KRB5], "krb5", True,
     {"req_flags": b"\x01\x62"},
     {"both": ["A COMPLETE completed krb5 tok=Y mic=-", "I AP-REP verified",
               "client alice@TEST.LOCAL"]}),
    ("19 the same SPNEGO token twice: the replay is refused with a KRB-ERROR inside", [KRB5],
     "krb5", True, {"replay": True},
     {"both": ["A COMPLETE completed krb5 tok=Y mic=-", "A FAILURE reject - tok=Y mic=-",
               "A reject carries a KRB-ERROR"]}),
    ("20 [krb5] whose mech token is framed for NTLMSSP: BAD_MECH", [KRB5], "krb5", True,
     {"foreign_framing": True},
     {"both": ["A BAD_MECH reject - tok=- mic=-"]}),
]


def section1():
    for name, mechs, opt, mutual, o, expect in CASES:
        got = {}
        for acc_class in (KrbapAcceptor, MitAcceptor):
            acc = acc_class()
            try:
                got[acc.name] = run_case(acc, mechs, opt, mutual, o)
            except Exception as e:  # a verification failed inside the case
                got[acc.name] = ["EXCEPTION %s: %s" % (type(e).__name__,
                                                       str(e).splitlines()[0][:200])]
        for who in ("krbap", "MIT"):
            want = expect.get(who, expect.get("both"))
            result("acceptor %-5s %s" % (who, name), got[who] == want,
                   "got:\n  " + "\n  ".join(got[who]) + "\nexpected:\n  " + "\n  ".join(want))


# ---- 2. Windows-style answers to both SPNEGO initiators -----------------------------------

def mit_krb5_acceptor():
    return gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"), usage="accept")


def windows_case(initiator_class, mutual, build):
    """The initiator's NegTokenInit goes to MIT's raw krb5 acceptor; `build` makes the
    acceptor's answer from (AP-REP or None, the raw acceptor, MechTypeList DER)."""
    init = initiator_class(mutual)
    types, ap_req = parse_init(init.first())
    acc = mit_krb5_acceptor()
    ap_rep = acc.step(ap_req)
    answer = build(ap_rep, acc, types, ap_req)
    status, out = init.step(answer)
    legs = ["I " + status + ("" if out is None else
                             " + reject" if out == REJECT else " + token")]
    if out is not None and status == "COMPLETE":
        r = parse_resp(out)
        if r["mic"]:
            acc.verify_signature(types, r["mic"])
            legs.append("A initiator MIC verified (negState %s)" % STATES.get(r["state"]))
    if status == "COMPLETE":
        return legs + wrap_check(init, acc)
    return legs


def wrap_check(init, acc):
    """Per-message protection on the krb5 context after SPNEGO, both ways."""
    if isinstance(init, KrbapInitiator):
        w = init.ctx.wrap(b"from the initiator")
        ok = acc.unwrap(w).message == b"from the initiator"
        back = acc.wrap(b"from the acceptor", True).message
        ok = ok and init.ctx.unwrap(back) == b"from the acceptor"
    else:
        ictx = gssapi.SecurityContext(base=init.ctx)
        w = ictx.wrap(b"from the initiator", True).message
        ok = acc.unwrap(w).message == b"from the initiator"
    return ["wrap ok" if ok else "wrap FAILED"]


def krb_error_of(ap_req):
    """A KRB-ERROR from MIT's acceptor: the same AP-REQ accepted twice (a replay)."""
    try:
        graw.accept_sec_context(ap_req)
    except GSSError as e:
        return e.token
    raise AssertionError("MIT accepted a replay")


WINDOWS = [
    ("supportedMech = the MS OID (Windows)", True,
     lambda rep, a, t, q: neg_token_resp(0, MSKRB5, rep),
     {"both": ["I COMPLETE", "wrap ok"]}),
    ("supportedMech = the pre-RFC krb5 OID (old Samba)", True,
     lambda rep, a, t, q: neg_token_resp(0, OLDKRB5, rep),
     {"both": ["I COMPLETE", "wrap ok"]}),
    ("no supportedMech in the first answer (Java)", True,
     lambda rep, a, t, q: neg_token_resp(0, None, rep),
     {"both": ["I COMPLETE", "wrap ok"]}),
    ("no mutual: accept-completed without responseToken", False,
     lambda rep, a, t, q: neg_token_resp(0, KRB5),
     {"both": ["I COMPLETE", "wrap ok"]}),
    ("no mutual: an empty responseToken (old IIS)", False,
     lambda rep, a, t, q: neg_token_resp(0, KRB5, b""),
     {"both": ["I COMPLETE", "wrap ok"]}),
    ("Windows 2000: the responseToken repeated as mechListMIC", True,
     lambda rep, a, t, q: neg_token_resp(0, KRB5, rep, rep),
     {"both": ["I COMPLETE", "wrap ok"]}),
    ("an acceptor mechListMIC with the AP-REP: verified, ours sent back", True,
     lambda rep, a, t, q: neg_token_resp(1, MSKRB5, rep, a.get_signature(t)),
     {"both": ["I COMPLETE + token", "A initiator MIC verified (negState completed)",
               "wrap ok"]}),
    ("a corrupted acceptor mechListMIC: BAD_MIC", True,
     lambda rep, a, t, q: neg_token_resp(1, KRB5, rep, a.get_signature(t)[:-1] + b"\x00"),
     {"both": ["I BAD_MIC + reject"]}),
    ("mutual, but no responseToken: DEFECTIVE_TOKEN", True,
     lambda rep, a, t, q: neg_token_resp(0, KRB5),
     {"both": ["I DEFECTIVE_TOKEN + reject"]}),
    ("supportedMech = NTLMSSP, never offered: DEFECTIVE_TOKEN", True,
     lambda rep, a, t, q: neg_token_resp(0, NTLM, rep),
     {"both": ["I DEFECTIVE_TOKEN + reject"]}),
    # Both answer a failed step with a reject of their own. MIT's initiator reports the
    # reject only (ERR_SPNEGO_NEGOTIATION_FAILED); krbap reads the KRB-ERROR inside it.
    ("reject carrying a KRB-ERROR (a replay at the acceptor)", True,
     lambda rep, a, t, q: neg_token_resp(2, None, krb_error_of(q)),
     {"both": ["I FAILURE + reject"]}),
]


def section2():
    for name, mutual, build, expect in WINDOWS:
        for initiator_class in (KrbapInitiator, MitSpnegoInitiator):
            who = initiator_class.name
            try:
                got = windows_case(initiator_class, mutual, build)
            except Exception as e:
                got = ["EXCEPTION %s: %s" % (type(e).__name__, str(e).splitlines()[0][:200])]
            want = expect.get(who, expect.get("both"))
            extra = ""
            if who == "krbap" and name.startswith("reject") and got == want:
                ok = LIB.last_minor == K.AP_ERR_REPEAT
                extra = "" if ok else "minor %#x (%s), expected KRB5KRB_AP_ERR_REPEAT" % (
                    LIB.last_minor, LIB.last_text)
                if not ok:
                    got = got + ["minor not KRB5KRB_AP_ERR_REPEAT"]
            result("initiator %-5s %s" % (who, name), got == want,
                   "got: %s\nexpected: %s\n%s" % (got, want, extra))


# ---- 3. pyspnego ---------------------------------------------------------------------------

def pyspnego_to_acceptor(acc, req):
    """pyspnego's SPNEGO initiator against `acc`: the legs, pyspnego's context."""
    import spnego

    c = spnego.client(hostname="localhost", service="test", protocol="negotiate",
                      context_req=req)
    token, legs = c.step(), []
    while token is not None:
        status, out = acc.step(token)
        legs.append(describe(status, out))
        if status not in ("COMPLETE", "CONTINUE"):
            break
        token = c.step(out) if out else None
        if status == "COMPLETE":
            break
    return legs, c


def section3():
    import spnego

    mutual_req = spnego.ContextReq.default
    plain_req = mutual_req & ~spnego.ContextReq.mutual_auth
    # pyspnego initiator -> krbap acceptor, then Wrap both ways.
    try:
        acc = KrbapAcceptor()
        legs, c = pyspnego_to_acceptor(acc, mutual_req)
        assert legs == ["COMPLETE completed krb5 tok=Y mic=-"], legs
        assert c.complete, "pyspnego did not complete"
        assert acc.client == "alice@TEST.LOCAL", acc.client
        assert acc.ctx.mech() == K.MECH_SPNEGO
        w = c.wrap(b"pyspnego to krbap", encrypt=True).data
        assert acc.ctx.unwrap(w) == b"pyspnego to krbap"
        back = acc.ctx.wrap(b"krbap to pyspnego")
        assert c.unwrap(back).data == b"krbap to pyspnego"
        result("pyspnego initiator -> krbap acceptor, mutual; Wrap both ways", True)
    except Exception:
        result("pyspnego initiator -> krbap acceptor, mutual", False, traceback.format_exc())
    # pyspnego 0.12.4 without mutual authentication lists krb5 but sends no Kerberos token,
    # then answers accept-incomplete with a bare accept-completed: both acceptors refuse it.
    got = {}
    for acc_class in (KrbapAcceptor, MitAcceptor):
        try:
            got[acc_class.name] = pyspnego_to_acceptor(acc_class(), plain_req)[0]
        except Exception as e:
            got[acc_class.name] = ["EXCEPTION %s" % e]
    # MIT's error answer echoes the initiator's negState (its get_negTokenResp writes the
    # parsed state into the reply's), so it says accept-completed; krbap's says reject.
    wants = {"krbap": ["CONTINUE incomplete krb5 tok=- mic=-",
                       "DEFECTIVE_TOKEN reject - tok=- mic=-"],
             "MIT": ["CONTINUE incomplete krb5 tok=- mic=-",
                     "DEFECTIVE_TOKEN completed - tok=- mic=-"]}
    for who in ("krbap", "MIT"):
        result("pyspnego initiator without mutual (sends no Kerberos token) -> %s: "
               "DEFECTIVE_TOKEN" % who, got[who] == wants[who],
               "got %s\nexpected %s" % (got[who], wants[who]))
    # krbap initiator -> pyspnego acceptor, mutual and not.
    for mutual in (True, False):
        label = "mutual" if mutual else "no mutual"
        try:
            s = spnego.server(hostname="localhost", service="test", protocol="negotiate")
            init = KrbapInitiator(mutual)
            token, steps = init.first(), []
            while token is not None:
                out = s.step(token)
                steps.append("pyspnego %s" % ("complete" if s.complete else "continue"))
                if out is None:
                    break
                status, token = init.step(out)
                steps.append("krbap %s" % status)
                assert status in ("COMPLETE", "CONTINUE"), "%s %s" % (steps, LIB.last_text)
            assert s.complete, steps
            assert s.client_principal == "alice@TEST.LOCAL", s.client_principal
            assert steps[-1] == "krbap COMPLETE", steps
            w = init.ctx.wrap(b"krbap to pyspnego")
            assert s.unwrap(w).data == b"krbap to pyspnego"
            back = s.wrap(b"pyspnego to krbap", encrypt=True).data
            assert init.ctx.unwrap(back) == b"pyspnego to krbap"
            result("krbap initiator -> pyspnego acceptor, %s (%s); Wrap both ways"
                   % (label, ", ".join(steps)), True)
        except Exception:
            result("krbap initiator -> pyspnego acceptor, %s" % label, False,
                   traceback.format_exc())


# ---- 4. Heimdal -----------------------------------------------------------------------------

class HeimdalPeer:
    """tests/interop/heimdal_peer (Heimdal's libgssapi) over pipes: hex token lines."""

    def __init__(self, path, *args):
        import subprocess
        self.p = subprocess.Popen([path] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def read(self):
        """(token or None, major, name) of one call."""
        tok = self.p.stdout.readline().strip()
        status = self.p.stdout.readline().split()
        assert status and status[0] == "STATUS", "heimdal_peer said %r %r" % (tok, status)
        return (None if tok in ("-", "") else bytes.fromhex(tok)), int(status[1], 16), status[2]

    def first(self):
        return self.read()[0]

    def send(self, token):
        self.p.stdin.write((token.hex() if token else "-") + "\n")
        self.p.stdin.flush()
        return self.read()

    def close(self):
        self.p.stdin.close()
        return self.p.wait(timeout=20)


def section4(peer):
    for mutual in (True, False):
        label = "mutual" if mutual else "no mutual"
        # Heimdal initiator -> krbap acceptor
        try:
            h = HeimdalPeer(peer, "init", SERVICE, *([] if mutual else ["-nomutual"]))
            token, acc, legs = h.first(), KrbapAcceptor(), []
            while True:
                status, out = acc.step(token)
                legs.append(describe(status, out))
                assert status in ("COMPLETE", "CONTINUE"), legs
                token, major, _ = h.send(out)
                assert major in (0, 1), "Heimdal: major %#x after %s" % (major, legs)
                if major == 0:
                    break
            assert token is None, "Heimdal has more to send: %s" % legs
            assert acc.client == "alice@TEST.LOCAL", acc.client
            assert h.close() == 0
            result("Heimdal SPNEGO initiator -> krbap acceptor, %s (%s)" % (label, "; ".join(legs)),
                   True)
        except Exception:
            result("Heimdal SPNEGO initiator -> krbap acceptor, %s" % label, False,
                   traceback.format_exc())
        # krbap initiator -> Heimdal acceptor
        try:
            h = HeimdalPeer(peer, "accept")
            init = KrbapInitiator(mutual)
            token, steps = init.first(), []
            while token is not None:
                out, major, name = h.send(token)
                steps.append("Heimdal %#x" % major)
                assert major in (0, 1), steps
                if out is None:
                    break
                status, token = init.step(out)
                steps.append("krbap %s" % status)
                assert status in ("COMPLETE", "CONTINUE"), "%s %s" % (steps, LIB.last_text)
            assert name == "alice@TEST.LOCAL", name
            assert steps[-1] == "krbap COMPLETE", steps
            assert h.close() == 0
            result("krbap initiator -> Heimdal SPNEGO acceptor, %s (%s)" % (label, ", ".join(steps)),
                   True)
        except Exception:
            result("krbap initiator -> Heimdal SPNEGO acceptor, %s" % label, False,
                   traceback.format_exc())


def main():
    global LIB, ACCEPTOR_CRED, TARGET
    LIB = K.Krbap(sys.argv[1])
    ACCEPTOR_CRED = LIB.acceptor(os.environ["KRB5_KTNAME"])
    TARGET = LIB.name(SERVICE)
    section1()
    section2()
    if "--no-pyspnego" not in sys.argv:
        section3()
    if "--heimdal" in sys.argv:
        section4(sys.argv[sys.argv.index("--heimdal") + 1])
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED or not PASSED else 0


if __name__ == "__main__":
    sys.exit(main())
