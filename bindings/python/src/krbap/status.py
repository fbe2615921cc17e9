"""Status codes and exceptions (the C ABI's major/minor status, RFC 2744 §3.9).

Every failing call raises a :class:`KrbapError` (or a subclass users catch by cause) that
carries the major status, the MIT minor code, MIT's symbolic name of the minor code and the
readable message ``krbap_display_status`` gives (MIT's text and krbap's detail, e.g. "Clock
skew too great (skew 421 s, allowed 300 s)"). The class is chosen from the status only.
"""

from __future__ import annotations

from ctypes import byref, c_int32, c_uint32
from typing import Optional

from . import _ffi

# Major status values (RFC 2744 GSS_S_*, as KRBAP_S_* in krbap.h).
COMPLETE = 0
CONTINUE_NEEDED = 1
DUPLICATE_TOKEN = 1 << 1
OLD_TOKEN = 1 << 2
UNSEQ_TOKEN = 1 << 3
GAP_TOKEN = 1 << 4
CALL_INACCESSIBLE_READ = 1 << 24
CALL_INACCESSIBLE_WRITE = 2 << 24
CALL_BAD_STRUCTURE = 3 << 24
BAD_MECH = 1 << 16
BAD_NAME = 2 << 16
BAD_NAMETYPE = 3 << 16
BAD_BINDINGS = 4 << 16
BAD_STATUS = 5 << 16
BAD_SIG = 6 << 16
NO_CRED = 7 << 16
NO_CONTEXT = 8 << 16
DEFECTIVE_TOKEN = 9 << 16
DEFECTIVE_CREDENTIAL = 10 << 16
CREDENTIALS_EXPIRED = 11 << 16
CONTEXT_EXPIRED = 12 << 16
FAILURE = 13 << 16
BAD_QOP = 14 << 16
UNAUTHORIZED = 15 << 16
UNAVAILABLE = 16 << 16
DUPLICATE_ELEMENT = 17 << 16

CALLING_ERROR_MASK = 0xFF << 24
ROUTINE_ERROR_MASK = 0xFF << 16
SUPPLEMENTARY_MASK = 0xFFFF

_ROUTINE_NAMES = {
    BAD_MECH: "GSS_S_BAD_MECH",
    BAD_NAME: "GSS_S_BAD_NAME",
    BAD_NAMETYPE: "GSS_S_BAD_NAMETYPE",
    BAD_BINDINGS: "GSS_S_BAD_BINDINGS",
    BAD_STATUS: "GSS_S_BAD_STATUS",
    BAD_SIG: "GSS_S_BAD_SIG",
    NO_CRED: "GSS_S_NO_CRED",
    NO_CONTEXT: "GSS_S_NO_CONTEXT",
    DEFECTIVE_TOKEN: "GSS_S_DEFECTIVE_TOKEN",
    DEFECTIVE_CREDENTIAL: "GSS_S_DEFECTIVE_CREDENTIAL",
    CREDENTIALS_EXPIRED: "GSS_S_CREDENTIALS_EXPIRED",
    CONTEXT_EXPIRED: "GSS_S_CONTEXT_EXPIRED",
    FAILURE: "GSS_S_FAILURE",
    BAD_QOP: "GSS_S_BAD_QOP",
    UNAUTHORIZED: "GSS_S_UNAUTHORIZED",
    UNAVAILABLE: "GSS_S_UNAVAILABLE",
    DUPLICATE_ELEMENT: "GSS_S_DUPLICATE_ELEMENT",
}
_CALLING_NAMES = {
    CALL_INACCESSIBLE_READ: "GSS_S_CALL_INACCESSIBLE_READ",
    CALL_INACCESSIBLE_WRITE: "GSS_S_CALL_INACCESSIBLE_WRITE",
    CALL_BAD_STRUCTURE: "GSS_S_CALL_BAD_STRUCTURE",
}
_SUPPLEMENTARY_NAMES = {
    CONTINUE_NEEDED: "GSS_S_CONTINUE_NEEDED",
    DUPLICATE_TOKEN: "GSS_S_DUPLICATE_TOKEN",
    OLD_TOKEN: "GSS_S_OLD_TOKEN",
    UNSEQ_TOKEN: "GSS_S_UNSEQ_TOKEN",
    GAP_TOKEN: "GSS_S_GAP_TOKEN",
}


