"""The Windows PAC (MS-PAC) of an accepted ticket: ``ctx.pac``, over libkrbap's
``krbap_ctx_get_pac`` / ``krbap_pac_*`` (the decoding and the signature checks are the
library's; this module only names what it returns).

    pac = ctx.pac                      # None when the ticket carried no PAC
    if pac and pac.verified & PacVerified.SERVER_SIGNATURE:
        print(pac.user_sid, pac.upn, [g.sid for g in pac.groups])

A :class:`Pac` is immutable, outlives its context and may be shared between threads;
``close()`` (or a ``with`` block, or the finalizer) releases it. What the accept verifies is
set on the credential (:meth:`AcceptorCredential.set_pac_policy`, ``set_pac_kdc_keytab``).
"""

from __future__ import annotations

import enum
import weakref
from ctypes import byref, c_int32, c_int64, c_size_t, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar, Union

from . import _ffi
from . import status as _status
from .status import KrbapError, check

_P = TypeVar("_P", bound="Pac")


class PacPolicy(enum.IntEnum):
    """What accept does with a ticket's PAC (``krbap_cred_set_pac_policy``)."""

    VERIFY = 0
    """The default: a PAC must verify or the accept fails; a ticket without one passes."""
    REQUIRE = 1
    """Like VERIFY, and a ticket without a PAC fails."""
    ALLOW_UNVERIFIED = 2
    """MIT's behaviour: a PAC that fails verification does not fail the accept
    (:attr:`Pac.verified` is 0 and :attr:`Pac.verification_failure` says why)."""


class PacVerified(enum.IntFlag):
    """The signatures of a PAC verified at accept (``krbap_pac_get_verified``)."""

    SERVER_SIGNATURE = 1  # with the service key, and CLIENT_INFO matched the ticket
    KDC_SIGNATURE = 2  # with the KDC key of set_pac_kdc_keytab
    TICKET_SIGNATURE = 4
    FULL_SIGNATURE = 8


class GroupSource(enum.IntEnum):
    """Where a group SID of LOGON_INFO comes from."""

    GROUP_IDS = 1  # the logon domain's groups
    EXTRA_SIDS = 2  # other domains, well-known SIDs (S-1-18-1 ...)
    RESOURCE_GROUPS = 3  # domain-local groups of the resource domain


class GroupAttributes(enum.IntFlag):
    """SE_GROUP_* (MS-PAC §2.2.1)."""

    MANDATORY = 0x1
    ENABLED_BY_DEFAULT = 0x2
    ENABLED = 0x4
    OWNER = 0x8
    USE_FOR_DENY_ONLY = 0x10
    INTEGRITY = 0x20
    INTEGRITY_ENABLED = 0x40
    RESOURCE = 0x20000000
    LOGON_ID = 0xC0000000


class BufferType(enum.IntEnum):
    """PAC buffer types (MS-PAC §2.4)."""

    LOGON_INFO = 1
    CREDENTIALS_INFO = 2
    SERVER_CHECKSUM = 6
    PRIVSVR_CHECKSUM = 7
    CLIENT_INFO = 10
    CONSTRAINED_DELEGATION = 11
    UPN_DNS_INFO = 12
    CLIENT_CLAIMS_INFO = 13
    DEVICE_INFO = 14
    DEVICE_CLAIMS_INFO = 15
    TICKET_CHECKSUM = 16
    ATTRIBUTES_INFO = 17
    REQUESTOR_SID = 18
    FULL_CHECKSUM = 19


