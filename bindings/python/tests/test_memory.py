"""Memory: 200 000 accept + delete cycles (half closed explicitly, half left to the
finalizer) keep the process's RSS flat."""

from __future__ import annotations

import gc
import os

import pytest
from conftest import krbap_tokens

import krbap

CYCLES = int(os.environ.get("KRBAP_PY_MEMORY_CYCLES", "200000"))
WARMUP = 20000
ALLOWED_GROWTH = 4 << 20  # bytes


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_accept_and_delete_keep_rss_flat(keytab: str) -> None:
    # No replay cache, so that a pool of tokens can be accepted again and again (a memory
    # cache would rightly grow with every distinct authenticator).
    tokens = krbap_tokens(500, mutual=True)
    with krbap.AcceptorCredential(keytab, replay_cache="none:") as cred:

        def cycles(n: int) -> None:
            for i in range(n):
                token = tokens[i % len(tokens)]
                if i & 1:
                    with cred.accept(token) as ctx:
                        assert ctx.output_token
                        assert ctx.client_name
                else:
                    ctx = cred.accept(token)  # dropped: the finalizer deletes it
                    assert ctx.flags & krbap.Flags.MUTUAL
                    del ctx

        cycles(WARMUP)
        gc.collect()
        before = rss()
        cycles(CYCLES - WARMUP)
        gc.collect()
        after = rss()
    growth = after - before
    print(f"RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB after {CYCLES} cycles")
    assert growth < ALLOWED_GROWTH, f"RSS grew by {growth / 2**20:.1f} MiB"
