"""HTTP Negotiate (RFC 4559) from Python: krbap's WSGI middleware (a Flask app served by
waitress) and ASGI middleware (a Starlette app served by uvicorn) for HTTP/localhost,
answering curl --negotiate (MIT), requests-gssapi (MIT), requests and httpx with krbap's
auth classes, and multi-leg SPNEGO from a hand-built initiator (tests/interop/http_peers.py);
krbap's auth classes against other acceptors: MIT's (python-gssapi behind a WSGI app) and
examples/krbap-http-server (C); the final token verified (a missing or damaged one
refused); bad headers answered 400/401 with their reason in the log."""

from __future__ import annotations

import asyncio
import base64
import http.client
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional

import gssapi
import httpx
import pytest
import requests
import uvicorn
import waitress.server
from conftest import CLIENT, REPO, krbap_tokens
from flask import Flask, request
from requests_gssapi import REQUIRED, HTTPSPNEGOAuth
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

import krbap
import krbap.asgi
import krbap.wsgi
from krbap import http as khttp
from krbap.httpx_auth import HTTPNegotiateAuth as HttpxAuth
from krbap.requests_auth import HTTPNegotiateAuth as RequestsAuth

PEERS = REPO / "tests/interop/http_peers.py"
# SPNEGO's NegTokenInit listing Kerberos, without an optimistic token: the acceptor answers
# with a continuation, and the context waits for the next leg.
MECH_LIST_ONLY = bytes.fromhex("601b06062b0601050502a011300fa00d300b06092a864886f712010202")


def page(ctx: krbap.AcceptorContext) -> str:
    # The <p id="user"> element of krbap-http-server's page (what http_peers.py reads), and
    # the PAC's CLIENT_INFO name (the realm's MIT KDC issues PACs).
    pac = ctx.pac
    pac_name = "none"
    if pac is not None:
        with pac:
            pac_name = f"{pac.client_name} {pac.verified!r}"
    return (
        "<!DOCTYPE html><html><body>"
        f'<p id="user">{ctx.client_name}</p><p id="mech">{ctx.mech.name}</p>'
        f'<p id="pac">{pac_name}</p></body></html>\n'
    )


@pytest.fixture(scope="session")
def http_cred(http_keytab: str) -> Iterator[krbap.AcceptorCredential]:
    with krbap.AcceptorCredential(http_keytab) as cred:
        yield cred


def flask_app(cred: krbap.AcceptorCredential) -> Any:
    app = Flask("krbap-test")

    @app.route("/")
    def index() -> str:
        assert request.environ["REMOTE_USER"] == request.environ["krbap.client_name"]
        assert request.environ["AUTH_TYPE"] == "Negotiate"
        return page(request.environ["krbap.context"])

    app.wsgi_app = krbap.wsgi.NegotiateMiddleware(app.wsgi_app, cred)  # type: ignore[method-assign]
    return app


def starlette_app(cred: krbap.AcceptorCredential) -> Any:
    async def index(req: Request) -> HTMLResponse:
        assert req.scope["remote_user"] == req.scope["krbap.client_name"]
        return HTMLResponse(page(req.scope["krbap.context"]))

    return krbap.asgi.NegotiateMiddleware(Starlette(routes=[Route("/", index)]), cred)


@contextmanager
def wsgi_server(app: Any) -> Iterator[str]:
    """waitress (keep-alive, REMOTE_PORT: what multi-leg SPNEGO needs) on a free port."""
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.effective_port}/"
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(5)


