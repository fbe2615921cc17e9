"""HTTP Negotiate (RFC 4559) for ``requests`` with krbap's initiator (needs ``requests``,
which this package does not depend on).

    import requests
    from krbap.requests_auth import HTTPNegotiateAuth
    r = requests.get("https://server.example/", auth=HTTPNegotiateAuth())

On a ``401`` offering Negotiate, a context toward ``HTTP@<host>`` (``service`` and the
URL's host) is made from the default ccache (or ``credential``) and the request is sent
again with ``Authorization: Negotiate <token>`` (SPNEGO by default, ``mech=Mech.KRB5`` for a
raw Kerberos token); a ``401`` carrying a continuation token is answered, up to
``MAX_LEGS`` requests. With mutual authentication (the default) the acceptor's token on the
final response is verified: a response without one raises
:class:`krbap.http.MutualAuthenticationError`, a token that does not verify the
:class:`krbap.KrbapError` of the failure (so does a SPNEGO reject on a 401).
``opportunistic=True`` sends the token with the first request (saves a round trip when the
server is known to want Negotiate).
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlparse

import requests
from requests.auth import AuthBase

from .context import InitiatorContext
from .http import (
    MAX_LEGS,
    MutualAuthenticationError,
    NegotiateClient,
    authorization,
    negotiate_token,
    offers_negotiate,
)


class HTTPNegotiateAuth(NegotiateClient, AuthBase):
    """Options: :class:`krbap.http.NegotiateClient`. ``context``: the initiator context of
    the last authentication (its ``complete`` tells whether the server was verified),
    closed when the next one starts. Like a ``requests.Session``, an instance serves one
    thread at a time (give each thread its own)."""

    context: Optional[InitiatorContext] = None
    _sent: Optional[str] = None  # the Authorization value this object sent last

    def _start(self, url: str) -> str:
        if self.context is not None:
            self.context.close()
        self.context = None
        self.context = self.new_context(urlparse(url).hostname)
        self._sent = authorization(self.context.step())
        return self._sent

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.opportunistic:
            r.headers["Authorization"] = self._start(str(r.url))
        r.register_hook("response", self._response)  # type: ignore[no-untyped-call]
        return r

    def _next_header(self, response: requests.Response) -> Optional[str]:
        """The Authorization value answering a 401 that offers Negotiate, or None."""
        challenges = _fields(response, "www-authenticate")
        if not offers_negotiate(challenges):
            return None
        sent = response.request.headers.get("Authorization")
        ctx = self.context
        if sent is None or ctx is None or sent != self._sent:
            if sent is not None:
                return None  # another authentication's header: not ours to replace
            return self._start(str(response.request.url))
        token = negotiate_token(challenges)
        if token is None or ctx.complete:
            return None  # refused
        out = ctx.step(token)  # a reject or KRB-ERROR raises its reason
        if not out:
            return None
        self._sent = authorization(out)
        return self._sent

    def _response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        for _ in range(MAX_LEGS):
            if response.status_code != 401:
                break
            header = self._next_header(response)
            if header is None:
                break
            response.content  # noqa: B018 - drain the body so the connection can be reused
            response.raw.release_conn()
            retry = response.request.copy()
            retry.headers["Authorization"] = header
            new = response.connection.send(retry, **kwargs)
            new.history.append(response)
            new.request = retry
            response = new
        self._verify(response)
        return response

    def _verify(self, response: requests.Response) -> None:
        ctx = self.context
        if ctx is None or ctx.complete or response.status_code == 401:
            return
        if response.request.headers.get("Authorization") != self._sent:
            return
        token = negotiate_token(_fields(response, "www-authenticate"))
        if token is None:
            if self.mutual:
                raise MutualAuthenticationError(
                    f"{response.url}: no Negotiate token on the response to verify the server"
                )
            return
        ctx.step(token)


def _fields(response: requests.Response, name: str) -> list[str]:
    raw = getattr(response.raw, "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        return [str(v) for v in raw.getlist(name)]
    value = response.headers.get(name)
    return [] if value is None else [value]
