"""HTTP Negotiate (RFC 4559) peers for tests/http-negotiate.sh, one subcommand each:

  gssapi URL [--nomutual]        python-gssapi (MIT's SPNEGO) as the client; the final token
                                 must complete the context when mutual authentication is asked
  requests URL                   requests-gssapi, mutual_authentication=REQUIRED
  pyspnego URL                   pyspnego's own SPNEGO (independent of MIT's) as the client;
                                 the final token must complete the context
  replay URL                     one SPNEGO token sent twice on two connections (2nd must fail)
  ntlm-only URL                  SPNEGO offering only NTLM: a 401 with a reject token
  multileg URL CASE              a hand-built SPNEGO initiator (DER below, Kerberos from
                                 python-gssapi's raw krb5 mechanism) on ONE keep-alive
                                 connection: no-optimistic, ntlm-first-mutual,
                                 ntlm-first-nomutual, negoex-first, ms-oid-first
  server PORT                    pyspnego as an HTTP acceptor on 127.0.0.1:PORT (keytab from
                                 KRB5_KTNAME), one context per keep-alive connection; under
                                 /omit its 200 has no final token, under /corrupt a damaged one
  hostile HOST PORT              hostile requests against krbap-http-server (see below)
  token-kinds LOG USER-AGENT     what the tokens of one client in Apache's log are framed as

Each client prints `status N`, the `user=...` of the page (<p id="user">) and what it verified,
and exits 0 only when everything held. Environment: KRB5_CONFIG, KRB5CCNAME (clients).
"""
import base64
import http.client
import http.server
import re
import socket
import sys
import time
import urllib.parse

KRB5 = "1.2.840.113554.1.2.2"
MS_KRB5 = "1.2.840.48018.1.2.2"
NTLM = "1.3.6.1.4.1.311.2.2.10"
NEGOEX = "1.3.6.1.4.1.311.2.2.30"
SPNEGO = "1.3.6.1.5.5.2"


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def user_of(body):
    m = re.search(r'<p id="user">([^<]*)</p>', body)
    return m.group(1) if m else None


def mech_of(body):
    m = re.search(r'<p id="mech">([^<]*)</p>', body)
    return m.group(1) if m else None


def negotiate_token(www):
    """The token of a `Negotiate [b64]` challenge (None when absent, b'' when bare)."""
    if www is None:
        return None
    for part in www.split(","):
        words = part.split()
        if words and words[0].lower() == "negotiate":
            return base64.b64decode(words[1], validate=True) if len(words) > 1 else b""
    return None


def target(url):
    u = urllib.parse.urlsplit(url)
    return u, "HTTP@" + u.hostname


# ---- DER, just enough for SPNEGO (RFC 4178 §4.2) --------------------------------------------

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(enc))
    return tlv(0x06, body)


def read_tlv(b, at):
    tag = b[at]
    n = b[at + 1]
    at += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[at:at + k], "big")
        at += k
    return tag, b[at:at + n], at + n


def mech_types(mechs):
    return tlv(0x30, b"".join(oid(m) for m in mechs))


def neg_token_init(mechs, token=None):
    body = tlv(0xA0, mech_types(mechs))
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    inner = tlv(0xA0, tlv(0x30, body))
    return tlv(0x60, oid(SPNEGO) + inner)


def neg_token_resp(token=None, mic=None):
    body = b""
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    if mic is not None:
        body += tlv(0xA3, tlv(0x04, mic))
    return tlv(0xA1, tlv(0x30, body))


def parse_resp(b):
    tag, seq, _ = read_tlv(b, 0)
    if tag != 0xA1:
        raise ValueError("not a NegTokenResp (tag %#x)" % tag)
    tag, fields, _ = read_tlv(seq, 0)
    out = {}
    at = 0
    while at < len(fields):
        tag, content, at = read_tlv(fields, at)
        _, inner, _ = read_tlv(content, 0)
        if tag == 0xA0:
            out["state"] = inner[0]
        elif tag == 0xA1:
            out["mech"] = tlv(0x06, inner)
        elif tag == 0xA2:
            out["token"] = inner
        elif tag == 0xA3:
            out["mic"] = inner
    return out