class PacField(enum.IntEnum):
    """The fields ``krbap_pac_get_number`` (1-27; times as FILETIMEs, see
    :meth:`Pac.time`) and ``krbap_pac_get_string`` (101-120) read."""

    LOGON_TIME = 1
    LOGOFF_TIME = 2
    KICK_OFF_TIME = 3
    PASSWORD_LAST_SET = 4
    PASSWORD_CAN_CHANGE = 5
    PASSWORD_MUST_CHANGE = 6
    LOGON_COUNT = 7
    BAD_PASSWORD_COUNT = 8
    USER_ID = 9
    PRIMARY_GROUP_ID = 10
    USER_FLAGS = 11
    RESERVED1_0 = 12
    RESERVED1_1 = 13
    USER_ACCOUNT_CONTROL = 14
    SUB_AUTH_STATUS = 15
    LAST_SUCCESSFUL_ILOGON = 16
    LAST_FAILED_ILOGON = 17
    FAILED_ILOGON_COUNT = 18
    RESERVED3 = 19
    CLIENT_ID = 20
    UPN_FLAGS = 21
    ATTRIBUTES_FLAGS_LENGTH = 22
    ATTRIBUTES_FLAGS = 23
    GROUP_COUNT = 24
    SID_COUNT = 25
    RESOURCE_GROUP_COUNT = 26
    TRANSITED_COUNT = 27
    EFFECTIVE_NAME = 101
    FULL_NAME = 102
    LOGON_SCRIPT = 103
    PROFILE_PATH = 104
    HOME_DIRECTORY = 105
    HOME_DIRECTORY_DRIVE = 106
    LOGON_SERVER = 107
    LOGON_DOMAIN_NAME = 108
    LOGON_DOMAIN_SID = 109
    RESOURCE_GROUP_DOMAIN_SID = 110
    CLIENT_NAME = 111
    UPN = 112
    DNS_DOMAIN = 113
    SAM_NAME = 114
    UPN_SID = 115
    PROXY_TARGET = 116
    REQUESTOR = 117
    USER_SESSION_KEY = 118
    USER_SID = 119
    PRIMARY_GROUP_SID = 120


NEVER = (1 << 63) - 1
"""What :meth:`Pac.time` returns for a FILETIME meaning "never"."""


@dataclass(frozen=True)
class PacGroup:
    sid: str
    attributes: GroupAttributes
    source: GroupSource


@dataclass(frozen=True)
class PacBuffer:
    type: Union[BufferType, int]
    data: bytes


@dataclass(frozen=True)
class PacSignature:
    type: int  # SignatureType: 16 hmac-sha1-96-aes256, 20 hmac-sha384-192-aes256, -138 RC4
    signature: bytes


def _fn(name: str) -> Callable[..., int]:
    fn = _ffi.optional(name)
    if fn is None:
        raise NotImplementedError(
            f"{_ffi.library_path} has no {name}: the PAC needs a newer libkrbap"
        )
    return fn


def _unavailable(e: KrbapError) -> bool:
    return e.major & _status.ROUTINE_ERROR_MASK == _status.UNAVAILABLE


def _enum(cls: type[enum.IntEnum], value: int) -> Union[enum.IntEnum, int]:
    try:
        return cls(value)
    except ValueError:
        return value