@contextmanager
def asgi_server(app: Any) -> Iterator[str]:
    """uvicorn on a free port, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://localhost:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


SERVERS: dict[str, Callable[[krbap.AcceptorCredential], Any]] = {
    "flask-wsgi": lambda cred: wsgi_server(flask_app(cred)),
    "starlette-asgi": lambda cred: asgi_server(starlette_app(cred)),
}


@pytest.fixture(scope="module", params=list(SERVERS))
def server_url(
    request: pytest.FixtureRequest, http_cred: krbap.AcceptorCredential
) -> Iterator[str]:
    with SERVERS[request.param](http_cred) as url:
        yield url


def user_and_mech(body: str) -> tuple[str, str]:
    user = body.split('<p id="user">')[1].split("<")[0]
    mech = body.split('<p id="mech">')[1].split("<")[0]
    return user, mech


def final_token(headers: list[str]) -> Optional[bytes]:
    return khttp.negotiate_token(headers)


# --- clients -> the middlewares ----------------------------------------------------------


def test_curl_negotiate(server_url: str, tmp: Path) -> None:
    headers = tmp / "headers"
    done = subprocess.run(
        ["curl", "-sS", "--negotiate", "-u", ":", "-D", str(headers), server_url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert user_and_mech(done.stdout) == (CLIENT, "SPNEGO")
    text = headers.read_bytes().decode()
    blocks = [b.split("\r\n") for b in text.strip().split("\r\n\r\n")]

    def www(block: list[str]) -> list[str]:
        return [ln.split(":", 1)[1].strip() for ln in block if ln.lower().startswith("www-auth")]

    # curl may send its token at once (it knows it will authenticate) or after the 401.
    for block in blocks[:-1]:
        assert block[0].startswith("HTTP/1.1 401") and www(block) == ["Negotiate"]
    assert blocks[-1][0].startswith("HTTP/1.1 200")
    final = www(blocks[-1])  # the acceptor's token: curl's GSS-API checks it
    assert len(final) == 1 and final[0].startswith("Negotiate ") and len(final[0]) > 30


@pytest.mark.parametrize("mutual", [True, False], ids=["mutual", "nomutual"])
@pytest.mark.parametrize("mech", [krbap.Mech.SPNEGO, krbap.Mech.KRB5], ids=["spnego", "krb5"])
def test_requests_with_krbap_auth(server_url: str, mech: krbap.Mech, mutual: bool) -> None:
    auth = RequestsAuth(mech=mech, mutual=mutual)
    with requests.Session() as s:
        r = s.get(server_url, auth=auth, timeout=30)
        assert r.status_code == 200, r.text
        assert user_and_mech(r.text) == (CLIENT, mech.name)
        assert '<p id="pac">alice <PacVerified.SERVER_SIGNATURE: 1></p>' in r.text
        assert [h.status_code for h in r.history] == [401]
        assert auth.context is not None and auth.context.complete  # the final token verified
        assert bool(auth.context.flags & krbap.Flags.MUTUAL) == mutual
        # Opportunistic: one request, no 401.
        auth2 = RequestsAuth(mech=mech, mutual=mutual, opportunistic=True)
        r = s.get(server_url, auth=auth2, timeout=30)
        assert r.status_code == 200 and not r.history
        assert auth2.context is not None and auth2.context.complete


@pytest.mark.parametrize("mech", [krbap.Mech.SPNEGO, krbap.Mech.KRB5], ids=["spnego", "krb5"])
def test_httpx_with_krbap_auth(server_url: str, mech: krbap.Mech) -> None:
    auth = HttpxAuth(mech=mech)
    with httpx.Client(auth=auth, timeout=30) as client:
        r = client.get(server_url)
        assert r.status_code == 200, r.text
        assert user_and_mech(r.text) == (CLIENT, mech.name)
        assert [h.status_code for h in r.history] == [401]
        assert auth.verified is True
        r = client.get(server_url)  # again: a new context, a new ticket use
        assert r.status_code == 200 and auth.verified is True

    async def run() -> None:
        auth = HttpxAuth(mech=mech, opportunistic=True)
        async with httpx.AsyncClient(auth=auth, timeout=30) as client:
            responses = await asyncio.gather(*[client.get(server_url) for _ in range(4)])
        for r in responses:
            assert r.status_code == 200 and not r.history
            assert user_and_mech(r.text)[0] == CLIENT
        assert auth.verified is True

    asyncio.run(run())


def test_requests_gssapi(server_url: str) -> None:
    r = requests.get(server_url, auth=HTTPSPNEGOAuth(mutual_authentication=REQUIRED), timeout=30)
    assert r.status_code == 200, r.text
    assert user_and_mech(r.text) == (CLIENT, "SPNEGO")


@pytest.mark.parametrize(
    "case", ["no-optimistic", "ntlm-first-mutual", "negoex-first", "ms-oid-first"]
)
def test_multileg_spnego(server_url: str, case: str) -> None:
    # The legs stay on one keep-alive connection; the middleware keeps the context for it.
    done = subprocess.run(
        [sys.executable, str(PEERS), "multileg", server_url, case],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"user={CLIENT}" in done.stdout
    assert "one connection" in done.stdout


def test_client_starts_over_on_the_same_connection(server_url: str) -> None:
    # A multi-leg exchange left after its first leg; the client then sends a complete new
    # exchange on the same connection: it is accepted, not taken for the next leg.
    host, port = server_url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/", headers={"Authorization": khttp.authorization(MECH_LIST_ONLY)})
        r = conn.getresponse()
        r.read()
        assert r.status == 401 and khttp.negotiate_token([r.getheader("WWW-Authenticate", "")])
        with krbap.InitiatorContext("HTTP@localhost", mech=krbap.Mech.SPNEGO) as ctx:
            conn.request("GET", "/", headers={"Authorization": khttp.authorization(ctx.step())})
            r = conn.getresponse()
            body = r.read().decode()
            assert r.status == 200 and user_and_mech(body) == (CLIENT, "SPNEGO")
            final = khttp.negotiate_token([r.getheader("WWW-Authenticate", "")])
            assert final is not None
            ctx.step(final)
            assert ctx.complete
        # A continuation token with nothing waiting for it: refused.
        conn.request(
            "GET", "/", headers={"Authorization": khttp.authorization(b"\xa1\x03\x30\x01\x00")}
        )
        r = conn.getresponse()
        r.read()
        assert r.status == 401
    finally:
        conn.close()


# --- bad headers and failed authentications ----------------------------------------------


def raw_get(url: str, authorization: Optional[str]) -> tuple[int, Optional[str], str]:
    host, port = url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(
            "GET", "/", headers={} if authorization is None else {"Authorization": authorization}
        )
        r = conn.getresponse()
        return r.status, r.getheader("WWW-Authenticate"), r.read().decode()
    finally:
        conn.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


BAD_HEADERS = [
    # (id, Authorization value, status, WWW-Authenticate, reason in the log)
    ("none", None, 401, "Negotiate", "no Authorization header"),
    ("basic", "Basic YWxpY2U6cGFzcw==", 401, "Negotiate", "not a Negotiate Authorization"),
    ("no-token", "Negotiate", 400, None, "malformed Authorization header"),
    ("bad-base64", "Negotiate !!!!", 400, None, "malformed Authorization header"),
    ("truncated-base64", "Negotiate YWxpY2", 400, None, "malformed Authorization header"),
    ("two-tokens", "Negotiate YWxp Y2U=", 400, None, "malformed Authorization header"),
    ("garbage-token", "Negotiate " + b64(b"\x60\x05garbage" * 4), 401, "Negotiate", "defective"),
    ("empty-spnego", "Negotiate " + b64(b"\x60\x00"), 401, "Negotiate", ""),
]


@pytest.mark.parametrize(
    "authorization,status,www,reason", [c[1:] for c in BAD_HEADERS], ids=[c[0] for c in BAD_HEADERS]
)
def test_bad_headers(
    server_url: str,
    caplog: pytest.LogCaptureFixture,
    authorization: Optional[str],
    status: int,
    www: Optional[str],
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="krbap.http")
    got_status, got_www, body = raw_get(server_url, authorization)
    assert got_status == status, body
    assert got_www == www
    logged = [r.getMessage() for r in caplog.records if r.name == "krbap.http"]
    assert len(logged) == 1 and logged[0].startswith(f"{status} for / from 127.0.0.1: ")
    assert reason.lower() in logged[0].lower(), logged
    if status == 400:
        assert reason in body  # what was malformed, for the client's developer


def test_refused_tokens(
    server_url: str, caplog: pytest.LogCaptureFixture, http_cred: krbap.AcceptorCredential
) -> None:
    caplog.set_level(logging.INFO, logger="krbap.http")
    # A replay: the first use passes, the second is refused with the replay named.
    token = krbap_tokens(1, "HTTP@localhost")[0]
    assert raw_get(server_url, khttp.authorization(token))[0] == 200
    status, www, _ = raw_get(server_url, khttp.authorization(token))
    assert status == 401 and www is not None and www.startswith("Negotiate")
    # A ticket for another service (no key for it in the HTTP keytab).
    other = krbap_tokens(1, "test@localhost")[0]
    assert raw_get(server_url, khttp.authorization(other))[0] == 401
    logged = [r.getMessage() for r in caplog.records if r.name == "krbap.http"]
    assert len(logged) == 2, logged
    assert "KRB5KRB_AP_ERR_REPEAT" in logged[0] or "replay" in logged[0].lower(), logged
    assert "test/localhost" in logged[1] or "KRB5_KT_NOTFOUND" in logged[1], logged


def wsgi_call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        got["status"], got["headers"] = status, dict(headers)
        return lambda _b: None

    result = app({"PATH_INFO": "/", **environ}, start_response)
    body = b"".join(result)
    getattr(result, "close", lambda: None)()
    return got["status"], got["headers"], body


def asgi_call(
    app: Any, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    # A complete HTTP scope (ASGI 3.0): a mutation can leave a token intact, and then the
    # request reaches the application's router, which reads the method.
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    return (
        sent[0]["status"],
        dict(sent[0]["headers"]),
        b"".join(m.get("body", b"") for m in sent[1:]),
    )


@pytest.mark.parametrize(
    "value,reason",
    [
        ("Negotiate " + "A" * (4 * (khttp.MAX_TOKEN // 3 + 4)), "64 KiB"),
        ("Negotiate YWxp\u20ac", "ISO-8859-1"),
        ("Negotiate YWxp\0", "NUL"),
    ],
    ids=["oversized", "not-latin1", "nul"],
)
def test_bad_headers_without_a_server(
    http_cred: krbap.AcceptorCredential, value: str, reason: str
) -> None:
    # What HTTP servers would refuse before the application (oversized heads, odd octets),
    # straight into the middlewares.
    def inner(environ: Any, start_response: Any) -> list[bytes]:
        raise AssertionError("reached the application")

    status, headers, body = wsgi_call(
        krbap.wsgi.NegotiateMiddleware(inner, http_cred), {"HTTP_AUTHORIZATION": value}
    )
    assert status == "400 Bad Request" and "WWW-Authenticate" not in headers
    assert reason.lower() in body.decode().lower() or "malformed" in body.decode()

    async def inner_asgi(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("reached the application")

    raw = value.encode("utf-8")
    status_code, _, body = asgi_call(
        krbap.asgi.NegotiateMiddleware(inner_asgi, http_cred), [(b"authorization", raw)]
    )
    assert status_code == 400, body


def test_mutated_headers(http_cred: krbap.AcceptorCredential) -> None:
    # The real Authorization value once through the ASGI app (200), then 3000 seeded
    # mutations of it (bytes flipped, cut, repeated, spaces, other schemes) through both
    # middlewares: each answered 400 or 401 (a mutation that leaves it intact is a
    # replay), nothing else, no exception.
    import random

    rng = random.Random(4559)
    good = khttp.authorization(krbap_tokens(1, "HTTP@localhost")[0])
    alphabet = 'AZaz09+/= \t,;:"NegotiaBsc\x7f\xff'

    def inner(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    wsgi = krbap.wsgi.NegotiateMiddleware(inner, http_cred)
    asgi = krbap.asgi.NegotiateMiddleware(starlette_app(http_cred).app, http_cred)
    code, _, body = asgi_call(asgi, [(b"authorization", good.encode("latin-1"))])
    assert code == 200 and b"alice@TEST.LOCAL" in body, (code, body)
    seen: dict[str, int] = {}
    for i in range(3000):
        value = list(good)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            at = rng.randrange(len(value) + 1)
            if op == 0 and value:
                value[min(at, len(value) - 1)] = rng.choice(alphabet)
            elif op == 1:
                value = value[:at]
            elif op == 2:
                value[at:at] = rng.choice(alphabet) * rng.randint(1, 3)
            else:
                value = value[at:] + value[:at]
        text = "".join(value)
        if i % 2:
            status, _, _ = wsgi_call(wsgi, {"HTTP_AUTHORIZATION": text})
        else:
            code, _, _ = asgi_call(asgi, [(b"authorization", text.encode("latin-1"))])
            status = str(code)
        assert status.split()[0] in ("400", "401"), (text, status)
        seen[status.split()[0]] = seen.get(status.split()[0], 0) + 1
    assert seen.get("400", 0) > 100 and seen.get("401", 0) > 100, seen


def test_middlewares_pass_other_scopes_and_refuse_bad_arguments(
    http_cred: krbap.AcceptorCredential,
) -> None:
    seen = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    mw = krbap.asgi.NegotiateMiddleware(inner, http_cred)
    asyncio.run(mw({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
    with pytest.raises(TypeError):
        krbap.wsgi.NegotiateMiddleware(inner, "FILE:/nonexistent")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        krbap.asgi.NegotiateMiddleware(inner, None)  # type: ignore[arg-type]


def test_pending_contexts_are_bounded(http_cred: krbap.AcceptorCredential) -> None:
    mech_list_only = MECH_LIST_ONLY

    def waiting() -> krbap.AcceptorContext:
        ctx = http_cred.accept(mech_list_only)
        assert not ctx.complete and ctx.output_token
        return ctx

    pending = khttp.PendingContexts(max_entries=3, timeout=0.3)
    contexts = [waiting() for _ in range(5)]
    for i, ctx in enumerate(contexts):
        pending.put(("127.0.0.1", i), ctx)
    assert len(pending) == 3
    assert contexts[0].closed and contexts[1].closed and not contexts[4].closed
    assert pending.take(("127.0.0.1", 0)) is None
    assert pending.take(("127.0.0.1", 4)) is contexts[4]
    contexts[4].close()
    time.sleep(0.4)
    assert pending.take(("127.0.0.1", 3)) is None  # expired, and closed
    assert len(pending) == 0 and contexts[2].closed and contexts[3].closed
    with pytest.raises(ValueError):
        khttp.PendingContexts(max_entries=0)
    # Without a connection to keep the context on, the exchange is refused.
    outcome = khttp.negotiate(http_cred, khttp.authorization(mech_list_only))
    assert outcome.status == 401 and outcome.context is None and "another leg" in outcome.reason


def test_header_helpers() -> None:
    assert khttp.www_authenticate() == "Negotiate"
    assert khttp.www_authenticate(b"\x01\x02") == "Negotiate AQI="
    assert khttp.authorization(b"abc") == "Negotiate YWJj"
    assert khttp.parse_authorization("negotiate   YWJj") == b"abc"
    assert khttp.parse_www_authenticate("Negotiate") is None
    assert khttp.negotiate_token(['Basic realm="x"', "Negotiate YWJj"]) == b"abc"
    assert not khttp.offers_negotiate(['Basic realm="x"'])
    with pytest.raises(krbap.KrbapError) as e:
        khttp.parse_authorization("Basic YWJj")
    assert khttp.is_not_negotiate(e.value)
    with pytest.raises(krbap.DefectiveTokenError):
        khttp.parse_authorization("Negotiate !")
    with pytest.raises(TypeError):
        khttp.parse_authorization(b"Negotiate YWJj")  # type: ignore[arg-type]


# --- krbap's auth classes -> other acceptors ---------------------------------------------


def mit_acceptor_app(keytab: str) -> Any:
    """MIT's acceptor (python-gssapi, SPNEGO or raw krb5) behind a plain WSGI app: under
    /omit its 200 carries no final token, under /corrupt a damaged one."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        value = environ.get("HTTP_AUTHORIZATION", "")
        if not value.startswith("Negotiate "):
            start_response("401 Unauthorized", [("WWW-Authenticate", "Negotiate")])
            return [b"401\n"]
        creds = gssapi.Credentials(usage="accept", store={"keytab": keytab})
        ctx = gssapi.SecurityContext(usage="accept", creds=creds)
        out = ctx.step(base64.b64decode(value.split()[1]))
        assert ctx.complete
        headers = [("Content-Type", "text/html")]
        path = environ["PATH_INFO"]
        if out and path != "/omit":
            if path == "/corrupt":
                out = out[:-8] + bytes(b ^ 0x55 for b in out[-8:])
            headers.append(("WWW-Authenticate", "Negotiate " + b64(out)))
        start_response("200 OK", headers)
        return [f'<p id="user">{ctx.initiator_name}</p><p id="mech">MIT</p>\n'.encode()]

    return app