def is_error(major: int) -> bool:
    """GSS_ERROR(): a calling or routine error (supplementary bits alone are not)."""
    return bool(major & (CALLING_ERROR_MASK | ROUTINE_ERROR_MASK))


def major_name(major: int) -> str:
    """The RFC 2744 names of a major status's parts, joined by "|" (e.g.
    "GSS_S_FAILURE|GSS_S_DUPLICATE_TOKEN"); "GSS_S_COMPLETE" for 0."""
    parts = []
    calling = major & CALLING_ERROR_MASK
    if calling:
        parts.append(_CALLING_NAMES.get(calling, f"calling error {calling >> 24}"))
    routine = major & ROUTINE_ERROR_MASK
    if routine:
        parts.append(_ROUTINE_NAMES.get(routine, f"routine error {routine >> 16}"))
    parts.extend(n for bit, n in _SUPPLEMENTARY_NAMES.items() if major & bit)
    return "|".join(parts) or "GSS_S_COMPLETE"


def minor_name(minor: int) -> Optional[str]:
    """MIT's symbolic name of a minor code (e.g. "KRB5KRB_AP_ERR_SKEW"), None if unknown."""
    fn = _ffi.optional("krbap_minor_status_name")
    if fn is None or minor == 0:
        return None
    name = fn(minor & 0xFFFFFFFF)
    return name.decode() if isinstance(name, bytes) else None


def display_status(value: int, mech: bool) -> str:
    """krbap_display_status: the text of a major status (all its parts) or of a minor code
    (MIT's text, and this thread's detail of the last failure with that code)."""
    texts = []
    context = c_uint32(0)
    for _ in range(16):
        minor = c_uint32()
        buf = _ffi.krbap_buffer()
        major = _ffi.lib.krbap_display_status(
            byref(minor), value & 0xFFFFFFFF, c_int32(2 if mech else 1), byref(context), byref(buf)
        )
        if major != COMPLETE:
            _ffi.free(buf)
            break
        texts.append(_ffi.take(buf).decode("utf-8", "replace"))
        if context.value == 0:
            break
    return "; ".join(texts)


# Minor codes by MIT name, for the classification below (values of MIT's com_err tables).
_KRB5 = -1765328384
AP_ERR_BAD_INTEGRITY = _KRB5 + 31
AP_ERR_TKT_EXPIRED = _KRB5 + 32
AP_ERR_TKT_NYV = _KRB5 + 33
AP_ERR_REPEAT = _KRB5 + 34
AP_ERR_NOT_US = _KRB5 + 35
AP_ERR_SKEW = _KRB5 + 37
AP_ERR_MODIFIED = _KRB5 + 41
AP_ERR_BADKEYVER = _KRB5 + 44
AP_ERR_MUT_FAIL = _KRB5 + 46
AP_ERR_NOKEY = _KRB5 + 45
CC_NOTFOUND = _KRB5 + 141
RC_REPLAY = _KRB5 + 163
KT_NOTFOUND = _KRB5 + 181
FCC_NOFILE = _KRB5 + 195
KT_KVNONOTFOUND = _KRB5 + 230
KDCREP_SKEW = _KRB5 + 148