def fake_ntlm_negotiate():
    # NTLMSSP NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1): signature, type 1, flags, empty fields.
    return b"NTLMSSP\x00" + (1).to_bytes(4, "little") + (0xE2088297).to_bytes(4, "little") + bytes(16)


# ---- clients --------------------------------------------------------------------------------

def get(url, token=None, conn=None):
    u = urllib.parse.urlsplit(url)
    conn = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    if token is not None:
        headers["Authorization"] = "Negotiate " + base64.b64encode(token).decode()
    conn.request("GET", u.path or "/", headers=headers)
    r = conn.getresponse()
    body = r.read().decode("utf-8", "replace")
    return conn, r.status, r.getheader("WWW-Authenticate"), body


def client_gssapi(url, mutual=True):
    import gssapi
    u, spn = target(url)
    flags = gssapi.RequirementFlag.out_of_sequence_detection
    if mutual:
        flags |= gssapi.RequirementFlag.mutual_authentication
    ctx = gssapi.SecurityContext(name=gssapi.Name(spn, gssapi.NameType.hostbased_service),
                                 mech=gssapi.OID.from_int_seq(SPNEGO), usage="initiate", flags=flags)
    _, status, www, body = get(url, ctx.step())
    print("status", status)
    if status != 200:
        fail("expected 200: " + body[:300])
    final = negotiate_token(www)
    if final:
        ctx.step(final)
    if mutual and not ctx.complete:
        fail("the final token did not complete the SPNEGO context (mutual authentication)")
    print("user=%s" % user_of(body))
    print("mech=%s" % mech_of(body))
    print("mutual verified" if mutual else "no mutual authentication asked")


def client_requests(url):
    import requests
    from requests_gssapi import HTTPSPNEGOAuth, REQUIRED
    r = requests.get(url, auth=HTTPSPNEGOAuth(mutual_authentication=REQUIRED), timeout=30)
    print("status", r.status_code)
    if r.status_code != 200:
        fail("expected 200: " + r.text[:300])
    print("user=%s" % user_of(r.text))
    print("mech=%s" % mech_of(r.text))


def client_pyspnego(url):
    import spnego
    u, _ = target(url)
    c = spnego.client(hostname=u.hostname, service="HTTP", protocol="negotiate")
    _, status, www, body = get(url, c.step())
    print("status", status)
    if status != 200:
        fail("expected 200: " + body[:300])
    final = negotiate_token(www)
    if not final:
        fail("no final token on the 200")
    c.step(final)
    if not c.complete:
        fail("pyspnego's context is not complete after the final token")
    print("user=%s" % user_of(body))
    print("mech=%s" % mech_of(body))
    print("mutual verified (protocol %s)" % c.negotiated_protocol)


def replay(url):
    import gssapi
    _, spn = target(url)
    ctx = gssapi.SecurityContext(name=gssapi.Name(spn, gssapi.NameType.hostbased_service),
                                 mech=gssapi.OID.from_int_seq(SPNEGO), usage="initiate",
                                 flags=gssapi.RequirementFlag.mutual_authentication)
    tok = ctx.step()
    _, s1, _, b1 = get(url, tok)
    _, s2, www2, b2 = get(url, tok)
    print("first", s1, "user=%s" % user_of(b1))
    print("second", s2, re.sub(r"<[^>]*>", " ", b2).strip()[:300])
    if s1 != 200 or s2 != 401:
        fail("expected 200 then 401")


def ntlm_only(url):
    """SPNEGO offering only NTLM: the acceptor must refuse with a reject NegTokenResp."""
    _, status, www, body = get(url, neg_token_init([NTLM], fake_ntlm_negotiate()))
    tok = negotiate_token(www)
    print("status %d reject %s" % (status, base64.b64encode(tok).decode() if tok else "-"))
    print("page: " + re.sub(r"<[^>]*>", " ", body).strip()[:400])
    if status != 401 or not tok or parse_resp(tok).get("state") != 2:
        fail("expected a 401 carrying a reject NegTokenResp: " + body[:300])


