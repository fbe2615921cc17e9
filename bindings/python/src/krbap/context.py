"""Security contexts (RFC 2744 gss_init_sec_context / gss_accept_sec_context) and their
per-message protection (RFC 4121 Wrap and MIC tokens, gss_wrap/unwrap/get_mic/verify_mic).

A context is used by one thread at a time in C; here every call holds the context's lock,
so threads that share a context are serialized rather than racing.
"""

from __future__ import annotations

import enum
from ctypes import byref, c_int32, c_int64, c_size_t, c_uint32, c_void_p
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar, Union

from . import _ffi
from . import status as _status
from .cred import AcceptorCredential, Enctype, InitiatorCredential
from .name import Name, NameType, take_name
from .pac import Pac
from .pac import from_context as pac_from_context
from .status import KrbapError, ReplayError, make_error


class Flags(enum.IntFlag):
    """Context flags (RFC 2744 GSS_C_*_FLAG, the KRBAP_C_*_FLAG values)."""

    DELEG = 1
    MUTUAL = 2
    REPLAY = 4
    SEQUENCE = 8
    CONF = 16
    INTEG = 32
    ANON = 64
    PROT_READY = 128
    TRANS = 256


class Mech(enum.IntEnum):
    """A context's mechanism (KRBAP_MECH_*): raw Kerberos 5 (RFC 4121) or SPNEGO (RFC 4178)
    negotiating it, as browsers, curl --negotiate and Windows send."""

    KRB5 = 1
    SPNEGO = 2


class Supplementary(enum.IntFlag):
    """Supplementary status of an unwrapped or verified token (RFC 2743 §1.2.3): the token
    was valid, but arrived out of order. A duplicate raises :class:`ReplayError` instead."""

    OLD_TOKEN = _status.OLD_TOKEN
    UNSEQ_TOKEN = _status.UNSEQ_TOKEN
    GAP_TOKEN = _status.GAP_TOKEN


@dataclass(frozen=True)
class ChannelBindings:
    """Channel bindings (RFC 2744 gss_channel_bindings_struct); for TLS, usually only
    ``application_data`` = b"tls-server-end-point:" + the certificate hash (RFC 5929)."""

    application_data: bytes = b""
    initiator_addrtype: int = 0
    initiator_address: bytes = b""
    acceptor_addrtype: int = 0
    acceptor_address: bytes = b""

    def _to_c(self) -> _ffi.krbap_channel_bindings:
        cb = _ffi.krbap_channel_bindings()
        for field in ("initiator_addrtype", "acceptor_addrtype"):
            v = getattr(self, field)
            if not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
                raise ValueError(f"{field} must be an int in 0..2**32-1")
            setattr(cb, field, v)
        for field in ("initiator_address", "acceptor_address", "application_data"):
            data = _ffi.as_bytes(getattr(self, field), field)
            setattr(cb, field, _ffi.in_buffer(data))
        return cb


def _bindings(cb: Optional[ChannelBindings]) -> Optional[_ffi.krbap_channel_bindings]:
    if cb is None:
        return None
    if not isinstance(cb, ChannelBindings):
        raise TypeError("channel_bindings must be a krbap.ChannelBindings")
    return cb._to_c()


@dataclass(frozen=True)
class AuthorizationElement:
    """One authorization-data element of an accepted context (AD-IF-RELEVANT unwrapped)."""

    ad_type: int
    data: bytes
    from_ticket: bool
    """True: from the ticket (the KDC put it there); False: from the authenticator."""


@dataclass(frozen=True)
class Unwrapped:
    """The result of :meth:`SecurityContext.unwrap`."""

    message: bytes
    confidential: bool
    supplementary: Supplementary


_T = TypeVar("_T", bound="SecurityContext")


