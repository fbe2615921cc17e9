"""krbap_ctypes.py - krbap's C ABI from Python (ctypes), for the interop tests that put a
krbap context and a python-gssapi / pyspnego context in one process and pass tokens
between them by hand. Only what those tests call; every call returns the major status
and keeps the minor status and its text.

    lib = Krbap("/path/to/libkrbap.so")
    acc = lib.acceptor("FILE:/path/keytab")          # a krbap_cred (KRBAP_C_ACCEPT)
    ctx = lib.context()
    major, token = ctx.accept(acc, b"...")           # token: bytes or None
"""
import ctypes

COMPLETE, CONTINUE_NEEDED = 0, 1
DUPLICATE_TOKEN = 1 << 1
BAD_MECH, BAD_SIG, NO_CRED, NO_CONTEXT = 1 << 16, 6 << 16, 7 << 16, 8 << 16
DEFECTIVE_TOKEN, FAILURE = 9 << 16, 13 << 16
ROUTINE_MASK = 0xFF << 16
MECH_KRB5, MECH_SPNEGO = 1, 2
C_MUTUAL, C_REPLAY, C_SEQUENCE, C_CONF, C_INTEG = 2, 4, 8, 16, 32
NT_HOSTBASED_SERVICE = 1
GSS_CODE, MECH_CODE = 1, 2


def krb5_minor(n):
    """MIT's com_err code ERROR_TABLE_BASE_krb5 + n as an unsigned minor status."""
    return (-1765328384 + n) & 0xFFFFFFFF


AP_ERR_BAD_INTEGRITY, AP_ERR_REPEAT = krb5_minor(31), krb5_minor(34)
SPNEGO_NEGOTIATION_FAILED, SPNEGO_NO_TOKEN_FROM_ACCEPTOR = 0x20000004, 0x20000005


class Buffer(ctypes.Structure):
    _fields_ = [("length", ctypes.c_size_t), ("value", ctypes.c_void_p)]


def _in(data):
    """An input buffer (and the object keeping its bytes alive)."""
    if data is None:
        return None, None
    keep = ctypes.create_string_buffer(bytes(data), len(data))
    return Buffer(len(data), ctypes.cast(keep, ctypes.c_void_p)), keep


class KrbapError(Exception):
    pass


class Krbap:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.minor = ctypes.c_uint32()
        self.last_text = ""

    def _out(self, buf):
        """The bytes of a library-owned output buffer (None when empty), then freed."""
        if not buf.length:
            return None
        data = ctypes.string_at(buf.value, buf.length)
        self.lib.krbap_buffer_free(ctypes.byref(ctypes.c_uint32()), ctypes.byref(buf))
        return data

    def _status(self, major):
        self.last_minor = self.minor.value
        self.last_text = self.display(self.minor.value, MECH_CODE) if major & 0xFFFF0000 else ""
        return major

    def display(self, code, kind):
        out, ctx, mn = Buffer(), ctypes.c_uint32(0), ctypes.c_uint32()
        self.lib.krbap_display_status(ctypes.byref(mn), ctypes.c_uint32(code), kind,
                                      ctypes.byref(ctx), ctypes.byref(out))
        return (self._out(out) or b"").decode("utf-8", "replace")

    def _cred(self, usage, location):
        cred = ctypes.c_void_p()
        major = self.lib.krbap_acquire_cred(ctypes.byref(self.minor), None, usage,
                                            location.encode() if location else None,
                                            ctypes.byref(cred), None)
        if major & 0xFFFF0000:
            raise KrbapError("acquire_cred(%s): %#x %s" % (location, major,
                                                           self.display(self.minor.value,
                                                                        MECH_CODE)))
        return cred

    def acceptor(self, keytab=None):
        return self._cred(2, keytab)

    def initiator(self, ccache=None):
        return self._cred(1, ccache)

    def name(self, text):
        buf, keep = _in(text.encode())
        name = ctypes.c_void_p()
        major = self.lib.krbap_import_name(ctypes.byref(self.minor), ctypes.byref(buf),
                                           NT_HOSTBASED_SERVICE, ctypes.byref(name))
        if major:
            raise KrbapError("import_name(%s): %#x" % (text, major))
        return name

    def context(self):
        return Context(self)


