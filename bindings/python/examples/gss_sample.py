#!/usr/bin/env python3
"""MIT's gss-sample protocol (src/appl/gss-sample) with the krbap Python package: a client
that talks to MIT's gss-server and a server that MIT's gss-client talks to. Each message
is one flags byte, a 4-byte big-endian length and a token.

  gss_sample.py client [-nomutual] [-nx] [-d] PORT HOST SERVICE@HOST MESSAGE
      like gss-client: establishes a context, sends MESSAGE wrapped (-nx: integrity
      only), verifies the MIC that comes back; prints "Signature verified."
  gss_sample.py server [-keytab KEYTAB] PORT SERVICE@HOST
      like gss-server -once: accepts one connection, prints 'Accepted connection: "NAME"'
      and each message, returns a MIC of each
"""

from __future__ import annotations

import socket
import struct
import sys
from typing import Optional

import krbap

TOKEN_NOOP, TOKEN_CONTEXT, TOKEN_DATA, TOKEN_MIC = 1, 2, 4, 8
TOKEN_CONTEXT_NEXT, TOKEN_WRAPPED, TOKEN_ENCRYPTED, TOKEN_SEND_MIC = 16, 32, 64, 128
MAX_TOKEN = 1 << 20  # bounds what a peer can make us read


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed by the peer")
        data += chunk
    return data


def recv_token(sock: socket.socket) -> tuple[int, bytes]:
    flags, length = struct.unpack(">BI", recv_exact(sock, 5))
    if length > MAX_TOKEN:
        raise ValueError(f"token of {length} bytes is too long")
    return flags, recv_exact(sock, length)


def send_token(sock: socket.socket, flags: int, data: bytes) -> None:
    sock.sendall(struct.pack(">BI", flags, len(data)) + data)


def client(
    port: int,
    host: str,
    service: str,
    message: bytes,
    mutual: bool = True,
    encrypt: bool = True,
    delegate: bool = False,
) -> None:
    flags = krbap.Flags.REPLAY | krbap.Flags.SEQUENCE | krbap.Flags.CONF | krbap.Flags.INTEG
    if mutual:
        flags |= krbap.Flags.MUTUAL
    if delegate:
        flags |= krbap.Flags.DELEG
    with (
        socket.create_connection((host, port), timeout=20) as sock,
        krbap.InitiatorContext(service, flags=flags) as ctx,
    ):
        send_token(sock, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, b"")
        token = ctx.step()
        while True:
            send_token(sock, TOKEN_CONTEXT, token)
            if ctx.complete:
                break
            kind, reply = recv_token(sock)
            if not kind & TOKEN_CONTEXT:
                raise ValueError(f"expected a context token, got flags {kind}")
            token = ctx.step(reply)
            if ctx.complete:
                break
        print(f'"{ctx.initiator_name}" to "{ctx.target_name}", open', flush=True)
        send_token(
            sock,
            TOKEN_DATA | TOKEN_WRAPPED | (TOKEN_ENCRYPTED if encrypt else 0) | TOKEN_SEND_MIC,
            ctx.wrap(message, confidential=encrypt),
        )
        kind, mic = recv_token(sock)
        if not kind & TOKEN_MIC:
            raise ValueError(f"expected a MIC token, got flags {kind}")
        ctx.verify_mic(message, mic)
        print("Signature verified.", flush=True)
        send_token(sock, TOKEN_NOOP, b"")


def server(port: int, service: str, keytab: Optional[str] = None) -> None:
    principal = krbap.Name(service, krbap.NameType.HOSTBASED_SERVICE)
    with (
        krbap.AcceptorCredential(keytab, principal=principal) as cred,
        socket.create_server(("127.0.0.1", port)) as listener,
    ):
        listener.settimeout(30)
        print("starting...", flush=True)
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(20)
            kind, _ = recv_token(conn)
            if kind != TOKEN_NOOP | TOKEN_CONTEXT_NEXT:
                raise ValueError(f"expected NOOP|CONTEXT_NEXT, got flags {kind}")
            kind, token = recv_token(conn)
            try:
                ctx = cred.accept(token)
            except krbap.KrbapError as e:
                if e.token:  # MIT's client reads the reason from the KRB-ERROR
                    send_token(conn, TOKEN_CONTEXT, e.token)
                raise
            with ctx:
                if ctx.output_token:
                    send_token(conn, TOKEN_CONTEXT, ctx.output_token)
                print(f'Accepted connection: "{ctx.client_name}"', flush=True)
                while True:
                    kind, token = recv_token(conn)
                    if kind & TOKEN_NOOP:
                        return
                    if kind & TOKEN_WRAPPED:
                        unwrapped = ctx.unwrap(token)
                        if kind & TOKEN_ENCRYPTED and not unwrapped.confidential:
                            raise ValueError("message not encrypted")
                        token = unwrapped.message
                    print(f'Received message: "{token.decode(errors="replace")}"', flush=True)
                    if kind & TOKEN_SEND_MIC:
                        send_token(conn, TOKEN_MIC, ctx.get_mic(token))
                    else:
                        send_token(conn, TOKEN_NOOP, b"")


def main(argv: list[str]) -> int:
    opts = {a for a in argv[1:] if a in ("-nomutual", "-nx", "-d")}
    rest = [a for a in argv[1:] if a not in opts]
    keytab = None
    if len(rest) >= 2 and rest[0] == "-keytab":
        keytab, rest = rest[1], rest[2:]
    try:
        if argv[:1] == ["client"] and len(rest) == 4:
            client(
                int(rest[0]),
                rest[1],
                rest[2],
                rest[3].encode(),
                mutual="-nomutual" not in opts,
                encrypt="-nx" not in opts,
                delegate="-d" in opts,
            )
        elif argv[:1] == ["server"] and len(rest) == 2:
            server(int(rest[0]), rest[1], keytab)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (krbap.KrbapError, OSError, EOFError, ValueError) as e:
        print(f"gss_sample: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
