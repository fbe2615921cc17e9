#!/usr/bin/python3
"""MIT initial tokens fired at a farm of krbap-servers (gss-sample framing), for
tests/redis-farm.sh. python3-gssapi, i.e. MIT's libgssapi_krb5, makes the tokens.

  farm_peer.py tokens N SERVICE@HOST FILE
      N initial tokens of N fresh MIT contexts (mutual authentication), one hex token a
      line, into FILE.
  farm_peer.py fire TOKENS RESULTS PORT[,PORT...] [--copies K] [--clients C] [--only FILE]
      Sends each token (or each token whose index is a line of --only) to K distinct
      ports picked at random (K defaults to the number of ports), all sends shuffled and
      spread over C concurrent clients (default 8). Appends "INDEX PORT OUTCOME" lines to
      RESULTS as they finish (flushed), OUTCOME being
        AP-REP          the server accepted (its AP-REP, TOK_ID 02 00)
        KRB-ERROR N     it refused with KRB-ERROR error-code N (34: KRB_AP_ERR_REPEAT)
        closed          the connection ended without an answer
        refused         nobody listens there
      and prints "sends: S, AP-REP: A, KRB-ERROR 34: R, other: O".
  farm_peer.py verdict RESULTS N
      Per token index 0..N-1: exactly one AP-REP and every other answer KRB-ERROR 34.
      Prints "tokens accepted exactly once: X of N; replays refused: R; bad: B" and the
      first bad tokens; exits non-zero when B > 0 or any token was never accepted.

Exits non-zero on a usage or setup error.
"""
import queue
import random
import socket
import sys
import threading

import gssapi

from gssapi_peer import TOKEN_CONTEXT, TOKEN_CONTEXT_NEXT, TOKEN_NOOP, recv_token, send_token

KRB5_OID = bytes.fromhex("06092a864886f712010202")


def der_tlv(buf, at):
    """(tag, content start, content end) of the DER element at `at`."""
    tag = buf[at]
    n = buf[at + 1]
    at += 2
    if n & 0x80:
        count = n & 0x7F
        if count == 0 or count > 4:
            raise ValueError("bad DER length")
        n = int.from_bytes(buf[at:at + count], "big")
        at += count
    if at + n > len(buf):
        raise ValueError("DER element past the end")
    return tag, at, at + n


def classify(token):
    """AP-REP, or KRB-ERROR with its error-code, from an RFC 2743 framed krb5 token."""
    tag, start, _ = der_tlv(token, 0)
    if tag != 0x60 or token[start:start + len(KRB5_OID)] != KRB5_OID:
        raise ValueError("not a krb5 mechanism token")
    at = start + len(KRB5_OID)
    tok_id, body = token[at:at + 2], at + 2
    if tok_id == b"\x02\x00":
        return "AP-REP"
    if tok_id != b"\x03\x00":
        raise ValueError(f"unexpected TOK_ID {tok_id.hex()}")
    tag, start, end = der_tlv(token, body)  # [APPLICATION 30] KRB-ERROR
    tag, start, end = der_tlv(token, start)  # SEQUENCE
    at = start
    while at < end:
        tag, cstart, cend = der_tlv(token, at)
        if tag == 0xA6:  # error-code [6] Int32
            _, istart, iend = der_tlv(token, cstart)
            return f"KRB-ERROR {int.from_bytes(token[istart:iend], 'big', signed=True)}"
        at = cend
    raise ValueError("KRB-ERROR without error-code")


def make_tokens(n, service, path):
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    flags = [gssapi.RequirementFlag.mutual_authentication,
             gssapi.RequirementFlag.replay_detection]
    with open(path, "w") as out:
        for _ in range(n):
            ctx = gssapi.SecurityContext(name=name, usage="initiate", flags=flags)
            out.write(ctx.step().hex() + "\n")


def exchange(port, token):
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    except ConnectionRefusedError:
        return "refused"
    try:
        with sock:
            send_token(sock, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, b"")
            send_token(sock, TOKEN_CONTEXT, token)
            flags, reply = recv_token(sock)
            if not flags & TOKEN_CONTEXT:
                return f"flags-{flags}"
            outcome = classify(reply)
            if outcome == "AP-REP":
                send_token(sock, TOKEN_NOOP, b"")  # the sample protocol's "done"
            return outcome
    except (EOFError, ConnectionError, socket.timeout, OSError):
        return "closed"


def fire(tokens_path, results_path, ports, copies, clients, only):
    tokens = [bytes.fromhex(line) for line in open(tokens_path) if line.strip()]
    indices = range(len(tokens))
    if only is not None:
        indices = [int(line) for line in open(only) if line.strip()]
    copies = min(copies or len(ports), len(ports))
    rng = random.Random()
    jobs = [(i, port) for i in indices for port in rng.sample(ports, copies)]
    rng.shuffle(jobs)
    work = queue.Queue()
    for job in jobs:
        work.put(job)
    lock = threading.Lock()
    counts = {"AP-REP": 0, "KRB-ERROR 34": 0, "other": 0}
    out = open(results_path, "a", buffering=1)

    def client():
        while True:
            try:
                i, port = work.get_nowait()
            except queue.Empty:
                return
            outcome = exchange(port, tokens[i])
            with lock:
                out.write(f"{i} {port} {outcome}\n")
                counts[outcome if outcome in counts else "other"] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()
    print(f"sends: {len(jobs)}, AP-REP: {counts['AP-REP']}, "
          f"KRB-ERROR 34: {counts['KRB-ERROR 34']}, other: {counts['other']}")


def verdict(results_path, n):
    seen = {i: [] for i in range(n)}
    for line in open(results_path):
        i, port, outcome = line.rstrip("\n").split(" ", 2)
        seen[int(i)].append((int(port), outcome))
    once = replays = 0
    bad = []
    for i, answers in seen.items():
        accepted = sum(1 for _, o in answers if o == "AP-REP")
        refused = sum(1 for _, o in answers if o == "KRB-ERROR 34")
        if accepted == 1 and accepted + refused == len(answers):
            once += 1
            replays += refused
        else:
            bad.append((i, answers))
    print(f"tokens accepted exactly once: {once} of {n}; replays refused: {replays}; "
          f"bad: {len(bad)}")
    for i, answers in bad[:5]:
        print(f"  token {i}: {answers}")
    return 0 if not bad else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "tokens":
        make_tokens(int(argv[2]), argv[3], argv[4])
        return 0
    if len(argv) >= 5 and argv[1] == "fire":
        rest = argv[5:]
        opts = {"--copies": "0", "--clients": "8", "--only": None}
        while rest:
            if rest[0] not in opts or len(rest) < 2:
                raise SystemExit(__doc__)
            opts[rest[0]] = rest[1]
            rest = rest[2:]
        ports = [int(p) for p in argv[4].split(",")]
        fire(argv[2], argv[3], ports, int(opts["--copies"]), int(opts["--clients"]),
             opts["--only"])
        return 0
    if len(argv) == 4 and argv[1] == "verdict":
        return verdict(argv[2], int(argv[3]))
    raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (gssapi.exceptions.GSSError, OSError, ValueError) as e:
        print(f"farm_peer: {e}", file=sys.stderr)
        sys.exit(1)