class SecurityContext:
    """What initiator and acceptor contexts share: inquiry, Wrap/MIC, close()."""

    __slots__ = ("_complete", "_flags", "_h", "_initiator_name", "_target_name")

    def __init__(self) -> None:
        self._h = _ffi.ExclusiveHandle()
        self._flags = 0
        self._complete = False
        self._initiator_name: Optional[str] = None
        self._target_name: Optional[str] = None

    # Every C call goes through _call: the lock, the closed check, the status check.
    def _call(self, what: str, fn: Callable[..., int], *args: object) -> int:
        minor = c_uint32()
        with self._h.lock:
            if self._h.closed:
                raise ValueError("context is closed")
            if not self._h.ptr:
                raise ValueError("context is not established")
            major: int = fn(minor, self._h.ptr, *args)
            if major & _ERROR_MASK:
                raise make_error(major, minor.value, what)
        return major

    @property
    def complete(self) -> bool:
        """True once the context is established."""
        return self._complete

    @property
    def flags(self) -> Flags:
        """The context's flags (RFC 2744 ret_flags)."""
        return Flags(self._flags)

    @property
    def closed(self) -> bool:
        return self._h.closed

    def _inquire_name(self, source: bool) -> Optional[str]:
        name = c_void_p()
        if source:
            self._call("inquire_context", _inquire_context, name, None, None, None, None, None)
        else:
            self._call("inquire_context", _inquire_context, None, name, None, None, None, None)
        return take_name(name) if name else None

    @property
    def initiator_name(self) -> Optional[str]:
        """The initiator (client) principal, ``comp@REALM``."""
        if self._initiator_name is None:
            self._initiator_name = self._inquire_name(True)
        return self._initiator_name

    @property
    def target_name(self) -> Optional[str]:
        """The acceptor (service) principal."""
        if self._target_name is None:
            self._target_name = self._inquire_name(False)
        return self._target_name

    @property
    def lifetime(self) -> int:
        """Seconds the context remains valid (the ticket's end); raises ExpiredError after."""
        t = c_uint32()
        self._call("context_time", _ffi.lib.krbap_context_time, byref(t))
        return t.value

    @property
    def session_enctype(self) -> Union[Enctype, int]:
        """The session key's enctype (e.g. Enctype.AES256_CTS_HMAC_SHA1_96)."""
        e = c_int32()
        self._call("inquire_session", _ffi.lib.krbap_inquire_session, byref(e), None)
        try:
            return Enctype(e.value)
        except ValueError:
            return e.value

    @property
    def ticket_end_time(self) -> int:
        """The ticket's end time, Unix seconds."""
        t = c_int64()
        self._call("inquire_session", _ffi.lib.krbap_inquire_session, None, byref(t))
        return t.value

    @property
    def mech(self) -> Mech:
        """The mechanism: the initiator's choice; for an acceptor, what the first token was
        framed for. Wrap/MIC and the inquiries use the (negotiated) Kerberos 5 context."""
        fn = _ffi.optional("krbap_inquire_mech")
        if fn is None:
            return Mech.KRB5  # a library without SPNEGO
        m = c_int32()
        self._call("inquire_mech", fn, byref(m))
        return Mech(m.value)

    def set_time(self, unix_time: int) -> None:
        """Fixes this context's clock at ``unix_time`` (0: the system clock again)."""
        if not isinstance(unix_time, int) or isinstance(unix_time, bool):
            raise TypeError("set_time takes an int")
        if not -(1 << 63) <= unix_time < 1 << 63:
            raise ValueError(f"set_time: {unix_time} is out of range")
        self._call("ctx_set_time", _ffi.lib.krbap_ctx_set_time, c_int64(unix_time))

    # --- per-message protection (RFC 4121 §4.2) ------------------------------------------

    def wrap(self, message: _ffi.Bytes, confidential: bool = True) -> bytes:
        """A Wrap token carrying ``message``, encrypted when ``confidential``."""
        data = _ffi.as_bytes(message, "message")
        out = _ffi.krbap_buffer()
        conf = c_int32()
        self._call(
            "wrap",
            _ffi.lib.krbap_wrap,
            c_int32(1 if confidential else 0),
            0,
            byref(_ffi.in_buffer(data)),
            byref(conf),
            byref(out),
        )
        return _ffi.take(out)

    def unwrap(self, token: _ffi.Bytes) -> Unwrapped:
        """The message of a Wrap token. A replayed token raises ReplayError; one out of
        order is returned with its ``supplementary`` flags set."""
        data = _ffi.as_bytes(token, "token")
        out = _ffi.krbap_buffer()
        conf = c_int32()
        qop = c_uint32()
        major = self._call(
            "unwrap",
            _ffi.lib.krbap_unwrap,
            byref(_ffi.in_buffer(data)),
            byref(out),
            byref(conf),
            byref(qop),
        )
        message = _ffi.take(out)
        self._refuse_duplicate(major, "unwrap")
        return Unwrapped(message, bool(conf.value), Supplementary(major & _SUPP))

    def get_mic(self, message: _ffi.Bytes) -> bytes:
        """A MIC token over ``message``."""
        data = _ffi.as_bytes(message, "message")
        out = _ffi.krbap_buffer()
        self._call("get_mic", _ffi.lib.krbap_get_mic, 0, byref(_ffi.in_buffer(data)), byref(out))
        return _ffi.take(out)

    def verify_mic(self, message: _ffi.Bytes, mic: _ffi.Bytes) -> Supplementary:
        """Checks a MIC token over ``message``: raises BadIntegrityError when it does not
        match, ReplayError for a duplicate; returns the supplementary flags (usually 0)."""
        data = _ffi.as_bytes(message, "message")
        token = _ffi.as_bytes(mic, "mic")
        qop = c_uint32()
        major = self._call(
            "verify_mic",
            _ffi.lib.krbap_verify_mic,
            byref(_ffi.in_buffer(data)),
            byref(_ffi.in_buffer(token)),
            byref(qop),
        )
        self._refuse_duplicate(major, "verify_mic")
        return Supplementary(major & _SUPP)

    def wrap_size_limit(self, output_size: int, confidential: bool = True) -> int:
        """The largest message whose Wrap token fits in ``output_size`` bytes."""
        if not isinstance(output_size, int) or not 0 <= output_size <= 0xFFFFFFFF:
            raise ValueError("output_size must be an int in 0..2**32-1")
        n = c_uint32()
        self._call(
            "wrap_size_limit",
            _ffi.lib.krbap_wrap_size_limit,
            c_int32(1 if confidential else 0),
            0,
            output_size,
            byref(n),
        )
        return n.value

    @staticmethod
    def _refuse_duplicate(major: int, what: str) -> None:
        if major & _status.DUPLICATE_TOKEN:
            raise ReplayError(major, 0, "The token was a duplicate of an earlier token", None, what)

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Deletes the context (its session keys are wiped). Idempotent. A context that is
        not closed is deleted when it is garbage."""
        self._h.close()

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SUPP = _status.OLD_TOKEN | _status.UNSEQ_TOKEN | _status.GAP_TOKEN
_ERROR_MASK = _status.CALLING_ERROR_MASK | _status.ROUTINE_ERROR_MASK
_accept_sec_context = _ffi.lib.krbap_accept_sec_context
_inquire_context = _ffi.lib.krbap_inquire_context
_in_buffer = _ffi.krbap_in_buffer
_out_buffer = _ffi.krbap_buffer
_take = _ffi.take


class AcceptorContext(SecurityContext):
    """A context accepted by :meth:`AcceptorCredential.accept`."""

    __slots__ = ("_cred", "_delegated", "_output_token")

    _output_token: bytes
    _delegated: Optional[InitiatorCredential]
    _cred: AcceptorCredential

    @classmethod
    def _accept(
        cls,
        cred: AcceptorCredential,
        token: _ffi.Bytes,
        channel_bindings: Optional[ChannelBindings],
    ) -> AcceptorContext:
        # The hot path of a server: kept short (no finalizer object, ctypes passes the
        # outputs by reference itself).
        self = cls.__new__(cls)
        self._h = _ffi.ExclusiveHandle()
        self._flags = 0
        self._complete = False
        self._initiator_name = None
        self._target_name = None
        self._cred = cred
        self._delegated = None
        self._output_token = b""
        self.step(token, channel_bindings=channel_bindings)
        return self

    def step(
        self, token: _ffi.Bytes, *, channel_bindings: Optional[ChannelBindings] = None
    ) -> bytes:
        """Processes the initiator's next token; returns the token to send back (b"" when
        there is none). One step completes a Kerberos context."""
        data = (
            token
            if type(token) is bytes and len(token) <= _ffi.MAX_BUFFER
            else _ffi.as_bytes(token, "token")
        )
        cb = _bindings(channel_bindings) if channel_bindings is not None else None
        out = _out_buffer()
        flags = c_uint32()
        deleg = c_void_p()
        minor = c_uint32()
        h = self._h
        cred_handle = self._cred._handle
        cred_ptr = cred_handle.acquire("credential")
        try:
            with h.lock:
                if h.closed:
                    raise ValueError("context is closed")
                if self._complete:
                    raise ValueError("context is already established")
                major = _accept_sec_context(
                    minor,
                    h.ptr,
                    cred_ptr,
                    _in_buffer(len(data), data),
                    cb,
                    None,
                    flags,
                    None,
                    out,
                    deleg,
                )
                if major & _ERROR_MASK:
                    raise make_error(major, minor.value, "accept_sec_context", _take(out))
        finally:
            cred_handle.release()
        self._output_token = _take(out)
        self._flags = flags.value
        if deleg:
            self._delegated = InitiatorCredential._adopt_delegated(deleg)
        self._complete = not major & _status.CONTINUE_NEEDED
        return self._output_token

    @property
    def output_token(self) -> bytes:
        """The token for the initiator: the AP-REP (mutual authentication), else b""."""
        return self._output_token

    @property
    def client_name(self) -> str:
        """The authenticated client, ``user@REALM``."""
        name = self.initiator_name
        if name is None:
            raise ValueError("context is not established")
        return name

    @property
    def delegated_credential(self) -> Optional[InitiatorCredential]:
        """The client's forwarded TGT when it delegated (Flags.DELEG), else None."""
        return self._delegated

    @property
    def authorization_data(self) -> list[AuthorizationElement]:
        """The authorization data of the ticket and the authenticator."""
        count = c_size_t()
        self._call("inquire_authz_count", _ffi.lib.krbap_inquire_authz_count, byref(count))
        out = []
        for i in range(count.value):
            ad_type = c_int32()
            from_ticket = c_int32()
            buf = _ffi.krbap_buffer()
            self._call(
                "inquire_authz_element",
                _ffi.lib.krbap_inquire_authz_element,
                i,
                byref(ad_type),
                byref(from_ticket),
                byref(buf),
            )
            out.append(AuthorizationElement(ad_type.value, _ffi.take(buf), bool(from_ticket.value)))
        return out

    @property
    def pac_data(self) -> Optional[bytes]:
        """The ticket's raw AD-WIN2K-PAC (Active Directory), None when there is none."""
        buf = _ffi.krbap_buffer()
        try:
            self._call("inquire_pac", _ffi.lib.krbap_inquire_pac, byref(buf))
        except KrbapError as e:
            if e.major & _status.ROUTINE_ERROR_MASK == _status.UNAVAILABLE:
                return None
            raise
        return _ffi.take(buf)

    @property
    def pac(self) -> Optional[Pac]:
        """The ticket's PAC, typed (user and group SIDs, names, UPN, domain, times, raw
        buffers, what was verified); None when the ticket carried none. A new
        :class:`~krbap.pac.Pac` per read: it outlives the context; close it when done."""
        with self._h.lock:
            if self._h.closed:
                raise ValueError("context is closed")
            if not self._h.ptr or not self._complete:
                raise ValueError("context is not established")
            return pac_from_context(self._h.ptr)


