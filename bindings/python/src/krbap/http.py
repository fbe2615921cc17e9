"""HTTP Negotiate (RFC 4559): the header values, through libkrbap's helpers
(krbap_http_parse_authorization & co.: strict base64, RFC 7235 whitespace, a 64 KiB
token cap), and the server-side decision the WSGI and ASGI middlewares share.

Server: ``Authorization: Negotiate <token>`` is accepted with an acceptor credential; no
or another scheme gets ``401`` with ``WWW-Authenticate: Negotiate``; a failure gets ``401``
too (the reason goes to the server's log, ``krbap.http``, not to the client); success lets
the request through with the client's name, and the acceptor's final token (mutual authentication)
goes back in ``WWW-Authenticate: Negotiate <token>`` on the response.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from ctypes import c_char_p, c_uint32
from dataclasses import dataclass
from typing import Callable, Optional

from . import _ffi
from . import status as _status
from .context import AcceptorContext, ChannelBindings, Flags, InitiatorContext, Mech
from .cred import AcceptorCredential, InitiatorCredential
from .status import KrbapError, make_error

log = logging.getLogger("krbap.http")
"""Where the middlewares log why a request was refused (INFO): the client only gets the
status (a 400's body names what was malformed)."""

MAX_TOKEN = 65536
"""KRBAP_HTTP_MAX_TOKEN: the largest token in a header (decoded bytes)."""


def _fn(name: str) -> Callable[..., int]:
    fn = _ffi.optional(name)
    if fn is None:
        raise NotImplementedError(
            f"{_ffi.library_path} has no {name}: HTTP Negotiate needs a newer libkrbap"
        )
    return fn


def _header_arg(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    try:
        data = value.encode("latin-1")  # RFC 7230 field values are octets; base64 is ASCII
    except UnicodeEncodeError:
        raise ValueError(f"{what} has characters outside ISO-8859-1") from None
    if b"\0" in data:
        raise ValueError(f"{what} contains a NUL character")
    return data


def _check(major: int, minor: c_uint32, what: str) -> None:
    if _status.is_error(major):
        raise make_error(major, minor.value, what)


def parse_authorization(value: str) -> bytes:
    """The GSS token of an ``Authorization: Negotiate <base64>`` value. Another scheme, or
    none, raises KrbapError with major GSS_S_BAD_MECH (answer with a challenge); a missing,
    malformed or oversized token raises DefectiveTokenError."""
    data = _header_arg(value, "header value")
    minor = c_uint32()
    buf = _ffi.krbap_buffer()
    major = _fn("krbap_http_parse_authorization")(minor, c_char_p(data), buf)
    _check(major, minor, "http_parse_authorization")
    return _ffi.take(buf)


def www_authenticate(token: Optional[bytes] = None) -> str:
    """The ``WWW-Authenticate`` value: ``Negotiate`` (the challenge) or ``Negotiate
    <base64>`` (a continuation token, or the final token of mutual authentication)."""
    data = b"" if token is None else _ffi.as_bytes(token, "token")
    minor = c_uint32()
    buf = _ffi.krbap_buffer()
    major = _fn("krbap_http_www_authenticate")(minor, _ffi.in_buffer(data), buf)
    _check(major, minor, "http_www_authenticate")
    return _ffi.take(buf).decode("ascii")


def authorization(token: bytes) -> str:
    """The ``Authorization`` value of a client: ``Negotiate <base64>``."""
    data = _ffi.as_bytes(token, "token")
    minor = c_uint32()
    buf = _ffi.krbap_buffer()
    major = _fn("krbap_http_authorization")(minor, _ffi.in_buffer(data), buf)
    _check(major, minor, "http_authorization")
    return _ffi.take(buf).decode("ascii")


def parse_www_authenticate(value: str) -> Optional[bytes]:
    """The token of the Negotiate challenge in a ``WWW-Authenticate`` value (which may list
    several challenges): None for a bare ``Negotiate``. No Negotiate challenge raises
    KrbapError with GSS_S_BAD_MECH."""
    data = _header_arg(value, "header value")
    minor = c_uint32()
    buf = _ffi.krbap_buffer()
    major = _fn("krbap_http_parse_www_authenticate")(minor, c_char_p(data), buf)
    _check(major, minor, "http_parse_www_authenticate")
    token = _ffi.take(buf)
    return token or None


MAX_LEGS = 4
"""The most requests one client authentication takes (Kerberos through SPNEGO takes one)."""


def initiator_flags(mutual: bool, delegate: bool) -> Flags:
    """The flags of an HTTP client's context."""
    flags = Flags.SEQUENCE | Flags.REPLAY | Flags.CONF | Flags.INTEG
    if mutual:
        flags |= Flags.MUTUAL
    if delegate:
        flags |= Flags.DELEG
    return flags


class NegotiateClient:
    """What the HTTP client integrations (:mod:`krbap.requests_auth`,
    :mod:`krbap.httpx_auth`) take, and the initiator context they make from it: toward
    ``<service>@<host>`` (``hostname`` overrides the URL's host), from the default ccache or
    ``credential``, SPNEGO by default (``mech=Mech.KRB5``: a raw Kerberos token)."""

    def __init__(
        self,
        service: str = "HTTP",
        *,
        credential: Optional[InitiatorCredential] = None,
        mutual: bool = True,
        delegate: bool = False,
        opportunistic: bool = False,
        hostname: Optional[str] = None,
        channel_bindings: Optional[ChannelBindings] = None,
        mech: Mech = Mech.SPNEGO,
    ) -> None:
        self.service = service
        self.credential = credential
        self.mutual = mutual
        self.delegate = delegate
        self.opportunistic = opportunistic
        self.hostname = hostname
        self.channel_bindings = channel_bindings
        self.mech = mech

    def new_context(self, url_host: Optional[str]) -> InitiatorContext:
        host = self.hostname or url_host
        if not host:
            raise ValueError("no host to authenticate to (the URL has none)")
        return InitiatorContext(
            f"{self.service}@{host}",
            credential=self.credential,
            flags=initiator_flags(self.mutual, self.delegate),
            channel_bindings=self.channel_bindings,
            mech=self.mech,
        )


class MutualAuthenticationError(KrbapError):
    """An HTTP client asked for mutual authentication and the server's response did not
    carry the acceptor's token (or the token did not verify)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            _status.FAILURE, _status.AP_ERR_MUT_FAIL, message, "KRB5KRB_AP_ERR_MUT_FAIL", "http"
        )


def negotiate_token(headers: list[str]) -> Optional[bytes]:
    """The Negotiate token of a response's ``WWW-Authenticate`` fields (None: a bare
    challenge, or no Negotiate challenge at all)."""
    for value in headers:
        try:
            token = parse_www_authenticate(value)
        except KrbapError as e:
            if is_not_negotiate(e):
                continue
            raise
        return token
    return None


def offers_negotiate(headers: list[str]) -> bool:
    for value in headers:
        try:
            parse_www_authenticate(value)
            return True
        except KrbapError:
            continue
    return False


def is_not_negotiate(error: KrbapError) -> bool:
    """True for the error of a header that carries another scheme (or none)."""
    return error.major & _status.ROUTINE_ERROR_MASK == _status.BAD_MECH


@dataclass
class Outcome:
    """What the server does with one request: ``context`` set (authenticated: pass the
    request on, add ``header`` to the response when it is not None), or an error response
    ``status`` (401 with ``header`` as its ``WWW-Authenticate``: a challenge, a continuation
    token or SPNEGO's reject; 400 for a malformed Authorization header), ``reason`` for the
    log (and for a 400's body)."""

    context: Optional[AcceptorContext]
    header: Optional[str]
    reason: str = ""
    status: int = 200

    @property
    def authenticated(self) -> bool:
        return self.context is not None


class PendingContexts:
    """Acceptor contexts of multi-leg SPNEGO exchanges (the client listed another mechanism
    first, or sent no optimistic token) waiting for the client's next leg, by connection:
    RFC 4559 §4.2 has the legs on one connection. At most ``max_entries`` (the oldest is
    dropped first), each for ``timeout`` seconds; a connection's new initial token replaces
    its pending context. Thread-safe; one per middleware."""

    def __init__(self, max_entries: int = 1024, timeout: float = 60.0) -> None:
        if max_entries < 1 or timeout <= 0:
            raise ValueError("max_entries and timeout must be positive")
        self.max_entries = max_entries
        self.timeout = timeout
        self._lock = threading.Lock()
        self._by_key: OrderedDict[Hashable, tuple[float, AcceptorContext]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)

    def take(self, key: Hashable) -> Optional[AcceptorContext]:
        """The context waiting on connection ``key`` (removed), or None."""
        with self._lock:
            entry = self._by_key.pop(key, None)
            expired = self._expire()
        for ctx in expired:
            ctx.close()
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            entry[1].close()
            return None
        return entry[1]

    def put(self, key: Hashable, ctx: AcceptorContext) -> None:
        dropped: list[AcceptorContext] = []
        with self._lock:
            old = self._by_key.pop(key, None)
            if old is not None:
                dropped.append(old[1])
            self._by_key[key] = (time.monotonic() + self.timeout, ctx)
            while len(self._by_key) > self.max_entries:
                dropped.append(self._by_key.popitem(last=False)[1][1])
        for old_ctx in dropped:
            old_ctx.close()

    def _expire(self) -> list[AcceptorContext]:
        now = time.monotonic()
        out = []
        while self._by_key:
            key, (deadline, ctx) = next(iter(self._by_key.items()))
            if deadline >= now:
                break
            del self._by_key[key]
            out.append(ctx)
        return out

    def close(self) -> None:
        with self._lock:
            entries = list(self._by_key.values())
            self._by_key.clear()
        for _, ctx in entries:
            ctx.close()


def _continue_or_accept(
    credential: AcceptorCredential,
    waiting: Optional[AcceptorContext],
    token: bytes,
    channel_bindings: Optional[ChannelBindings],
) -> AcceptorContext:
    """The next leg of the connection's waiting context; a token that does not continue it
    (a client that started over on the same connection) is accepted as a new exchange, and
    when that fails too, the first failure is the one reported."""
    if waiting is None:
        return credential.accept(token, channel_bindings=channel_bindings)
    try:
        waiting.step(token, channel_bindings=channel_bindings)
        return waiting
    except KrbapError as first:
        waiting.close()
        try:
            return credential.accept(token, channel_bindings=channel_bindings)
        except KrbapError:
            raise first from None
    except BaseException:
        waiting.close()
        raise


def negotiate(
    credential: AcceptorCredential,
    authorization_value: Optional[str],
    channel_bindings: Optional[ChannelBindings] = None,
    *,
    pending: Optional[PendingContexts] = None,
    connection: Optional[Hashable] = None,
) -> Outcome:
    """The server side of RFC 4559 for one request (the middlewares' common part).
    ``pending`` and ``connection`` (the client's address and port) carry a multi-leg
    SPNEGO exchange from one request to the next on the same connection; without them, an
    exchange that needs a second leg is refused."""
    if authorization_value is None:
        return Outcome(None, "Negotiate", "no Authorization header", 401)
    try:
        token = parse_authorization(authorization_value)
    except KrbapError as e:
        if is_not_negotiate(e):  # Basic, Bearer, ...: offer Negotiate
            return Outcome(None, "Negotiate", f"not a Negotiate Authorization: {e}", 401)
        return Outcome(None, None, f"malformed Authorization header: {e}", 400)
    except ValueError as e:  # not ISO-8859-1, a NUL
        return Outcome(None, None, f"malformed Authorization header: {e}", 400)
    multi_leg = pending is not None and connection is not None
    waiting = pending.take(connection) if multi_leg and pending is not None else None
    try:
        ctx = _continue_or_accept(credential, waiting, token, channel_bindings)
    except KrbapError as e:
        # The acceptor's error token (a KRB-ERROR, SPNEGO's reject) goes back, as MIT's servers do.
        header = www_authenticate(e.token) if e.token else "Negotiate"
        return Outcome(None, header, str(e), 401)
    if not ctx.complete:
        out = ctx.output_token
        if not multi_leg or pending is None:
            ctx.close()
            return Outcome(
                None,
                "Negotiate",
                "SPNEGO needs another leg, and the server has no connection to keep it on",
                401,
            )
        pending.put(connection, ctx)
        return Outcome(None, www_authenticate(out), "SPNEGO continues (multi-leg)", 401)
    final = www_authenticate(ctx.output_token) if ctx.output_token else None
    return Outcome(ctx, final)


__all__ = [
    "MAX_LEGS",
    "MAX_TOKEN",
    "MutualAuthenticationError",
    "NegotiateClient",
    "Outcome",
    "PendingContexts",
    "authorization",
    "initiator_flags",
    "is_not_negotiate",
    "negotiate",
    "negotiate_token",
    "offers_negotiate",
    "parse_authorization",
    "parse_www_authenticate",
    "www_authenticate",
]