class KrbapError(Exception):
    """A failed krbap call.

    ``major``: the GSS major status (``major_name`` spells it out); ``minor``: MIT's minor
    code as a signed 32-bit int (e.g. -1765328347); ``name``: MIT's symbolic name of the
    minor code ("KRB5KRB_AP_ERR_SKEW") or None; ``message``: the readable reason; ``token``:
    a token to send back to the peer (an acceptor's KRB-ERROR), else b"".
    """

    major: int
    minor: int
    name: Optional[str]
    message: str
    token: bytes

    def __init__(
        self,
        major: int,
        minor: int,
        message: str,
        name: Optional[str] = None,
        operation: str = "",
        token: bytes = b"",
    ) -> None:
        self.major = major
        self.minor = minor
        self.name = name
        self.message = message
        self.operation = operation
        self.token = token
        super().__init__(str(self))

    @property
    def major_name(self) -> str:
        return major_name(self.major)

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        codes = self.major_name + (f", {self.name}" if self.name else "")
        return f"{where}{self.message} [{codes}]"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(major={self.major:#x}, minor={self.minor}, "
            f"name={self.name!r}, message={self.message!r})"
        )


class ReplayError(KrbapError):
    """A replayed token: an authenticator seen before (KRB5KRB_AP_ERR_REPEAT), or a Wrap/MIC
    token whose sequence number was already received (GSS_S_DUPLICATE_TOKEN)."""


class ClockSkewError(KrbapError):
    """The peer's clock differs from ours by more than the allowed skew
    (KRB5KRB_AP_ERR_SKEW), or the ticket starts in the future (KRB5KRB_AP_ERR_TKT_NYV)."""


class ExpiredError(KrbapError):
    """The ticket, credential or context has expired (KRB5KRB_AP_ERR_TKT_EXPIRED,
    GSS_S_CREDENTIALS_EXPIRED, GSS_S_CONTEXT_EXPIRED)."""


class BadIntegrityError(KrbapError):
    """Something did not decrypt or its checksum is wrong: a ticket under another key, an
    altered Wrap or MIC token (KRB5KRB_AP_ERR_BAD_INTEGRITY, GSS_S_BAD_SIG)."""


class NoKeyError(KrbapError):
    """The acceptor has no key for the ticket: another service (KRB5KRB_AP_ERR_NOT_US), a
    kvno it lacks (KRB5KRB_AP_ERR_BADKEYVER) or an enctype it lacks (KRB5KRB_AP_ERR_NOKEY)."""


class NoCredentialsError(KrbapError):
    """No usable credentials: no ccache or TGT, no keytab (GSS_S_NO_CRED)."""


class DefectiveTokenError(KrbapError):
    """A malformed token: framing, DER, truncation, another mechanism (GSS_S_DEFECTIVE_TOKEN)."""


class BadBindingsError(KrbapError):
    """The channel bindings of the two sides differ (GSS_S_BAD_BINDINGS)."""


def error_class(major: int, minor: int) -> type[KrbapError]:
    routine = major & ROUTINE_ERROR_MASK
    if major & DUPLICATE_TOKEN or minor in (AP_ERR_REPEAT, RC_REPLAY):
        return ReplayError
    if routine == BAD_BINDINGS:
        return BadBindingsError
    if routine == DEFECTIVE_TOKEN:
        return DefectiveTokenError
    if routine == NO_CRED or minor in (CC_NOTFOUND, FCC_NOFILE):
        return NoCredentialsError
    if routine == BAD_SIG or minor in (AP_ERR_BAD_INTEGRITY, AP_ERR_MODIFIED):
        return BadIntegrityError
    if routine in (CREDENTIALS_EXPIRED, CONTEXT_EXPIRED) or minor == AP_ERR_TKT_EXPIRED:
        return ExpiredError
    if minor in (AP_ERR_SKEW, AP_ERR_TKT_NYV, KDCREP_SKEW):
        return ClockSkewError
    if minor in (AP_ERR_NOT_US, AP_ERR_BADKEYVER, AP_ERR_NOKEY, KT_NOTFOUND, KT_KVNONOTFOUND):
        return NoKeyError
    return KrbapError


def signed(minor: int) -> int:
    """A minor status (uint32 in C) as MIT's signed com_err code."""
    minor &= 0xFFFFFFFF
    return minor - (1 << 32) if minor & 0x80000000 else minor


def make_error(major: int, minor_u32: int, operation: str, token: bytes = b"") -> KrbapError:
    """The exception for a failed call. Must run on the failing thread, before any other
    krbap call: the detail of the message is this thread's record of the last failure."""
    minor = signed(minor_u32)
    if minor != 0:
        message = display_status(minor, mech=True)
    else:
        message = display_status(major & ~SUPPLEMENTARY_MASK or major, mech=False)
    cls = error_class(major, minor)
    return cls(major, minor, message, minor_name(minor), operation, token)


def check(major: int, minor: c_uint32, operation: str) -> int:
    """Raises for an error status; returns the major status (with its supplementary bits)."""
    if is_error(major):
        raise make_error(major, minor.value, operation)
    return major
