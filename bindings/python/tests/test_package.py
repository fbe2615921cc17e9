"""The package itself: the wheel carries libkrbap and loads it without LD_LIBRARY_PATH,
KRBAP_LIBRARY selects another copy, versions agree, the Python constants equal the C
header's, and the package is typed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from conftest import REPO, krbap_tokens

import krbap
from krbap import context, cred, name, status


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("KRBAP_LIBRARY", "LD_LIBRARY_PATH")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_library_comes_from_the_wheel() -> None:
    pkg = Path(krbap.__file__).resolve().parent
    out = run_python("import krbap; print(krbap.library_path)")
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == pkg / "libkrbap.so"
    assert "site-packages" in str(pkg)  # the installed package, not the source tree
    assert (pkg / "py.typed").is_file()
    assert "LD_LIBRARY_PATH" not in os.environ


def test_krbap_library_selects_another_copy() -> None:
    release = REPO / "target" / "release" / "libkrbap.so"
    if not release.is_file():
        pytest.skip("no target/release/libkrbap.so")
    out = run_python(
        "import krbap; print(krbap.library_path, krbap.version())", KRBAP_LIBRARY=str(release)
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == str(release)
    missing = run_python("import krbap", KRBAP_LIBRARY="/nonexistent/libkrbap.so")
    assert missing.returncode != 0
    assert "KRBAP_LIBRARY" in missing.stderr and "ImportError" in missing.stderr
    libc = run_python("import krbap", KRBAP_LIBRARY="/lib/x86_64-linux-gnu/libc.so.6")
    assert "not a libkrbap" in libc.stderr


def test_versions_agree() -> None:
    cargo = (REPO / "Cargo.toml").read_text()
    m = re.search(r'(?m)^version = "([^"]+)"', cargo)
    assert m is not None
    assert krbap.__version__ == krbap.version() == m.group(1)


def header_defines() -> dict[str, int]:
    text = (REPO / "include" / "krbap.h").read_text()
    out = {}
    for name_, value in re.findall(r"(?m)^#define (KRBAP_\w+) (.+)$", text):
        out[name_] = int(eval(value, {"__builtins__": {}}))  # literals and shifts only
    return out


def test_constants_equal_the_header() -> None:
    h = header_defines()
    for attr in (
        "COMPLETE",
        "CONTINUE_NEEDED",
        "DUPLICATE_TOKEN",
        "OLD_TOKEN",
        "UNSEQ_TOKEN",
        "GAP_TOKEN",
        "CALL_INACCESSIBLE_READ",
        "CALL_INACCESSIBLE_WRITE",
        "CALL_BAD_STRUCTURE",
        "BAD_MECH",
        "BAD_NAME",
        "BAD_NAMETYPE",
        "BAD_BINDINGS",
        "BAD_STATUS",
        "BAD_SIG",
        "NO_CRED",
        "NO_CONTEXT",
        "DEFECTIVE_TOKEN",
        "DEFECTIVE_CREDENTIAL",
        "CREDENTIALS_EXPIRED",
        "CONTEXT_EXPIRED",
        "FAILURE",
        "BAD_QOP",
        "UNAUTHORIZED",
        "UNAVAILABLE",
        "DUPLICATE_ELEMENT",
    ):
        assert getattr(status, attr) == h[f"KRBAP_S_{attr}"], attr
    for flag in context.Flags:
        assert flag.value == h[f"KRBAP_C_{flag.name}_FLAG"]
    for nt in name.NameType:
        assert nt.value == h[f"KRBAP_NT_{nt.name}"]
    for usage in cred.Usage:
        assert usage.value == h[f"KRBAP_C_{usage.name}"]
    assert h["KRBAP_MAX_BUFFER"] == krbap.MAX_BUFFER
    # Every KRBAP_S_ of the header has its Python constant.
    assert {k[len("KRBAP_S_") :] for k in h if k.startswith("KRBAP_S_")} <= set(dir(status))


def test_every_c_function_has_a_prototype() -> None:
    from krbap import _ffi

    text = (REPO / "include" / "krbap.h").read_text()
    declared = set(re.findall(r"\b(krbap_\w+)\(", text))
    bound = set(_ffi._PROTOTYPES) | set(_ffi._OPTIONAL_PROTOTYPES)
    assert declared - bound == set()


def test_status_names() -> None:
    assert status.major_name(0) == "GSS_S_COMPLETE"
    assert status.major_name(status.FAILURE | status.DUPLICATE_TOKEN) == (
        "GSS_S_FAILURE|GSS_S_DUPLICATE_TOKEN"
    )
    assert status.minor_name(-1765328347) == "KRB5KRB_AP_ERR_SKEW"
    assert status.minor_name(0) is None
    assert status.display_status(-1765328347, mech=True).startswith("Clock skew too great")


def test_finalizers_release_what_was_not_closed(keytab: str) -> None:
    """A credential dropped without close(): its finalizer releases the C handle. (Contexts
    are released by __del__; the memory test drops 100 000 of them unclosed.)"""
    c = krbap.AcceptorCredential(keytab)
    fin = c._finalizer
    ref = weakref.ref(c)
    del c
    assert ref() is None
    assert not fin.alive


def test_context_outlives_its_credential(keytab: str) -> None:
    tok = krbap_tokens(1)[0]
    with krbap.AcceptorCredential(keytab) as c:
        ctx = c.accept(tok)
    assert c.closed
    assert ctx.get_mic(b"x")  # the context holds the keys it needs
    ctx.close()
