"""The check of the valgrind run must be able to fail: with KRBAP_PY_LEAK_SELFTEST=1 this
test leaks one buffer the library returned (krbap_display_status's), and tests/python.sh
expects valgrind to report exactly that leak in libkrbap, and no other."""

from __future__ import annotations

import os
from ctypes import byref, c_int32, c_uint32

import pytest

from krbap import _ffi


@pytest.mark.skipif(
    os.environ.get("KRBAP_PY_LEAK_SELFTEST") != "1",
    reason="only in the valgrind run of tests/python.sh",
)
def test_deliberate_leak() -> None:
    buf = _ffi.krbap_buffer()
    minor = c_uint32()
    major = _ffi.lib.krbap_display_status(byref(minor), 0xD0000, c_int32(1), None, byref(buf))
    assert major == 0 and buf.length > 0
    # Not released: krbap_buffer_free is deliberately not called.
