"""HTTP Negotiate (RFC 4559) for ``httpx`` with krbap's initiator (needs ``httpx``, which
this package does not depend on). Works with ``httpx.Client`` and ``httpx.AsyncClient``
(the initiator's call may reach the KDC for a service ticket: it blocks briefly).

    import httpx
    from krbap.httpx_auth import HTTPNegotiateAuth
    r = httpx.get("https://server.example/", auth=HTTPNegotiateAuth())

Behaviour as :class:`krbap.requests_auth.HTTPNegotiateAuth`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Optional

import httpx

from .context import InitiatorContext
from .http import (
    MAX_LEGS,
    MutualAuthenticationError,
    NegotiateClient,
    authorization,
    negotiate_token,
    offers_negotiate,
)


class HTTPNegotiateAuth(NegotiateClient, httpx.Auth):
    """Options: :class:`krbap.http.NegotiateClient`."""

    verified: Optional[bool] = None
    """After a response: whether the server's final token completed the context (None:
    no Negotiate authentication took place); with concurrent requests, the last
    response's. Each request has its own context, so one instance may serve them all."""

    def _context(self, request: httpx.Request) -> InitiatorContext:
        return self.new_context(request.url.host)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        ctx: Optional[InitiatorContext] = None
        self.verified = None
        try:
            if self.opportunistic:
                ctx = self._context(request)
                request.headers["Authorization"] = authorization(ctx.step())
            response = yield request
            for _ in range(MAX_LEGS):
                if response.status_code != 401:
                    break
                challenges = response.headers.get_list("www-authenticate")
                if not offers_negotiate(challenges):
                    break
                if ctx is None:
                    ctx = self._context(request)
                    out = ctx.step()
                else:
                    token = negotiate_token(challenges)
                    if token is None or ctx.complete:
                        break  # refused
                    out = ctx.step(token)  # a reject or KRB-ERROR raises its reason
                    if not out:
                        break
                request.headers["Authorization"] = authorization(out)
                response = yield request
            if ctx is None or response.status_code == 401:
                return
            if not ctx.complete:
                token = negotiate_token(response.headers.get_list("www-authenticate"))
                if token is None:
                    if self.mutual:
                        raise MutualAuthenticationError(
                            f"{request.url}: no Negotiate token on the response to verify "
                            "the server"
                        )
                else:
                    ctx.step(token)
            self.verified = ctx.complete
        finally:
            if ctx is not None:
                ctx.close()