def multileg(url, case):
    import gssapi
    u, spn = target(url)
    first, opt = {
        "no-optimistic": ([KRB5], False),
        "ntlm-first-mutual": ([NTLM, KRB5], True),
        "ntlm-first-nomutual": ([NTLM, KRB5], True),
        "negoex-first": ([NEGOEX, KRB5], False),
        "ms-oid-first": ([MS_KRB5, KRB5], True),
    }[case]
    mutual = case != "ntlm-first-nomutual"
    flags = gssapi.RequirementFlag.out_of_sequence_detection
    if mutual:
        flags |= gssapi.RequirementFlag.mutual_authentication
    k = gssapi.SecurityContext(name=gssapi.Name(spn, gssapi.NameType.hostbased_service),
                               mech=gssapi.OID.from_int_seq(KRB5), usage="initiate", flags=flags)
    mt = mech_types(first)
    # Kerberos must be negotiated with a MIC exchange unless it was the first mechanism (§5).
    mic_needed = first[0] not in (KRB5, MS_KRB5)
    if case == "ms-oid-first":
        tok = neg_token_init(first, k.step())
        ap_req_sent = True
    elif opt:
        tok = neg_token_init(first, fake_ntlm_negotiate())
        ap_req_sent = False
    else:
        tok = neg_token_init(first)
        ap_req_sent = False
    conn = None
    ports = set()
    mic_sent = mic_verified = False
    supported = None
    for leg in range(1, 6):
        conn, status, www, body = get(url, tok, conn)
        ports.add(conn.sock.getsockname()[1] if conn.sock else None)
        resp = negotiate_token(www)
        print("leg %d: HTTP %d, %s" % (leg, status, "no token" if not resp else "%d-byte token" % len(resp)))
        d = parse_resp(resp) if resp else {}
        if "mech" in d and supported is None:
            supported = d["mech"]
        if d.get("state") == 2:
            fail("the acceptor rejected the negotiation: " + body[:200])
        if d.get("token"):
            if k.complete:
                fail("a Kerberos token after the Kerberos context was complete")
            k.step(d["token"])
        if d.get("mic"):
            k.verify_signature(mt, d["mic"])
            mic_verified = True
        if status == 200:
            break
        if status != 401 or not resp:
            fail("leg %d: HTTP %d without a continuation token: %s" % (leg, status, body[:300]))
        nxt = None
        if not ap_req_sent:
            nxt = k.step()
            ap_req_sent = True
        mic = None
        if k.complete and mic_needed and not mic_sent:
            mic = k.get_signature(mt)
            mic_sent = True
        if nxt is None and mic is None:
            fail("leg %d: the acceptor wants more, and the initiator has nothing to send" % leg)
        tok = neg_token_resp(nxt, mic)
    else:
        fail("no 200 after 5 legs")
    if not k.complete:
        fail("the Kerberos context is not complete (mutual authentication not verified)")
    if mic_needed and not (mic_sent and mic_verified):
        fail("Kerberos was not the first mechanism, but the mechListMICs were not exchanged "
             "(sent %s, verified %s)" % (mic_sent, mic_verified))
    if len(ports) != 1 or None in ports:
        fail("the exchange did not stay on one keep-alive connection: %s" % ports)
    want = oid(MS_KRB5) if case == "ms-oid-first" else oid(KRB5)
    if supported != want:
        fail("supportedMech %s, expected the OID as listed (%s)" % (
            supported.hex() if supported else None, want.hex()))
    print("user=%s" % user_of(body))
    print("legs=%d mic=%s one connection; %s" % (
        leg, "exchanged" if mic_sent else "not needed",
        "mutual verified" if mutual else "no mutual authentication asked"))


# ---- pyspnego as an HTTP acceptor -----------------------------------------------------------

class Acceptor(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body, www=None):
        b = body.encode()
        self.send_response(code)
        if www is not None:
            self.send_header("WWW-Authenticate", www)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        import spnego
        authz = self.headers.get("Authorization")
        if not authz or not authz.lower().startswith("negotiate "):
            return self.reply(401, "<p id=\"error\">authentication required</p>", "Negotiate")
        tok = base64.b64decode(authz.split(None, 1)[1])
        # One context per connection: a new initial token starts a new one (multi-leg).
        if getattr(self, "ctx", None) is None or tok[:1] == b"\x60":
            self.ctx = spnego.server(hostname="localhost", service="HTTP", protocol="negotiate")
        try:
            out = self.ctx.step(tok)
        except Exception as e:  # the reason goes to the client, as a server's 401 page
            self.ctx = None
            return self.reply(401, "<p id=\"error\">%s</p>" % e, "Negotiate")
        www = "Negotiate " + base64.b64encode(out).decode() if out else None
        if not self.ctx.complete:
            return self.reply(401, "<p>continue</p>", www or "Negotiate")
        user = self.ctx.client_principal
        self.ctx = None
        # /omit and /corrupt test the initiator's check of the final token (RFC 4559 §5).
        if self.path.startswith("/omit"):
            www = None
        elif self.path.startswith("/corrupt") and out:
            bad = bytearray(out)
            bad[-5] ^= 0x55
            www = "Negotiate " + base64.b64encode(bytes(bad)).decode()
        self.reply(200, "<html><body><p id=\"user\">%s</p></body></html>" % user, www)

    def log_message(self, fmt, *args):
        sys.stderr.write("pyspnego-acceptor: " + fmt % args + "\n")


