"""An ASGI middleware for HTTP Negotiate (RFC 4559) with krbap.

    from krbap import AcceptorCredential
    from krbap.asgi import NegotiateMiddleware
    app = NegotiateMiddleware(app, AcceptorCredential("FILE:/etc/http.keytab"))

HTTP requests without (valid) Negotiate credentials get ``401 Unauthorized`` with
``WWW-Authenticate: Negotiate`` (the reason is logged to ``krbap.http``), a malformed
``Authorization`` header ``400 Bad Request`` naming what is wrong; authenticated ones
reach the application with ``scope["krbap.client_name"]`` (and ``scope["remote_user"]``)
set to the client's principal and ``scope["krbap.context"]`` the accepted context; the
response carries the acceptor's ``WWW-Authenticate: Negotiate <token>`` (mutual
authentication). A multi-leg SPNEGO exchange is kept per connection (``scope["client"]``)
in :class:`krbap.http.PendingContexts`. Other scopes (lifespan,
websocket) pass through untouched. An accept takes some microseconds of CPU with the
memory replay cache (or none), so it then runs on the event loop; with a cache that does I/O
(``file2:``, ``redis:``) it runs in a worker thread (the GIL is released during the call), so
a slow disk or Redis never stalls the loop. ``offload=True/False`` overrides that choice.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional

from .cred import AcceptorCredential
from .http import PendingContexts, log, negotiate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _authorization(scope: Scope) -> Optional[str]:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            return bytes(value).decode("latin-1")
    return None


class NegotiateMiddleware:
    """Requires Kerberos (Negotiate) authentication for every HTTP request to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        credential: AcceptorCredential,
        *,
        pending: Optional[PendingContexts] = None,
        offload: Optional[bool] = None,
    ) -> None:
        if not isinstance(credential, AcceptorCredential):
            raise TypeError("credential must be a krbap.AcceptorCredential")
        self.app = app
        self.credential = credential
        self.pending = PendingContexts() if pending is None else pending
        if offload is None:
            offload = not credential.replay_cache_name.startswith(("memory:", "none:"))
        self.offload = offload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        decide = functools.partial(
            negotiate,
            self.credential,
            _authorization(scope),
            pending=self.pending,
            connection=tuple(client) if client else None,
        )
        outcome = await asyncio.to_thread(decide) if self.offload else decide()
        if outcome.context is None:
            host = client[0] if client else None
            path = scope.get("path")
            log.info("%d for %s from %s: %s", outcome.status, path, host, outcome.reason)
            if outcome.status == 400:
                body = f"400 Bad Request: {outcome.reason}\n".encode()
                headers = []
            else:
                body = b"401 Unauthorized: Negotiate authentication required\n"
                headers = [(b"www-authenticate", (outcome.header or "Negotiate").encode())]
            await send(
                {
                    "type": "http.response.start",
                    "status": outcome.status,
                    "headers": [
                        *headers,
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        ctx = outcome.context
        scope["krbap.client_name"] = ctx.client_name
        scope["remote_user"] = ctx.client_name
        scope["krbap.context"] = ctx
        header = outcome.header

        async def send_with_header(message: Message) -> None:
            if message.get("type") == "http.response.start" and header is not None:
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", []),
                    (b"www-authenticate", header.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            ctx.close()