class Pac:
    """A PAC: from :attr:`AcceptorContext.pac` (with what the accept verified) or
    :meth:`from_bytes` (nothing verified). Fields absent from the PAC read as None (an MIT
    KDC's PAC has no LOGON_INFO: no SIDs, no groups)."""

    __slots__ = ("__weakref__", "_finalizer", "_handle")

    _handle: _ffi.SharedHandle
    _finalizer: Callable[[], object]

    def __init__(self) -> None:
        raise TypeError("a Pac comes from AcceptorContext.pac or Pac.from_bytes()")

    @classmethod
    def _adopt(cls, ptr: c_void_p) -> Pac:
        self = cls.__new__(cls)
        self._handle = _ffi.SharedHandle(ptr, _fn("krbap_release_pac"))
        self._finalizer = weakref.finalize(self, self._handle.close)
        return self

    @classmethod
    def from_bytes(cls, data: _ffi.Bytes) -> Pac:
        """Parses PAC bytes (e.g. :attr:`AcceptorContext.pac_data`); verifies nothing. A
        malformed PAC raises KrbapError (minor EINVAL, the reason in its message)."""
        raw = _ffi.as_bytes(data, "PAC")
        ptr = c_void_p()
        minor = c_uint32()
        check(
            _fn("krbap_import_pac")(byref(minor), _ffi.in_buffer(raw), byref(ptr)),
            minor,
            "import_pac",
        )
        return cls._adopt(ptr)

    def _call(self, what: str, *args: object) -> bool:
        """Calls krbap_<what>(minor, pac, *args): False for UNAVAILABLE (absent)."""
        fn = _fn(f"krbap_{what}")
        ptr = self._handle.acquire("PAC")
        try:
            minor = c_uint32()
            try:
                check(fn(byref(minor), ptr, *args), minor, what)
            except KrbapError as e:
                if _unavailable(e):
                    return False
                raise
            return True
        finally:
            self._handle.release()

    # --- generic accessors -------------------------------------------------------------

    def number(self, field: PacField) -> Optional[int]:
        """A number field (``PacField.LOGON_TIME`` ... ``TRANSITED_COUNT``; times as raw
        FILETIMEs); None when the PAC lacks its buffer."""
        _check_field(field, 1, 27)
        value = c_uint64()
        return value.value if self._call("pac_get_number", int(field), byref(value)) else None

    def time(self, field: PacField) -> Optional[int]:
        """A FILETIME field as Unix seconds (:data:`NEVER` for "never"); None when absent."""
        _check_field(field, 1, 27)
        value = c_int64()
        return value.value if self._call("pac_get_time", int(field), byref(value)) else None

    def string(self, field: PacField) -> Optional[str]:
        """A string field (``PacField.EFFECTIVE_NAME`` ... ``PRIMARY_GROUP_SID``; SIDs as
        ``S-1-5-21-...``); "" for an empty string, None when its buffer is absent."""
        _check_field(field, 101, 120)
        buf = _ffi.krbap_buffer()
        if not self._call("pac_get_string", int(field), byref(buf)):
            return None
        return _ffi.take(buf).decode("utf-8")

    # --- verification ----------------------------------------------------------------

    def _verified(self) -> tuple[PacVerified, str]:
        bits = c_uint32()
        buf = _ffi.krbap_buffer()
        self._call("pac_get_verified", byref(bits), byref(buf))
        return PacVerified(bits.value), _ffi.take(buf).decode("utf-8", "replace")

    @property
    def verified(self) -> PacVerified:
        """The signatures verified when the context was accepted (0 for an imported PAC, or
        one accepted under PacPolicy.ALLOW_UNVERIFIED that did not verify)."""
        return self._verified()[0]

    @property
    def verification_failure(self) -> str:
        """Why the PAC did not verify (PacPolicy.ALLOW_UNVERIFIED), else ""."""
        return self._verified()[1]

    # --- identity ----------------------------------------------------------------------

    @property
    def user_sid(self) -> Optional[str]:
        return self.string(PacField.USER_SID)

    @property
    def primary_group_sid(self) -> Optional[str]:
        return self.string(PacField.PRIMARY_GROUP_SID)

    @property
    def domain_sid(self) -> Optional[str]:
        return self.string(PacField.LOGON_DOMAIN_SID)

    @property
    def domain(self) -> Optional[str]:
        """The NetBIOS domain name (LOGON_INFO)."""
        return self.string(PacField.LOGON_DOMAIN_NAME)

    @property
    def dns_domain(self) -> Optional[str]:
        return self.string(PacField.DNS_DOMAIN)

    @property
    def upn(self) -> Optional[str]:
        return self.string(PacField.UPN)

    @property
    def effective_name(self) -> Optional[str]:
        return self.string(PacField.EFFECTIVE_NAME)

    @property
    def full_name(self) -> Optional[str]:
        return self.string(PacField.FULL_NAME)

    @property
    def client_name(self) -> Optional[str]:
        """CLIENT_INFO's name (every PAC has one)."""
        return self.string(PacField.CLIENT_NAME)

    @property
    def logon_time(self) -> Optional[int]:
        return self.time(PacField.LOGON_TIME)

    @property
    def password_last_set(self) -> Optional[int]:
        return self.time(PacField.PASSWORD_LAST_SET)

    @property
    def client_id(self) -> Optional[int]:
        """CLIENT_INFO's ClientId (the ticket's authtime) in Unix seconds."""
        return self.time(PacField.CLIENT_ID)

    @property
    def groups(self) -> list[PacGroup]:
        """Every group SID: GroupIds, then ExtraSids, then ResourceGroupIds."""
        count = c_size_t()
        self._call("pac_group_count", byref(count))
        out = []
        for i in range(count.value):
            sid = _ffi.krbap_buffer()
            attributes = c_uint32()
            source = c_uint32()
            if not self._call("pac_get_group", i, byref(sid), byref(attributes), byref(source)):
                break
            out.append(
                PacGroup(
                    _ffi.take(sid).decode("utf-8"),
                    GroupAttributes(attributes.value),
                    GroupSource(source.value),
                )
            )
        return out

    @property
    def transited(self) -> list[str]:
        """The services S4U_DELEGATION_INFO lists as transited (constrained delegation)."""
        count = c_size_t()
        self._call("pac_transited_count", byref(count))
        out = []
        for i in range(count.value):
            buf = _ffi.krbap_buffer()
            if not self._call("pac_get_transited", i, byref(buf)):
                break
            out.append(_ffi.take(buf).decode("utf-8"))
        return out

    @property
    def proxy_target(self) -> Optional[str]:
        return self.string(PacField.PROXY_TARGET)

    # --- raw buffers -------------------------------------------------------------------

    @property
    def buffers(self) -> list[PacBuffer]:
        """Every buffer in PAC order, raw."""
        count = c_size_t()
        self._call("pac_buffer_count", byref(count))
        out = []
        for i in range(count.value):
            kind = c_uint32()
            buf = _ffi.krbap_buffer()
            if not self._call("pac_get_buffer", i, byref(kind), byref(buf)):
                break
            out.append(PacBuffer(_enum(BufferType, kind.value), _ffi.take(buf)))
        return out

    def find_buffer(self, buffer_type: Union[BufferType, int]) -> Optional[bytes]:
        """The raw bytes of the buffer of that type (e.g. CLIENT_CLAIMS_INFO), or None."""
        buf = _ffi.krbap_buffer()
        return (
            _ffi.take(buf) if self._call("pac_find_buffer", _u32(buffer_type), byref(buf)) else None
        )

    def signature(self, buffer_type: Union[BufferType, int]) -> Optional[PacSignature]:
        """A signature buffer (SERVER_CHECKSUM, PRIVSVR_CHECKSUM, TICKET_CHECKSUM,
        FULL_CHECKSUM), or None when absent."""
        kind = c_int32()
        buf = _ffi.krbap_buffer()
        if not self._call("pac_get_signature", _u32(buffer_type), byref(kind), byref(buf)):
            return None
        return PacSignature(kind.value, _ffi.take(buf))

    # --- lifetime ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def close(self) -> None:
        self._finalizer()

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<krbap.Pac closed>"
        return f"<krbap.Pac {self.client_name!r} verified={self.verified!r}>"


def _check_field(field: object, low: int, high: int) -> None:
    if not isinstance(field, int) or isinstance(field, bool):
        raise TypeError("field must be a krbap.PacField")
    if not low <= field <= high:
        raise ValueError(f"field {field} is not in {low}..{high}")


def _u32(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("buffer_type must be a krbap.BufferType (an int)")
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"buffer_type {value} is out of range")
    return value


def from_context(ctx_ptr: c_void_p) -> Optional[Pac]:
    """krbap_ctx_get_pac: None when the ticket carried no PAC."""
    ptr = c_void_p()
    minor = c_uint32()
    major = _fn("krbap_ctx_get_pac")(byref(minor), ctx_ptr, byref(ptr))
    if _status.is_error(major):
        if major & _status.ROUTINE_ERROR_MASK == _status.UNAVAILABLE:
            return None
        raise _status.make_error(major, minor.value, "ctx_get_pac")
    return Pac._adopt(ptr)


__all__ = [
    "NEVER",
    "BufferType",
    "GroupAttributes",
    "GroupSource",
    "Pac",
    "PacBuffer",
    "PacField",
    "PacGroup",
    "PacPolicy",
    "PacSignature",
    "PacVerified",
]
