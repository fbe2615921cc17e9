"""The server and client of README.md's Python section, run as they are written (only the
port is changed to a free one): the client authenticates and its message arrives; a
client whose ticket the server cannot decrypt is refused and the server keeps serving."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import CLIENT, REPO


def readme_block(first_line: str) -> str:
    text = (REPO / "README.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        if block.startswith(first_line):
            return str(block)
    raise AssertionError(f"README.md has no python block starting with {first_line!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
                    return True
    return False


def test_readme_server_and_client(tmp: Path) -> None:
    port = free_port()
    server = tmp / "server.py"
    client = tmp / "client.py"
    server.write_text(readme_block("# server.py").replace("4444", str(port)))
    client.write_text(readme_block("# client.py").replace("4444", str(port)))
    assert len(readme_block("# server.py").splitlines()) <= 20
    assert len(readme_block("# client.py").splitlines()) <= 16
    log = tmp / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-u", str(server)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        for _ in range(200):  # until it listens (without connecting: that is a client)
            if listening(port):
                break
            time.sleep(0.05)
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, str(client), "localhost", "test"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 10
        while log.read_text().count("says") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        # A service the server has no key for: refused, and the server goes on.
        bad = subprocess.run(
            [sys.executable, str(client), "localhost", "nosuch"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert bad.returncode != 0
        done = subprocess.run(
            [sys.executable, str(client), "localhost", "test-aes128-sha256"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        while log.read_text().count("says") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    lines = log.read_text().splitlines()
    assert lines.count(f"{CLIENT} says hello") == 3, lines


def test_readme_web_example(tmp: Path, http_keytab: str) -> None:
    # The Flask app behind the WSGI middleware, served by waitress, and the requests client.
    port = free_port()
    (tmp / "web.py").write_text(readme_block("# web.py"))
    client = tmp / "web_client.py"
    client.write_text(readme_block("# web_client.py").replace("8080", str(port)))
    assert len(readme_block("# web.py").splitlines()) <= 16
    assert len(readme_block("# web_client.py").splitlines()) <= 8
    log = tmp / "web.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "waitress", f"--port={port}", "web:app"],
            cwd=tmp,
            env={**os.environ, "KRB5_KTNAME": http_keytab},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        for _ in range(200):
            if listening(port):
                break
            time.sleep(0.05)
        done = subprocess.run(
            [sys.executable, str(client)], capture_output=True, text=True, timeout=30, check=False
        )
        assert done.returncode == 0, done.stderr + log.read_text()
        assert done.stdout == f"200 hello {CLIENT} (SPNEGO)\n"
    finally:
        proc.kill()
        proc.wait()
