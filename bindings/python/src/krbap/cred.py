"""Credentials (RFC 2744 gss_acquire_cred, MIT's gss_acquire_cred_from): an acceptor's keys
(keytab or in-memory keys, clock skew, replay cache) and an initiator's tickets (ccache,
client keytab). A credential may be shared by any number of threads."""

from __future__ import annotations

import enum
import os
import weakref
from ctypes import byref, c_int32, c_int64, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Optional, TypeVar, Union

from . import _ffi
from . import status as _status
from .name import Name, NameType, take_name
from .pac import PacPolicy
from .status import KrbapError, check

if TYPE_CHECKING:
    from .context import AcceptorContext, ChannelBindings

PathLike = Union[str, "os.PathLike[str]"]

INDEFINITE = 0xFFFFFFFF
"""The lifetime of an acceptor credential (GSS_C_INDEFINITE)."""


class Usage(enum.IntEnum):
    """``cred_usage`` (KRBAP_C_BOTH / INITIATE / ACCEPT)."""

    BOTH = 0
    INITIATE = 1
    ACCEPT = 2


class Enctype(enum.IntEnum):
    """Kerberos encryption types krbap implements (RFC 3962, RFC 8009)."""

    AES128_CTS_HMAC_SHA1_96 = 17
    AES256_CTS_HMAC_SHA1_96 = 18
    AES128_CTS_HMAC_SHA256_128 = 19
    AES256_CTS_HMAC_SHA384_192 = 20


@dataclass(frozen=True)
class ReplayCacheStats:
    """The counters of an acceptor's memory replay cache (``krbap_cred_replay_cache_stats``)."""

    entries: int
    """Authenticators held (those still replayable within the clock skew, plus the not yet
    dropped rest of the oldest generation)."""
    bytes: int
    """Memory the cache holds (what the cap counts)."""
    max_bytes: int
    stored: int
    """Authenticators stored since the cache was made."""
    replays: int
    """Replays refused."""
    rejected_full: int
    """Authenticators refused because the cache was at its cap."""


def _principal(principal: Union[str, Name, None]) -> Optional[Name]:
    if principal is None or isinstance(principal, Name):
        return principal
    if isinstance(principal, str):
        return Name(principal, NameType.KRB5_PRINCIPAL)
    raise TypeError(f"principal must be a str or a Name, not {type(principal).__name__}")


_C = TypeVar("_C", bound="Credential")


