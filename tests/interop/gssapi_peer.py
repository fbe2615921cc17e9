#!/usr/bin/python3
"""A python3-gssapi peer (MIT's libgssapi_krb5 underneath) speaking the gss-sample framing
(one flags byte, a 4-byte big-endian length, the token), for tests/interop-mit.sh.

  gssapi_peer.py initiate [-nomutual] [-nx] [-d] [-spnego] PORT SERVICE@HOST MESSAGE
                                                      like gss-client (same options): wrap
                                                      (-nx: integrity only), verify the MIC,
                                                      -d delegates, -spnego uses SPNEGO
  gssapi_peer.py accept PORT SERVICE@HOST [CCACHE]    like gss-server -once; with CCACHE,
                                                      a delegated credential is stored there

Prints "Signature verified." (initiator) or 'Accepted connection: "NAME"' and the initial
token's mechanism, "Initial token mechanism: SPNEGO" or "krb5" (acceptor), and
"Delegated credentials stored in CCACHE" or "No delegated credentials" when asked to store
them; exits non-zero on any error.
"""
import socket
import struct
import sys

import gssapi

TOKEN_NOOP, TOKEN_CONTEXT, TOKEN_DATA, TOKEN_MIC = 1, 2, 4, 8
TOKEN_CONTEXT_NEXT, TOKEN_WRAPPED, TOKEN_ENCRYPTED, TOKEN_SEND_MIC = 16, 32, 64, 128
MAX_TOKEN = 1 << 20  # far above any token of this exchange; bounds what a peer makes us read


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed by the peer")
        data += chunk
    return data


def recv_token(sock):
    flags, length = struct.unpack(">BI", recv_exact(sock, 5))
    if length > MAX_TOKEN:
        raise ValueError(f"token of {length} bytes is too long")
    return flags, recv_exact(sock, length)


def send_token(sock, flags, data):
    sock.sendall(struct.pack(">BI", flags, len(data)) + data)


SPNEGO_OID = "1.3.6.1.5.5.2"
SPNEGO_HEADER = bytes.fromhex("06062b0601050502")


def initiate(port, service, message, mutual=True, encrypt=True, delegate=False, spnego=False):
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    flags = [gssapi.RequirementFlag.replay_detection, gssapi.RequirementFlag.confidentiality,
             gssapi.RequirementFlag.integrity]
    if mutual:
        flags.append(gssapi.RequirementFlag.mutual_authentication)
    if delegate:
        flags.append(gssapi.RequirementFlag.delegate_to_peer)
    mech = gssapi.OID.from_int_seq(SPNEGO_OID) if spnego else None
    ctx = gssapi.SecurityContext(name=name, usage="initiate", flags=flags, mech=mech)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        send_token(sock, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, b"")
        token = ctx.step()
        while True:
            send_token(sock, TOKEN_CONTEXT, token)
            if ctx.complete:
                break
            flags_in, reply = recv_token(sock)
            if not flags_in & TOKEN_CONTEXT:
                raise ValueError(f"expected a context token, got flags {flags_in}")
            token = ctx.step(reply)
            if ctx.complete:
                # SPNEGO may finish with a token for the acceptor (its mechListMIC).
                if token:
                    send_token(sock, TOKEN_CONTEXT, token)
                break
        print(f'"{ctx.initiator_name}" to "{ctx.target_name}", open')
        wrapped = ctx.wrap(message.encode(), encrypt)
        if wrapped.encrypted != encrypt:
            raise ValueError(f"wrap encrypted={wrapped.encrypted}, asked for {encrypt}")
        send_token(sock, TOKEN_DATA | TOKEN_WRAPPED | (TOKEN_ENCRYPTED if encrypt else 0)
                   | TOKEN_SEND_MIC, wrapped.message)
        flags_in, mic = recv_token(sock)
        if not flags_in & TOKEN_MIC:
            raise ValueError(f"expected a MIC token, got flags {flags_in}")
        ctx.verify_signature(message.encode(), mic)
        print("Signature verified.")
        send_token(sock, TOKEN_NOOP, b"")


def store_delegated(ctx, ccache):
    """Writes the initiator's delegated credential (gss_store_cred_into) to `ccache`."""
    if ctx.delegated_creds is None:
        print("No delegated credentials", flush=True)
        return
    ctx.delegated_creds.store(store={b"ccache": f"FILE:{ccache}".encode()}, usage="initiate",
                              overwrite=True)
    print(f"Delegated credentials stored in {ccache}", flush=True)


def accept(port, service, deleg_ccache=None):
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
        ctx = gssapi.SecurityContext(creds=creds, usage="accept")
        first = True
        while not ctx.complete:
            flags_in, token = recv_token(conn)
            if not flags_in & TOKEN_CONTEXT:
                raise ValueError(f"expected a context token, got flags {flags_in}")
            if first:
                # MIT's mechglue picks the mechanism by the token's OID; say which.
                oid_at = 2 + (token[1] & 0x7F if len(token) > 1 and token[1] & 0x80 else 0)
                spnego = token[oid_at:oid_at + len(SPNEGO_HEADER)] == SPNEGO_HEADER
                print("Initial token mechanism: %s" % ("SPNEGO" if spnego else "krb5"),
                      flush=True)
                first = False
            reply = ctx.step(token)
            if reply:
                send_token(conn, TOKEN_CONTEXT, reply)
        print(f'Accepted connection: "{ctx.initiator_name}"', flush=True)
        if deleg_ccache is not None:
            store_delegated(ctx, deleg_ccache)
        while True:
            flags_in, token = recv_token(conn)
            if flags_in & TOKEN_NOOP:
                return
            if flags_in & TOKEN_WRAPPED:
                unwrapped = ctx.unwrap(token)
                if flags_in & TOKEN_ENCRYPTED and not unwrapped.encrypted:
                    raise ValueError("message not encrypted")
                token = unwrapped.message
            print(f'Received message: "{token.decode(errors="replace")}"', flush=True)
            if flags_in & TOKEN_SEND_MIC:
                send_token(conn, TOKEN_MIC, ctx.get_signature(token))
            else:
                send_token(conn, TOKEN_NOOP, b"")


def main():
    args = sys.argv[1:]
    try:
        if args and args[0] == "initiate":
            opts = [a for a in args[1:] if a in ("-nomutual", "-nx", "-d", "-spnego")]
            rest = [a for a in args[1:] if a not in opts]
            if len(rest) != 3:
                print(__doc__, file=sys.stderr)
                return 2
            initiate(int(rest[0]), rest[1], rest[2], mutual="-nomutual" not in opts,
                     encrypt="-nx" not in opts, delegate="-d" in opts,
                     spnego="-spnego" in opts)
        elif len(args) in (3, 4) and args[0] == "accept":
            accept(int(args[1]), args[2], *args[3:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (gssapi.exceptions.GSSError, OSError, EOFError, ValueError) as e:
        print(f"gssapi_peer: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
