"""Accepts per second from Python: krbap (this package) against python-gssapi (MIT's
libgssapi_krb5), on the same tokens, in one process. Run by scripts/bench-python.sh
(`make bench`) inside a throwaway realm; not a test.

  bench_accept.py [--tokens N] [--rounds R] [--smoke] [--out FILE]

The initial tokens come from MIT's initiator (python-gssapi, alice's ccache, mutual
authentication) for two services whose session enctypes differ (aes256-sha1 and
aes256-sha384). Each library accepts every token once with its own replay cache: first
the defaults (krbap's memory cache; MIT's file2 cache under KRB5RCACHEDIR), then both
without one. One accept is what a server does per client: a new context, the token, the
client's name, the context deleted. The libraries take turns in chunks (krbap first, then
MIT first), so that a change of machine load hits both alike; the ratio is of the summed
times, the figure reported the median of the rounds. Target: krbap/MIT >= 5x with the
default caches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence

import gssapi

import krbap

SERVICES = [
    ("aes256-sha1", "test-aes256-sha1@localhost", "test-aes256-sha1/localhost@TEST.LOCAL"),
    ("aes256-sha384", "test-aes256-sha384@localhost", "test-aes256-sha384/localhost@TEST.LOCAL"),
]
CHUNKS = 10
TARGET = 5.0


def mit_tokens(service: str, count: int) -> list[bytes]:
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    flags = [
        gssapi.RequirementFlag.mutual_authentication,
        gssapi.RequirementFlag.replay_detection,
        gssapi.RequirementFlag.out_of_sequence_detection,
    ]
    out = []
    for _ in range(count):
        out.append(gssapi.SecurityContext(name=name, usage="initiate", flags=flags).step())
    return out


def krbap_acceptor(principal: str, replay_cache: str) -> Callable[[bytes], str]:
    cred = krbap.AcceptorCredential(principal=principal, replay_cache=replay_cache)

    def accept(token: bytes) -> str:
        with cred.accept(token) as ctx:
            return ctx.client_name

    return accept


def mit_acceptor(service: str, replay_cache: str | None) -> Callable[[bytes], str]:
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    store = {b"rcache": replay_cache.encode()} if replay_cache else None
    cred = gssapi.Credentials(name=name, usage="accept", store=store)

    def accept(token: bytes) -> str:
        ctx = gssapi.SecurityContext(creds=cred, usage="accept")
        ctx.step(token)
        return str(ctx.initiator_name)

    return accept


def timed(accept: Callable[[bytes], str], tokens: Sequence[bytes]) -> float:
    start = time.perf_counter()
    for t in tokens:
        if accept(t) != "alice@TEST.LOCAL":
            raise AssertionError("wrong client name")
    return time.perf_counter() - start


def krbap_threads(accept: Callable[[bytes], str], tokens: Sequence[bytes], n: int) -> float:
    parts = [tokens[i::n] for i in range(n)]
    threads = [threading.Thread(target=timed, args=(accept, p)) for p in parts]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def one_round(service: str, principal: str, count: int, caches: str) -> tuple[float, float, float]:
    tokens = mit_tokens(service, count)
    if caches == "default":
        k = krbap_acceptor(principal, "memory:")
        m = mit_acceptor(service, None)
    else:
        k = krbap_acceptor(principal, "none:")
        m = mit_acceptor(service, "none:")
    k_time = m_time = 0.0
    size = max(1, len(tokens) // CHUNKS)
    for i in range(0, len(tokens), size):
        chunk = tokens[i : i + size]
        if (i // size) % 2 == 0:
            k_time += timed(k, chunk)
            m_time += timed(m, chunk)
        else:
            m_time += timed(m, chunk)
            k_time += timed(k, chunk)
    # krbap on 2 threads (the GIL is released in the library), a fresh cache, same tokens.
    k2 = krbap_acceptor(principal, "memory:" if caches == "default" else "none:")
    t2 = krbap_threads(k2, tokens, 2)
    return len(tokens) / k_time, len(tokens) / m_time, len(tokens) / t2


def num(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="a few accepts, no verdict")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.smoke:
        args.tokens, args.rounds = 40, 1
    lines = [
        f"krbap {krbap.__version__} (Python {sys.version.split()[0]}, ctypes) vs python-gssapi "
        f"over MIT libgssapi_krb5; {args.tokens} MIT tokens per round, median of {args.rounds}",
        "",
        "| accept from Python (new context, token, client name, delete) | krbap/s | MIT/s "
        "| krbap/MIT | target | krbap 2 threads/s |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    verdicts = []
    for label, service, principal in SERVICES:
        for caches in ("default", "none"):
            runs = [one_round(service, principal, args.tokens, caches) for _ in range(args.rounds)]
            k = statistics.median(r[0] for r in runs)
            m = statistics.median(r[1] for r in runs)
            t2 = statistics.median(r[2] for r in runs)
            ratio = k / m
            what = (
                "replay cache (krbap memory, MIT file2)"
                if caches == "default"
                else "no replay cache"
            )
            target = ""
            if caches == "default" and not args.smoke:
                ok = ratio >= TARGET
                verdicts.append(ok)
                target = f">={TARGET:.0f}x {'met' if ok else '**miss**'}"
            lines.append(
                f"| {label}, {what} | {num(k)} | {num(m)} | {ratio:.2f}x | {target} | {num(t2)} |"
            )
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
