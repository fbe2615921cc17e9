"""The Python example (examples/gss_sample.py) against MIT's own gss-sample programs over
loopback: krbap's Python client -> MIT gss-server and MIT gss-client -> krbap's Python
server, for every service of the realm; -nomutual and -nx; a skewed server's KRB-ERROR
shown by MIT's client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import CLIENT, SERVICES

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gss_sample.py"
# Every service (each session enctype) with mutual authentication; the options once.
CASES: list[tuple[str, list[str]]] = [(s[0], []) for s in SERVICES] + [
    ("test@localhost", ["-nomutual"]),
    ("test@localhost", ["-nx"]),
]
CASE_IDS = [f"{s}{''.join(o)}" for s, o in CASES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(command: list[str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Starts a -once server on a free port; yields once it said "starting..."."""
    for _attempt in range(5):
        port = free_port()
        cmd = [c.replace("@PORT@", str(port)) for c in command]
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if b"starting..." in log.read_bytes():
                break
            time.sleep(0.05)
        if proc.poll() is None:
            try:
                yield proc, port
            finally:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            return
    raise RuntimeError(f"server did not start: {log.read_text(errors='replace')}")


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize("service,options", CASES, ids=CASE_IDS)
def test_krbap_client_to_mit_gss_server(tmp: Path, service: str, options: list[str]) -> None:
    with server(["gss-server", "-port", "@PORT@", "-once", service], tmp / "server.log") as (
        proc,
        port,
    ):
        out = run(
            [
                sys.executable,
                str(EXAMPLE),
                "client",
                *options,
                str(port),
                "localhost",
                service,
                "hello from krbap's Python client",
            ]
        )
    log = (tmp / "server.log").read_text(errors="replace")
    assert out.returncode == 0, out.stdout + out.stderr + log
    assert "Signature verified." in out.stdout
    assert f'Accepted connection: "{CLIENT}"' in log
    assert "hello from krbap's Python client" in log
    assert proc.returncode == 0


@pytest.mark.parametrize("service,options", CASES, ids=CASE_IDS)
def test_mit_gss_client_to_krbap_server(tmp: Path, service: str, options: list[str]) -> None:
    cmd = [sys.executable, str(EXAMPLE), "server", "@PORT@", service]
    with server(cmd, tmp / "server.log") as (proc, port):
        out = run(
            [
                "gss-client",
                "-port",
                str(port),
                *options,
                "localhost",
                service,
                "hello from MIT's gss-client",
            ]
        )
    log = (tmp / "server.log").read_text(errors="replace")
    assert out.returncode == 0, out.stdout + out.stderr + log
    assert "Signature verified." in out.stdout
    assert f'Accepted connection: "{CLIENT}"' in log
    assert "hello from MIT's gss-client" in log
    assert proc.returncode == 0


def test_mit_gss_client_reads_krbap_skew_error(tmp: Path) -> None:
    """krbap's Python server with its clock an hour ahead: MIT's gss-client prints the
    reason it read from the KRB-ERROR krbap sent back."""
    code = (
        "import sys, time, krbap; sys.argv[1:] = ['server', sys.argv[1], 'test@localhost'];"
        "orig = krbap.AcceptorCredential.__init__\n"
        "def init(self, *a, **k):\n"
        "    orig(self, *a, **k); self.set_time(int(time.time()) + 3600)\n"
        "krbap.AcceptorCredential.__init__ = init\n"
        f"sys.path.insert(0, {str(EXAMPLE.parent)!r}); import gss_sample;"
        "sys.exit(gss_sample.main(sys.argv[1:]))"
    )
    with server([sys.executable, "-c", code, "@PORT@"], tmp / "server.log") as (proc, port):
        out = run(["gss-client", "-port", str(port), "localhost", "test@localhost", "x"])
    assert out.returncode != 0
    assert "Clock skew too great" in out.stdout + out.stderr
    assert "Clock skew too great" in (tmp / "server.log").read_text()
    assert proc.returncode == 1
    assert os.path.exists(EXAMPLE)
