#!/usr/bin/python3
"""Replay checks with python3-gssapi (MIT's libgssapi_krb5 underneath), gss-sample framing,
for tests/interop-mit.sh.

  replay_peer.py send-twice PORT SERVICE@HOST
      MIT initiator: makes one initial token and sends it on two connections to a krbap
      server (not -once). The first must be answered with an AP-REP, the second with a
      KRB-ERROR token (the replay refused). Prints "first: AP-REP" and
      "second: KRB-ERROR" (RFC 4121 §4.1 TOK_IDs 02 00 and 03 00).
  replay_peer.py accept-twice PORT SERVICE@HOST
      MIT acceptor: takes the initial token of one connection (a krbap client), accepts it
      and finishes the sample protocol, then offers the same token to a new acceptor
      context: MIT must refuse it. Prints 'Accepted connection: "NAME"' and
      "replay refused: <MIT's message>".

Exits non-zero when a step does not go as described.
"""
import socket
import sys

import gssapi

from gssapi_peer import (TOKEN_CONTEXT, TOKEN_CONTEXT_NEXT, TOKEN_MIC, TOKEN_NOOP,
                         TOKEN_SEND_MIC, TOKEN_WRAPPED, recv_token, send_token)

KRB5_OID = bytes.fromhex("06092a864886f712010202")


def tok_id(token):
    """The 2-byte TOK_ID after the RFC 2743 §3.1 framing of a krb5 mechanism token."""
    if len(token) < 2 or token[0] != 0x60:
        raise ValueError("not an RFC 2743 framed token")
    i = 1
    if token[i] & 0x80:  # long-form length
        i += 1 + (token[i] & 0x7F)
    else:
        i += 1
    if token[i:i + len(KRB5_OID)] != KRB5_OID:
        raise ValueError("not a krb5 mechanism token")
    i += len(KRB5_OID)
    return token[i:i + 2]


def exchange_once(port, token):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        send_token(sock, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, b"")
        send_token(sock, TOKEN_CONTEXT, token)
        flags_in, reply = recv_token(sock)
        if not flags_in & TOKEN_CONTEXT:
            raise ValueError(f"expected a context token, got flags {flags_in}")
        return reply


def send_twice(port, service):
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    flags = [gssapi.RequirementFlag.mutual_authentication,
             gssapi.RequirementFlag.replay_detection]
    ctx = gssapi.SecurityContext(name=name, usage="initiate", flags=flags)
    token = ctx.step()
    first = exchange_once(port, token)
    if tok_id(first) != b"\x02\x00":
        raise ValueError(f"first answer has TOK_ID {tok_id(first).hex()}, not an AP-REP")
    ctx.step(first)  # the AP-REP must also verify
    print("first: AP-REP")
    second = exchange_once(port, token)
    if tok_id(second) != b"\x03\x00":
        raise ValueError(f"second answer has TOK_ID {tok_id(second).hex()}, not a KRB-ERROR")
    print("second: KRB-ERROR")


def accept_twice(port, service):
    creds = gssapi.Credentials(name=gssapi.Name(service, gssapi.NameType.hostbased_service),
                               usage="accept")
    with socket.create_server(("127.0.0.1", port)) as listener:
        listener.settimeout(30)
        print("starting...", flush=True)
        conn, _ = listener.accept()
    with conn:
        conn.settimeout(20)
        flags_in, _ = recv_token(conn)
        if flags_in != TOKEN_NOOP | TOKEN_CONTEXT_NEXT:
            raise ValueError(f"expected NOOP|CONTEXT_NEXT, got flags {flags_in}")
        flags_in, initial = recv_token(conn)
        if not flags_in & TOKEN_CONTEXT:
            raise ValueError(f"expected a context token, got flags {flags_in}")
        ctx = gssapi.SecurityContext(creds=creds, usage="accept")
        reply = ctx.step(initial)
        if reply:
            send_token(conn, TOKEN_CONTEXT, reply)
        print(f'Accepted connection: "{ctx.initiator_name}"', flush=True)
        # Finish the sample protocol so the client exits cleanly.
        while True:
            flags_in, token = recv_token(conn)
            if flags_in & TOKEN_NOOP:
                break
            message = ctx.unwrap(token).message if flags_in & TOKEN_WRAPPED else token
            print(f'Received message: "{message.decode(errors="replace")}"', flush=True)
            if flags_in & TOKEN_SEND_MIC:
                send_token(conn, TOKEN_MIC, ctx.get_signature(message))
            else:
                send_token(conn, TOKEN_NOOP, b"")
    # python-gssapi defers a step's error when MIT also returns a token (here the KRB-ERROR
    # for a mutual-auth initiator) and would report success; ask for the error at once.
    gssapi.SecurityContext.__DEFER_STEP_ERRORS__ = False
    replay = gssapi.SecurityContext(creds=creds, usage="accept")
    try:
        replay.step(initial)
    except gssapi.exceptions.GSSError as e:
        print(f"replay refused: {e.gen_message()}", flush=True)
        return
    raise ValueError("MIT accepted the replayed token")


def main():
    args = sys.argv[1:]
    try:
        if len(args) == 3 and args[0] == "send-twice":
            send_twice(int(args[1]), args[2])
        elif len(args) == 3 and args[0] == "accept-twice":
            accept_twice(int(args[1]), args[2])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (gssapi.exceptions.GSSError, OSError, EOFError, ValueError) as e:
        print(f"replay_peer: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