@pytest.fixture(scope="module")
def mit_url(http_keytab: str) -> Iterator[str]:
    with wsgi_server(mit_acceptor_app(http_keytab)) as url:
        yield url


@pytest.mark.parametrize("mech", [krbap.Mech.SPNEGO, krbap.Mech.KRB5], ids=["spnego", "krb5"])
def test_auth_classes_against_mit(mit_url: str, mech: krbap.Mech) -> None:
    auth = RequestsAuth(mech=mech)
    r = requests.get(mit_url, auth=auth, timeout=30)
    assert r.status_code == 200 and user_and_mech(r.text)[0] == CLIENT
    assert auth.context is not None and auth.context.complete
    hauth = HttpxAuth(mech=mech)
    r2 = httpx.get(mit_url, auth=hauth, timeout=30)
    assert r2.status_code == 200 and hauth.verified is True
    # The server's final token missing: mutual authentication failed.
    with pytest.raises(khttp.MutualAuthenticationError):
        requests.get(mit_url + "omit", auth=RequestsAuth(mech=mech), timeout=30)
    with pytest.raises(khttp.MutualAuthenticationError):
        httpx.get(mit_url + "omit", auth=HttpxAuth(mech=mech), timeout=30)
    # ... and not asked for: fine.
    r = requests.get(mit_url + "omit", auth=RequestsAuth(mech=mech, mutual=False), timeout=30)
    assert r.status_code == 200
    # Damaged: the AP-REP's (or SPNEGO's) check fails.
    with pytest.raises(krbap.KrbapError):
        requests.get(mit_url + "corrupt", auth=RequestsAuth(mech=mech), timeout=30)
    with pytest.raises(krbap.KrbapError):
        httpx.get(mit_url + "corrupt", auth=HttpxAuth(mech=mech), timeout=30)