class InitiatorContext(SecurityContext):
    """A client's context toward ``target``: call :meth:`step` with no token for the
    first token, then with each token of the acceptor, until :attr:`complete`.

    ``target``: a host-based name ``service@host`` (a ``str``), or a :class:`Name`.
    ``credential``: an :class:`InitiatorCredential` (None: the default ccache). ``flags``:
    the requested :class:`Flags` (MUTUAL for the AP-REP; DELEG to forward the TGT).
    ``mech``: :attr:`Mech.KRB5` (a raw Kerberos token) or :attr:`Mech.SPNEGO` (wrapped for
    HTTP Negotiate and Windows; the acceptor's answer is always awaited). Send every
    non-empty token ``step`` returns, also the one that comes with completion.
    """

    __slots__ = ("_cb", "_cred", "_mech", "_req_flags", "_started", "_target")

    def __init__(
        self,
        target: Union[str, Name],
        *,
        credential: Optional[InitiatorCredential] = None,
        flags: Union[Flags, int] = Flags.MUTUAL
        | Flags.SEQUENCE
        | Flags.REPLAY
        | Flags.CONF
        | Flags.INTEG,
        channel_bindings: Optional[ChannelBindings] = None,
        mech: Union[Mech, int] = Mech.KRB5,
    ) -> None:
        if isinstance(target, str):
            target = Name(target, NameType.HOSTBASED_SERVICE)
        elif not isinstance(target, Name):
            raise TypeError("target must be a str (service@host) or a krbap.Name")
        if credential is not None and not isinstance(credential, InitiatorCredential):
            raise TypeError("credential must be an InitiatorCredential")
        if not isinstance(flags, int) or not 0 <= flags <= 0xFFFFFFFF:
            raise TypeError("flags must be krbap.Flags")
        if not isinstance(mech, int) or isinstance(mech, bool):
            raise TypeError("mech must be a krbap.Mech")
        if mech != Mech.KRB5 and _ffi.optional("krbap_init_sec_context_mech") is None:
            raise NotImplementedError(f"{_ffi.library_path} has no SPNEGO (a newer libkrbap)")
        super().__init__()
        self._mech = int(mech)
        self._target = target
        self._cred = credential
        self._req_flags = int(flags)
        self._cb = _bindings(channel_bindings)
        self._started = False

    def step(self, token: Optional[_ffi.Bytes] = None) -> bytes:
        """The next token for the acceptor (b"" when there is none). First call: no token,
        returns the initial token (the AP-REQ). Then: the acceptor's reply."""
        if self._started and token is None:
            raise ValueError("step() needs the acceptor's token after the first call")
        if not self._started and token is not None:
            raise ValueError("the first step() takes no token")
        data = None if token is None else _ffi.as_bytes(token, "token")
        out = _ffi.krbap_buffer()
        ret_flags = c_uint32()
        minor = c_uint32()
        cred_ptr = self._cred._acquire() if self._cred is not None else None
        target_ptr = self._target._acquire()
        try:
            with self._h.lock:
                if self._h.closed:
                    raise ValueError("context is closed")
                if self._complete:
                    raise ValueError("context is already established")
                init_mech = _ffi.optional("krbap_init_sec_context_mech")
                if init_mech is not None:
                    major = init_mech(
                        byref(minor),
                        cred_ptr,
                        byref(self._h.ptr),
                        target_ptr,
                        self._mech,
                        self._req_flags,
                        byref(self._cb) if self._cb is not None else None,
                        byref(_ffi.in_buffer(data)) if data is not None else None,
                        byref(ret_flags),
                        None,
                        byref(out),
                    )
                else:
                    major = _ffi.lib.krbap_init_sec_context(
                        byref(minor),
                        cred_ptr,
                        byref(self._h.ptr),
                        target_ptr,
                        self._req_flags,
                        byref(self._cb) if self._cb is not None else None,
                        byref(_ffi.in_buffer(data)) if data is not None else None,
                        byref(ret_flags),
                        None,
                        byref(out),
                    )
                self._started = True
                if _status.is_error(major):
                    # The library deleted the context; this object is spent. With SPNEGO the
                    # error carries a reject for the acceptor (sending it is optional).
                    self._h.closed = True
                    raise make_error(major, minor.value, "init_sec_context", _ffi.take(out))
        finally:
            self._target._release()
            if self._cred is not None:
                self._cred._release()
        self._flags = ret_flags.value
        self._complete = not major & _status.CONTINUE_NEEDED
        return _ffi.take(out)
