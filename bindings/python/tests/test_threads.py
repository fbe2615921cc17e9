"""Threads: one acceptor credential shared by 4 threads x 2000 accepts, every token given to
two threads at once, so each is accepted exactly once and refused as a replay exactly once;
and the GIL is released while the library works."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import krbap_tokens

import krbap

THREADS = 4
PER_THREAD = 2000


@pytest.mark.slow
@pytest.mark.parametrize("replay_cache", ["memory:", "file2"])
def test_four_threads_share_one_credential(keytab: str, tmp: Path, replay_cache: str) -> None:
    if replay_cache == "file2":
        replay_cache = f"file2:{tmp / 'threads.rcache2'}"
    tokens = krbap_tokens(THREADS * PER_THREAD // 2)
    half = len(tokens) // 2
    # Threads 0 and 1 share the first half (one forward, one backward), 2 and 3 the second:
    # every token is raced by two threads.
    work = [tokens[:half], tokens[:half][::-1], tokens[half:], tokens[half:][::-1]]
    accepted: Counter[bytes] = Counter()
    replayed: Counter[bytes] = Counter()
    other: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    with krbap.AcceptorCredential(keytab, replay_cache=replay_cache) as cred:

        def run(mine: list[bytes]) -> None:
            ok, dup = [], []
            start.wait()
            for t in mine:
                try:
                    with cred.accept(t) as ctx:
                        if ctx.client_name != "alice@TEST.LOCAL":
                            raise AssertionError(ctx.client_name)
                    ok.append(t)
                except krbap.ReplayError:
                    dup.append(t)
                except BaseException as e:
                    with lock:
                        other.append(e)
            with lock:
                accepted.update(ok)
                replayed.update(dup)

        threads = [threading.Thread(target=run, args=(w,)) for w in work]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert other == []
    assert sum(accepted.values()) + sum(replayed.values()) == THREADS * PER_THREAD
    assert set(accepted) == set(tokens) == set(replayed)
    assert set(accepted.values()) == {1} == set(replayed.values())


def test_the_gil_is_released_during_a_call(keytab: str, tmp: Path) -> None:
    """A call blocked inside the library (on the file2 replay cache's lock, held by another
    process) must let Python threads run: the main thread does Python work and then
    releases the lock. Were the GIL held, this test would hang (and time out)."""
    rc = tmp / "gil.rcache2"
    token = krbap_tokens(1)[0]
    with krbap.AcceptorCredential(keytab, replay_cache=f"file2:{rc}") as cred:
        cred.accept(krbap_tokens(1)[0]).close()  # creates the file
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import fcntl,sys; f=open(sys.argv[1],'r+b'); fcntl.lockf(f, fcntl.LOCK_EX);"
                "print('locked', flush=True); sys.stdin.readline()",
                str(rc),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdin is not None
            assert holder.stdout.readline().strip() == "locked"
            entered = threading.Event()
            result: list[object] = []

            def accept() -> None:
                entered.set()
                with cred.accept(token) as ctx:
                    result.append(ctx.client_name)

            worker = threading.Thread(target=accept)
            worker.start()
            assert entered.wait(10)
            time.sleep(0.3)
            assert worker.is_alive(), "accept did not wait for the replay cache's lock"
            assert result == []
            # Python work while the worker is inside the library.
            spins = 0
            deadline = time.monotonic() + 0.2
            while time.monotonic() < deadline:
                spins += 1
            assert spins > 1000
            holder.stdin.write("\n")
            holder.stdin.flush()
            worker.join(10)
            assert not worker.is_alive()
            assert result == ["alice@TEST.LOCAL"]
        finally:
            holder.kill()
            holder.wait()


def test_a_context_shared_by_threads_is_serialized(acceptor: krbap.AcceptorCredential) -> None:
    """One context used by several threads at once: calls are serialized by its lock, so
    sequence numbers stay consistent (every token unwraps in order on the peer)."""
    with krbap.InitiatorContext("test@localhost") as ic:
        with acceptor.accept(ic.step()) as ac:
            ic.step(ac.output_token)
            tokens: list[bytes] = []
            lock = threading.Lock()

            def wrap_many() -> None:
                for i in range(300):
                    t = ic.wrap(b"%d" % i)
                    with lock:
                        tokens.append(t)

            threads = [threading.Thread(target=wrap_many) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            results = [ac.unwrap(t) for t in tokens]
            # Tokens collected in a different order than made are out of sequence, never bad.
            assert len(results) == 1200
            assert all(isinstance(r, krbap.Unwrapped) for r in results)