@pytest.fixture(scope="module")
def c_server_url(http_keytab: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """examples/krbap-http-server (C, over libkrbap) on a free port."""
    work = tmp_path_factory.mktemp("c-server")
    release = REPO / "target/release"
    binary = work / "krbap-http-server"
    subprocess.run(
        [
            "cc", "-std=c11", "-pthread", f"-I{REPO}/include",
            f"{REPO}/examples/krbap-http-server.c", f"{REPO}/examples/http_common.c",
            f"{REPO}/examples/common.c", f"-L{release}", "-lkrbap",
            f"-Wl,-rpath,{release}", "-o", str(binary),
        ],
        check=True,
    )  # fmt: skip
    log = work / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(binary), "-port", "0", "-bind", "127.0.0.1", "-keytab", http_keytab],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 10
        while b"starting..." not in log.read_bytes() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        port = log.read_text().split("(port ")[1].split(",")[0]
        yield f"http://localhost:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("mech", [krbap.Mech.SPNEGO, krbap.Mech.KRB5], ids=["spnego", "krb5"])
def test_auth_classes_against_krbap_http_server(c_server_url: str, mech: krbap.Mech) -> None:
    auth = RequestsAuth(mech=mech)
    r = requests.get(c_server_url, auth=auth, timeout=30)
    assert r.status_code == 200 and user_and_mech(r.text)[0] == CLIENT
    assert auth.context is not None and auth.context.complete
    hauth = HttpxAuth(mech=mech)
    r2 = httpx.get(c_server_url, auth=hauth, timeout=30)
    assert r2.status_code == 200 and user_and_mech(r2.text)[0] == CLIENT
    assert hauth.verified is True


def test_asgi_offloads_accepts_with_an_io_replay_cache(http_keytab: str, tmp_path: Any) -> None:
    # A file2: (or redis:) cache does I/O, so the ASGI middleware accepts in a worker thread:
    # the application sees the client, and the same token again is refused by the cache.
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["krbap.client_name"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    rcache = f"file2:{tmp_path / 'asgi.rcache2'}"
    with krbap.AcceptorCredential(http_keytab, replay_cache=rcache) as cred:
        mw = krbap.asgi.NegotiateMiddleware(inner, cred)
        assert mw.offload
        assert not krbap.asgi.NegotiateMiddleware(inner, cred, offload=False).offload
        with krbap.InitiatorContext("HTTP@localhost", mech=krbap.Mech.KRB5) as ictx:
            value = khttp.authorization(ictx.step())
        header = [(b"authorization", value.encode("latin-1"))]
        status, _, body = asgi_call(mw, header)
        assert status == 200 and body == b"ok" and len(seen) == 1
        status, _, _ = asgi_call(mw, header)
        assert status == 401 and len(seen) == 1