class Credential:
    """What acceptor and initiator credentials share: the handle, ``close()``, the context
    manager and the finalizer (which releases what was not closed)."""

    __slots__ = ("__weakref__", "_finalizer", "_handle")

    _handle: _ffi.SharedHandle

    def _adopt(self, ptr: c_void_p) -> None:
        self._handle = _ffi.SharedHandle(ptr, _ffi.lib.krbap_release_cred)
        self._finalizer = weakref.finalize(self, self._handle.close)

    @classmethod
    def _from_store(
        cls,
        usage: Usage,
        principal: Union[str, Name, None],
        store: Mapping[str, Optional[PathLike]],
        extra: Optional[Mapping[str, str]],
    ) -> tuple[c_void_p, int]:
        elements: list[tuple[bytes, bytes]] = []
        for key, value in store.items():
            if value is not None:
                elements.append((key.encode(), _ffi.c_string(value, key)))
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise TypeError("store must be a mapping of str to str")
            for key, value in extra.items():
                if not isinstance(key, str):
                    raise TypeError("store keys must be str")
                elements.append((_ffi.c_string(key, "store key"), _ffi.c_string(value, key)))
        array = (_ffi.krbap_cred_store_element * max(len(elements), 1))()
        for i, (key_bytes, value_bytes) in enumerate(elements):
            array[i].key = key_bytes
            array[i].value = value_bytes
        name = _principal(principal)
        ptr = c_void_p()
        lifetime = c_uint32()
        minor = c_uint32()
        name_ptr = name._acquire() if name is not None else None
        try:
            major = _ffi.lib.krbap_acquire_cred_from(
                byref(minor),
                name_ptr,
                int(usage),
                array,
                len(elements),
                byref(ptr),
                byref(lifetime),
            )
        finally:
            if name is not None:
                name._release()
        check(major, minor, "acquire_cred")
        return ptr, lifetime.value

    def _acquire(self) -> c_void_p:
        return self._handle.acquire("credential")

    def _release(self) -> None:
        self._handle.release()

    def _inquire(self) -> tuple[Optional[str], int, Usage]:
        ptr = self._acquire()
        try:
            name = c_void_p()
            lifetime = c_uint32()
            usage = c_int32()
            minor = c_uint32()
            major = _ffi.lib.krbap_inquire_cred(
                byref(minor), ptr, byref(name), byref(lifetime), byref(usage)
            )
            check(major, minor, "inquire_cred")
        finally:
            self._release()
        return (take_name(name) if name else None), lifetime.value, Usage(usage.value)

    @property
    def name(self) -> Optional[str]:
        """The credential's principal; None for an acceptor of any principal in its keytab."""
        return self._inquire()[0]

    @property
    def lifetime(self) -> int:
        """Remaining seconds (an initiator's TGT); INDEFINITE (0xffffffff) for an acceptor."""
        return self._inquire()[1]

    @property
    def usage(self) -> Usage:
        return self._inquire()[2]

    def set_time(self, unix_time: int) -> None:
        """Fixes this credential's clock (and its contexts') at ``unix_time``; 0 returns to
        the system clock. For tests and for processing captured tokens."""
        self._call_int(_ffi.lib.krbap_cred_set_time, unix_time, "set_time")

    def _call_int(self, fn: Callable[..., int], value: int, what: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{what} takes an int")
        if not -(1 << 63) <= value < 1 << 63:
            raise ValueError(f"{what}: {value} is out of range")
        ptr = self._acquire()
        try:
            minor = c_uint32()
            check(fn(byref(minor), ptr, c_int64(value)), minor, what)
        finally:
            self._release()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def close(self) -> None:
        """Releases the credential (once no thread is using it). Contexts made from it keep
        working: they hold the keys they need."""
        self._finalizer()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AcceptorCredential(Credential):
    """A service's credential: its keys and its replay cache.

    ``keytab``: a keytab file (``FILE:path`` or a path; None: ``KRB5_KTNAME``, then
    /etc/krb5.keytab). ``principal``: accept only this principal (None: any in the keytab).
    ``replay_cache``: ``memory:`` (default), ``file2:/path`` (MIT's format), ``dfl:``,
    ``none:``. ``clock_skew``: seconds allowed (default 300). ``store``: more
    credential-store elements (MIT's gss_acquire_cred_from keys) passed as they are.
    """

    __slots__ = ()

    def __init__(
        self,
        keytab: Optional[PathLike] = None,
        *,
        principal: Union[str, Name, None] = None,
        replay_cache: Optional[str] = None,
        clock_skew: Optional[int] = None,
        store: Optional[Mapping[str, str]] = None,
    ) -> None:
        ptr, _ = self._from_store(
            Usage.ACCEPT, principal, {"keytab": keytab, "rcache": replay_cache}, store
        )
        self._adopt(ptr)
        if clock_skew is not None:
            self.set_clock_skew(clock_skew)

    @classmethod
    def from_keys(cls, principal: Union[str, Name, None] = None) -> AcceptorCredential:
        """An acceptor with no keys yet, to be given them with :meth:`add_key` (keys held in
        memory rather than read from a keytab)."""
        self = cls.__new__(cls)
        name = _principal(principal)
        ptr = c_void_p()
        minor = c_uint32()
        name_ptr = name._acquire() if name is not None else None
        try:
            major = _ffi.lib.krbap_acquire_acceptor_cred_empty(byref(minor), name_ptr, byref(ptr))
        finally:
            if name is not None:
                name._release()
        check(major, minor, "acquire_acceptor_cred_empty")
        self._adopt(ptr)
        return self

    def add_key(
        self, principal: str, kvno: int, enctype: Union[Enctype, int], key: _ffi.Bytes
    ) -> None:
        """Adds a service key (``comp/comp@REALM``, kvno, enctype number, key bytes) to a
        credential made by :meth:`from_keys`."""
        if not isinstance(principal, str):
            raise TypeError("principal must be a str")
        for what, v in (("kvno", kvno), ("enctype", enctype)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError(f"{what} must be an int")
        if not 0 <= kvno <= 0xFFFFFFFF:
            raise ValueError(f"kvno {kvno} is out of range")
        if not -(1 << 31) <= enctype < 1 << 31:
            raise ValueError(f"enctype {enctype} is out of range")
        data = _ffi.as_bytes(key, "key")
        ptr = self._acquire()
        try:
            minor = c_uint32()
            major = _ffi.lib.krbap_cred_add_key(
                byref(minor),
                ptr,
                _ffi.c_string(principal, "principal"),
                kvno,
                int(enctype),
                data,
                len(data),
            )
            check(major, minor, "cred_add_key")
        finally:
            self._release()

    def set_clock_skew(self, seconds: int) -> None:
        """The largest clock difference allowed between initiator and acceptor (default 300)."""
        self._call_int(_ffi.lib.krbap_cred_set_clock_skew, seconds, "set_clock_skew")

    def set_replay_cache(self, name: Optional[str]) -> None:
        """``memory:``, ``none:``, ``file2:/path``, ``dfl:``; None: what KRB5RCACHENAME /
        KRB5RCACHETYPE say, as MIT does."""
        value = None if name is None else _ffi.c_string(name, "replay cache name")
        ptr = self._acquire()
        try:
            minor = c_uint32()
            check(
                _ffi.lib.krbap_cred_set_replay_cache(byref(minor), ptr, value),
                minor,
                "set_replay_cache",
            )
        finally:
            self._release()

    def set_pac_policy(self, policy: PacPolicy) -> None:
        """What accepts that start afterwards do with a ticket's PAC (default
        PacPolicy.VERIFY: a PAC must verify, a ticket without one passes)."""
        if not isinstance(policy, int) or isinstance(policy, bool):
            raise TypeError("policy must be a krbap.PacPolicy")
        self._set("cred_set_pac_policy", PacPolicy(policy))

    def set_pac_kdc_keytab(self, keytab: Optional[PathLike]) -> None:
        """A keytab with the KDC's key (``krbtgt``): accept then also verifies the PAC's
        KDC, ticket and full signatures. None removes it. For KDC-side and test use: an
        ordinary service has only its own key and verifies the server signature."""
        self._set(
            "cred_set_pac_kdc_keytab",
            None if keytab is None else _ffi.c_string(keytab, "keytab"),
        )

    def set_replay_cache_max_bytes(self, max_bytes: int) -> None:
        """The cap of the memory replay cache (the default ``memory:``) in bytes: at the cap,
        new authenticators are refused (a KrbapError, minor KRB5_RC_MALLOC) until entries
        expire, rather than live entries forgotten. 0 restores the default
        (KRBAP_RCACHE_MAX_BYTES, krb5.conf, else 256 MiB); 2**64 - 1 removes the cap.
        Another kind of replay cache raises KrbapError (GSS_S_UNAVAILABLE)."""
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool):
            raise TypeError("max_bytes must be an int")
        if not 0 <= max_bytes < 1 << 64:
            raise ValueError(f"max_bytes {max_bytes} is out of range")
        self._set("cred_set_replay_cache_max_bytes", c_uint64(max_bytes))

    def replay_cache_stats(self) -> Optional[ReplayCacheStats]:
        """The memory replay cache's counters; None when the replay cache is not a memory
        cache (file2:, none:, ...)."""
        stats = _ffi.krbap_replay_cache_stats()
        try:
            self._set("cred_replay_cache_stats", byref(stats))
        except KrbapError as e:
            if e.major & _status.ROUTINE_ERROR_MASK == _status.UNAVAILABLE:
                return None
            raise
        return ReplayCacheStats(
            stats.entries,
            stats.bytes,
            stats.max_bytes,
            stats.stored,
            stats.replays,
            stats.rejected_full,
        )

    @property
    def replay_cache_name(self) -> str:
        """The replay cache in canonical form (``memory:``, ``file2:/path``, ``redis://...``),
        for logs: a password in a ``redis:`` name reads ``***``."""
        buf = _ffi.krbap_buffer()
        self._set("cred_inquire_replay_cache", byref(buf))
        return _ffi.take(buf).decode("utf-8", "replace")

    def _set(self, what: str, *args: object) -> None:
        fn = _ffi.optional(f"krbap_{what}")
        if fn is None:
            raise NotImplementedError(f"{_ffi.library_path} has no krbap_{what} (a newer libkrbap)")
        ptr = self._acquire()
        try:
            minor = c_uint32()
            check(fn(byref(minor), ptr, *args), minor, what)
        finally:
            self._release()

    def accept(
        self, token: _ffi.Bytes, *, channel_bindings: Optional[ChannelBindings] = None
    ) -> AcceptorContext:
        """Accepts an initiator's token (steps 2-5 of the AP exchange). Returns the context;
        its ``output_token`` (the AP-REP when mutual authentication was asked for) goes back
        to the initiator. A failure raises a :class:`~krbap.KrbapError` whose ``token`` is
        the KRB-ERROR to send back, as MIT does."""
        from .context import AcceptorContext

        return AcceptorContext._accept(self, token, channel_bindings)


class InitiatorCredential(Credential):
    """A client's credential: its FILE ccache and, optionally, a client keytab from which
    initial tickets are obtained when the ccache has none.

    ``ccache``: ``FILE:path`` or a path (None: ``KRB5CCNAME``, then /tmp/krb5cc_UID).
    ``client_keytab``: a keytab with the client's keys (None: ``KRB5_CLIENT_KTNAME``).
    ``principal``: the client (None: the ccache's own). ``store``: more credential-store
    elements, passed as they are.
    """

    __slots__ = ()

    def __init__(
        self,
        ccache: Optional[PathLike] = None,
        *,
        client_keytab: Optional[PathLike] = None,
        principal: Union[str, Name, None] = None,
        store: Optional[Mapping[str, str]] = None,
    ) -> None:
        ptr, _ = self._from_store(
            Usage.INITIATE, principal, {"ccache": ccache, "client_keytab": client_keytab}, store
        )
        self._adopt(ptr)

    @classmethod
    def _adopt_delegated(cls, ptr: c_void_p) -> InitiatorCredential:
        self = cls.__new__(cls)
        self._adopt(ptr)
        return self

    def store(self, ccache: Optional[PathLike] = None) -> None:
        """Writes this credential (a delegated one, from an accepted context) to a FILE
        ccache (None: the default ccache), replacing its contents."""
        location = None if ccache is None else _ffi.c_string(ccache, "ccache")
        ptr = self._acquire()
        try:
            minor = c_uint32()
            check(_ffi.lib.krbap_store_cred(byref(minor), ptr, location), minor, "store_cred")
        finally:
            self._release()