def server(port):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Acceptor)
    print("starting... pyspnego HTTP acceptor on 127.0.0.1:%s" % port, flush=True)
    srv.serve_forever()


# ---- hostile requests against krbap-http-server -----------------------------------------------

def hostile(host, port, header_timeout):
    """Each check prints `ok NAME` or `FAIL NAME: why`; exit status 1 if any failed."""
    port = int(port)
    failures = []

    def check(name, cond, why=""):
        print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + why))
        if not cond:
            failures.append(name)

    def exchange(data, read_timeout=10):
        s = socket.create_connection((host, port), timeout=read_timeout)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # nothing more comes: the server need not wait
        except OSError:
            pass
        out = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except OSError:
            pass
        s.close()
        return out.decode("latin-1")

    def status(resp):
        m = re.match(r"HTTP/1\.1 (\d{3})", resp)
        return int(m.group(1)) if m else None

    r = exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
    check("binary garbage (a TLS ClientHello): 400 and closed", status(r) == 400, r[:100])
    start = time.monotonic()
    r = exchange(b"\r\n" * 50000 + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    check("100 KB of empty lines before a request: skipped at once, then 401",
          status(r) == 401 and time.monotonic() - start < 2, "%s after %.1f s" % (r[:60], time.monotonic() - start))
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n folded: line\r\n\r\n")
    check("obs-fold header line: 400", status(r) == 400 and "obs-fold" in r, r[:200])
    r = exchange(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")
    check("whitespace before the colon: 400", status(r) == 400, r[:200])
    r = exchange(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    check("unknown HTTP version: 505", status(r) == 505, r[:200])
    r = exchange(b"GET / HTTP/1.1\r\n\r\n")
    check("HTTP/1.1 without Host: 400", status(r) == 400, r[:200])
    r = exchange(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    check("Transfer-Encoding body: 501", status(r) == 501, r[:200])
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc")
    check("Content-Length with a sign: 400", status(r) == 400, r[:200])
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
    check("Content-Length over 64 KiB: 413", status(r) == 413, r[:200])
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (200 * 1024) + b"\r\n\r\n"
    r = exchange(big)
    check("head over the size limit: 431", status(r) == 431, r[:200])
    huge = base64.b64encode(bytes(70000))
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Negotiate " + huge + b"\r\n\r\n")
    check("Negotiate token over 64 KiB: 400 with the reason", status(r) == 400 and "Message too long" in r, r[:300])
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Negotiate YII-\r\n\r\n")
    check("malformed base64: 400 with the reason", status(r) == 400 and "base64 alphabet" in r, r[:300])
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Negotiate\r\n\r\n")
    check("Negotiate without a token: 400 with the reason", status(r) == 400 and "without a token" in r, r[:300])
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic YWxpY2U6cA==\r\n\r\n")
    check("Basic credentials: 401 offering Negotiate", status(r) == 401 and "WWW-Authenticate: Negotiate\r\n" in r
          and "is not Negotiate" in r, r[:300])
    tok = base64.b64encode(neg_token_init([NTLM], fake_ntlm_negotiate())).decode()
    r = exchange(("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Negotiate %s\r\n\r\n" % tok).encode())
    check("SPNEGO offering only NTLM: 401 with a reason", status(r) == 401 and "id=\"error\"" in r, r[:300])
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Negotiate YII=\r\n"
                 b"Authorization: Negotiate YII=\r\n\r\n")
    check("two Authorization headers: 400", status(r) == 400, r[:200])
    # Pipelining: two requests in one write, two answers in order.
    r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nothere-but-protected HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("two pipelined requests: two 401s", r.count("HTTP/1.1 401") == 2, r[:300])

    # Mutations of a valid request (fixed seed): bytes flipped, cut, repeated. Whatever
    # arrives, the answer is a well-formed response or a closed connection, never a crash
    # (the server is built with ASan+UBSan by the caller).
    import random
    rng = random.Random(4559)
    base = (b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Authorization: Negotiate " + base64.b64encode(neg_token_init([NTLM, KRB5], fake_ntlm_negotiate())) +
            b"\r\nContent-Length: 3\r\n\r\nabc")
    odd = 0
    for i in range(300):
        m = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(4)
            at = rng.randrange(len(m))
            if op == 0:
                m[at] = rng.randrange(256)
            elif op == 1:
                del m[at:at + rng.randint(1, 20)]
            elif op == 2:
                m[at:at] = m[at:at + rng.randint(1, 40)] * rng.randint(1, 50)
            else:
                m[at:at] = rng.choice([b"\r\n", b"\n", b"\0", b" ", b":", b"\r\n\r\n", b","])
        r = exchange(bytes(m), read_timeout=10)
        if r and status(r) is None:
            odd += 1
            print("  mutation %d answered with: %r" % (i, r[:80]))
    check("300 mutated requests: each answered with an HTTP response or closed", odd == 0, "%d odd answers" % odd)

    # Slow headers: a head trickling in is cut off after the header timeout; meanwhile
    # other clients are served.
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    start = time.monotonic()
    closed_after = None
    served_meanwhile = None
    try:
        for i in range(4 * int(header_timeout) + 8):
            time.sleep(0.5)
            if served_meanwhile is None:
                served_meanwhile = status(exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            s.sendall(b"X-Slow-%d: y\r\n" % i)
    except OSError:
        closed_after = time.monotonic() - start
    s.close()
    check("slow head cut off after the header timeout (%ss)" % header_timeout,
          closed_after is not None and closed_after < int(header_timeout) + 3,
          "closed after %s s" % closed_after)
    check("another client served while a head trickles in", served_meanwhile == 401, str(served_meanwhile))
    # An idle keep-alive connection is closed after the idle timeout, silently.
    s = socket.create_connection((host, port), timeout=30)
    start = time.monotonic()
    data = s.recv(100)
    check("idle connection closed without a response", data == b"" and time.monotonic() - start < 30,
          repr(data[:60]))
    s.close()
    print("%d hostile checks failed" % len(failures))
    sys.exit(1 if failures else 0)


def token_kinds(log, agent):
    """The kind of every Negotiate token the client `agent` sent, from an Apache access log
    whose format logs `ua="..." authorization="..."`: spnego (an initial token framed with
    SPNEGO's OID), krb5 (framed with Kerberos' OID) or negtokenresp (a later SPNEGO token)."""
    for line in open(log, encoding="latin-1"):
        m = re.search(r'ua="([^"]*)" authorization="Negotiate ([A-Za-z0-9+/=]+)"', line)
        if not m or m.group(1) != agent:
            continue
        tok = base64.b64decode(m.group(2))
        if tok[:1] == b"\xa1":
            print("negtokenresp")
        elif tok[:1] == b"\x60":
            hdr = 2 + (tok[1] & 0x7F if tok[1] & 0x80 else 0)
            kind = {oid(SPNEGO): "spnego", oid(KRB5): "krb5"}.get(tok[hdr:hdr + tok[hdr + 1] + 2], "other")
            print(kind)
        else:
            print("other")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gssapi":
        client_gssapi(args[0], mutual="--nomutual" not in args)
    elif cmd == "requests":
        client_requests(args[0])
    elif cmd == "pyspnego":
        client_pyspnego(args[0])
    elif cmd == "replay":
        replay(args[0])
    elif cmd == "ntlm-only":
        ntlm_only(args[0])
    elif cmd == "multileg":
        multileg(args[0], args[1])
    elif cmd == "server":
        server(args[0])
    elif cmd == "token-kinds":
        token_kinds(args[0], args[1])
    elif cmd == "hostile":
        hostile(args[0], args[1], args[2] if len(args) > 2 else 2)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
