"""A WSGI middleware for HTTP Negotiate (RFC 4559) with krbap.

    from krbap import AcceptorCredential
    from krbap.wsgi import NegotiateMiddleware
    app = NegotiateMiddleware(app, AcceptorCredential("FILE:/etc/http.keytab"))

A request without (valid) Negotiate credentials gets ``401 Unauthorized`` with
``WWW-Authenticate: Negotiate`` (the reason is logged to ``krbap.http``, not sent to the
client), a malformed ``Authorization`` header ``400 Bad Request`` naming what is wrong; an
authenticated one reaches the application with ``REMOTE_USER`` (and ``krbap.client_name``)
set to the client's principal and ``krbap.context`` the accepted context (flags, mechanism,
delegated credential, authorization data, PAC), and its response carries the acceptor's
``WWW-Authenticate: Negotiate <token>`` (mutual authentication). The context is closed when
the response has been sent. A multi-leg SPNEGO exchange is kept per connection
(``REMOTE_ADDR``/``REMOTE_PORT``, which servers with keep-alive provide) in
:class:`krbap.http.PendingContexts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from .cred import AcceptorCredential
from .http import PendingContexts, log, negotiate

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


_STATUS = {400: "400 Bad Request", 401: "401 Unauthorized"}


class NegotiateMiddleware:
    """Requires Kerberos (Negotiate) authentication for every request to ``app``.

    ``credential``: the service's acceptor credential, shared by all requests (and
    threads). ``pending``: where multi-leg exchanges wait (None: a new one).
    """

    def __init__(
        self,
        app: WSGIApp,
        credential: AcceptorCredential,
        *,
        pending: Optional[PendingContexts] = None,
    ) -> None:
        if not isinstance(credential, AcceptorCredential):
            raise TypeError("credential must be a krbap.AcceptorCredential")
        self.app = app
        self.credential = credential
        self.pending = PendingContexts() if pending is None else pending

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        addr, port = environ.get("REMOTE_ADDR"), environ.get("REMOTE_PORT")
        outcome = negotiate(
            self.credential,
            environ.get("HTTP_AUTHORIZATION"),
            pending=self.pending,
            connection=(addr, port) if addr and port else None,
        )
        if outcome.context is None:
            path = environ.get("PATH_INFO", "")
            log.info("%d for %s from %s: %s", outcome.status, path, addr, outcome.reason)
            if outcome.status == 400:
                body = f"400 Bad Request: {outcome.reason}\n".encode()
                headers = []
            else:
                body = b"401 Unauthorized: Negotiate authentication required\n"
                headers = [("WWW-Authenticate", outcome.header or "Negotiate")]
            start_response(
                _STATUS[outcome.status],
                [
                    *headers,
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        ctx = outcome.context
        environ["REMOTE_USER"] = ctx.client_name
        environ["AUTH_TYPE"] = "Negotiate"
        environ["krbap.client_name"] = ctx.client_name
        environ["krbap.context"] = ctx
        header = outcome.header

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if header is not None:
                headers = [*headers, ("WWW-Authenticate", header)]
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        try:
            result = self.app(environ, start)
        except BaseException:
            ctx.close()
            raise
        return _ClosingIterable(result, ctx.close)


class _ClosingIterable:
    """The application's response, closing the context after it (PEP 3333 ``close``)."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._result = result
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        try:
            close: Optional[Callable[[], None]] = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()