class Context:
    """One krbap_ctx handle (NULL until the first init/accept call)."""

    def __init__(self, k):
        self.k, self.lib = k, k.lib
        self.handle = ctypes.c_void_p()
        self.src_name = None

    def init(self, target, mech, flags, token=None, cred=None):
        """One krbap_init_sec_context_mech call: (major, output bytes or None)."""
        buf, keep = _in(token)
        out = Buffer()
        major = self.lib.krbap_init_sec_context_mech(
            ctypes.byref(self.k.minor), cred, ctypes.byref(self.handle), target, mech,
            ctypes.c_uint32(flags), None, ctypes.byref(buf) if buf else None, None, None,
            ctypes.byref(out))
        return self.k._status(major), self.k._out(out)

    def accept(self, cred, token):
        """One krbap_accept_sec_context call: (major, output bytes or None)."""
        buf, keep = _in(token)
        out, name = Buffer(), ctypes.c_void_p()
        major = self.lib.krbap_accept_sec_context(
            ctypes.byref(self.k.minor), ctypes.byref(self.handle), cred, ctypes.byref(buf), None,
            ctypes.byref(name), None, None, ctypes.byref(out), None)
        major = self.k._status(major)
        if name.value:
            text = Buffer()
            self.lib.krbap_display_name(ctypes.byref(ctypes.c_uint32()), name,
                                        ctypes.byref(text))
            self.src_name = (self.k._out(text) or b"").decode()
            self.lib.krbap_release_name(ctypes.byref(ctypes.c_uint32()), ctypes.byref(name))
        return major, self.k._out(out)

    @property
    def alive(self):
        return bool(self.handle.value)

    def mech(self):
        m = ctypes.c_int32()
        major = self.lib.krbap_inquire_mech(ctypes.byref(self.k.minor), self.handle,
                                            ctypes.byref(m))
        return m.value if major == 0 else None

    def wrap(self, data, conf=True):
        buf, keep = _in(data)
        out = Buffer()
        major = self.lib.krbap_wrap(ctypes.byref(self.k.minor), self.handle, int(conf), 0,
                                    ctypes.byref(buf), None, ctypes.byref(out))
        if major:
            raise KrbapError("wrap: %#x %s" % (major, self.k.display(self.k.minor.value,
                                                                    MECH_CODE)))
        return self.k._out(out)

    def unwrap(self, token):
        buf, keep = _in(token)
        out = Buffer()
        major = self.lib.krbap_unwrap(ctypes.byref(self.k.minor), self.handle,
                                      ctypes.byref(buf), ctypes.byref(out), None, None)
        if major:
            raise KrbapError("unwrap: %#x %s" % (major, self.k.display(self.k.minor.value,
                                                                      MECH_CODE)))
        return self.k._out(out) or b""

    def get_mic(self, data):
        buf, keep = _in(data)
        out = Buffer()
        major = self.lib.krbap_get_mic(ctypes.byref(self.k.minor), self.handle, 0,
                                       ctypes.byref(buf), ctypes.byref(out))
        if major:
            raise KrbapError("get_mic: %#x" % major)
        return self.k._out(out)

    def verify_mic(self, data, mic):
        b1, k1 = _in(data)
        b2, k2 = _in(mic)
        return self.lib.krbap_verify_mic(ctypes.byref(self.k.minor), self.handle,
                                         ctypes.byref(b1), ctypes.byref(b2), None)

    def delete(self):
        if self.handle.value:
            self.lib.krbap_delete_sec_context(ctypes.byref(ctypes.c_uint32()),
                                              ctypes.byref(self.handle), None)
