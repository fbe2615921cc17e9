"""The C ABI of libkrbap through ctypes: loading the library, the C types of include/krbap.h,
the function prototypes, and the buffer plumbing every call shares.

ctypes (not cffi): it is in the standard library, so the package has no run-time dependency
and no C compiler is needed at install time; a ``CDLL`` call releases the GIL for its whole
duration, which is what lets threads accept in parallel. The per-call overhead (about a
microsecond) is small next to an accept. Nothing here knows the protocol: it only moves
bytes, handles and status codes across the boundary.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from ctypes import (
    POINTER,
    Structure,
    byref,
    c_char_p,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, Optional, Union

# The largest input buffer the C ABI accepts (KRBAP_MAX_BUFFER, 1 GiB); larger inputs are
# refused here with ValueError before any copy is made.
MAX_BUFFER = 1 << 30

Bytes = Union[bytes, bytearray, memoryview]

_LIB_NAME = "libkrbap.dylib" if sys.platform == "darwin" else "libkrbap.so"


class krbap_buffer(Structure):
    """An output buffer (RFC 2744 gss_buffer_desc) owned by the library."""

    _fields_ = [("length", c_size_t), ("value", c_void_p)]


class krbap_in_buffer(Structure):
    """An input buffer: the same layout as krbap_buffer, with ``value`` a ``c_char_p`` so that
    a ``bytes`` object is passed without a copy (ctypes keeps it alive in the struct)."""

    _fields_ = [("length", c_size_t), ("value", c_char_p)]


class krbap_cred_store_element(Structure):
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class krbap_channel_bindings(Structure):
    _fields_ = [
        ("initiator_addrtype", c_uint32),
        ("initiator_address", krbap_in_buffer),
        ("acceptor_addrtype", c_uint32),
        ("acceptor_address", krbap_in_buffer),
        ("application_data", krbap_in_buffer),
    ]


class krbap_replay_cache_stats(Structure):
    _fields_ = [
        ("entries", c_uint64),
        ("bytes", c_uint64),
        ("max_bytes", c_uint64),
        ("stored", c_uint64),
        ("replays", c_uint64),
        ("rejected_full", c_uint64),
    ]


_U32 = c_uint32
_PU32 = POINTER(c_uint32)
_PI32 = POINTER(c_int32)
_PVOID = POINTER(c_void_p)  # a pointer to a handle (krbap_cred **, krbap_ctx **, ...)
_PBUF = POINTER(krbap_buffer)
_PINBUF = POINTER(krbap_in_buffer)
_PCB = POINTER(krbap_channel_bindings)

# name -> (restype, argtypes). Handles are c_void_p: the bindings never look inside them.
_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "krbap_display_status": (_U32, [_PU32, _U32, c_int32, _PU32, _PBUF]),
    "krbap_version": (c_char_p, []),
    "krbap_buffer_free": (_U32, [_PU32, _PBUF]),
    "krbap_import_name": (_U32, [_PU32, _PINBUF, c_int32, _PVOID]),
    "krbap_display_name": (_U32, [_PU32, c_void_p, _PBUF]),
    "krbap_release_name": (_U32, [_PU32, _PVOID]),
    "krbap_acquire_cred": (_U32, [_PU32, c_void_p, c_int32, c_char_p, _PVOID, _PU32]),
    "krbap_acquire_cred_from": (
        _U32,
        [_PU32, c_void_p, c_int32, POINTER(krbap_cred_store_element), c_size_t, _PVOID, _PU32],
    ),
    "krbap_acquire_acceptor_cred_empty": (_U32, [_PU32, c_void_p, _PVOID]),
    "krbap_cred_add_key": (
        _U32,
        [_PU32, c_void_p, c_char_p, c_uint32, c_int32, c_char_p, c_size_t],
    ),
    "krbap_cred_set_clock_skew": (_U32, [_PU32, c_void_p, c_int64]),
    "krbap_cred_set_replay_cache": (_U32, [_PU32, c_void_p, c_char_p]),
    "krbap_cred_set_time": (_U32, [_PU32, c_void_p, c_int64]),
    "krbap_release_cred": (_U32, [_PU32, _PVOID]),
    "krbap_store_cred": (_U32, [_PU32, c_void_p, c_char_p]),
    "krbap_inquire_cred": (_U32, [_PU32, c_void_p, _PVOID, _PU32, _PI32]),
    "krbap_init_sec_context": (
        _U32,
        [_PU32, c_void_p, _PVOID, c_void_p, c_uint32, _PCB, _PINBUF, _PU32, _PU32, _PBUF],
    ),
    "krbap_ctx_set_time": (_U32, [_PU32, c_void_p, c_int64]),
    "krbap_accept_sec_context": (
        _U32,
        [_PU32, _PVOID, c_void_p, _PINBUF, _PCB, _PVOID, _PU32, _PU32, _PBUF, _PVOID],
    ),
    "krbap_delete_sec_context": (_U32, [_PU32, _PVOID, _PBUF]),
    "krbap_inquire_context": (
        _U32,
        [_PU32, c_void_p, _PVOID, _PVOID, _PU32, _PU32, _PI32, _PI32],
    ),
    "krbap_context_time": (_U32, [_PU32, c_void_p, _PU32]),
    "krbap_inquire_session": (_U32, [_PU32, c_void_p, _PI32, POINTER(c_int64)]),
    "krbap_inquire_authz_count": (_U32, [_PU32, c_void_p, POINTER(c_size_t)]),
    "krbap_inquire_authz_element": (
        _U32,
        [_PU32, c_void_p, c_size_t, _PI32, _PI32, _PBUF],
    ),
    "krbap_inquire_pac": (_U32, [_PU32, c_void_p, _PBUF]),
    "krbap_wrap": (_U32, [_PU32, c_void_p, c_int32, c_uint32, _PINBUF, _PI32, _PBUF]),
    "krbap_unwrap": (_U32, [_PU32, c_void_p, _PINBUF, _PBUF, _PI32, _PU32]),
    "krbap_get_mic": (_U32, [_PU32, c_void_p, c_uint32, _PINBUF, _PBUF]),
    "krbap_verify_mic": (_U32, [_PU32, c_void_p, _PINBUF, _PINBUF, _PU32]),
    "krbap_wrap_size_limit": (_U32, [_PU32, c_void_p, c_int32, c_uint32, c_uint32, _PU32]),
}

# Functions of newer libraries: looked up when present (None otherwise), so that an older
# libkrbap chosen with KRBAP_LIBRARY still loads; the features that need them say so.
_OPTIONAL_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "krbap_minor_status_name": (c_char_p, [c_uint32]),
    # SPNEGO (src/ffi/context.rs)
    "krbap_init_sec_context_mech": (
        _U32,
        [_PU32, c_void_p, _PVOID, c_void_p, c_int32, c_uint32, _PCB, _PINBUF, _PU32, _PU32, _PBUF],
    ),
    "krbap_inquire_mech": (_U32, [_PU32, c_void_p, _PI32]),
    # HTTP Negotiate header values (src/ffi/http.rs)
    "krbap_http_parse_authorization": (_U32, [_PU32, c_char_p, _PBUF]),
    "krbap_http_www_authenticate": (_U32, [_PU32, _PINBUF, _PBUF]),
    "krbap_http_authorization": (_U32, [_PU32, _PINBUF, _PBUF]),
    "krbap_http_parse_www_authenticate": (_U32, [_PU32, c_char_p, _PBUF]),
    # The PAC (src/ffi/pac.rs)
    "krbap_cred_set_pac_policy": (_U32, [_PU32, c_void_p, c_uint32]),
    "krbap_cred_set_pac_kdc_keytab": (_U32, [_PU32, c_void_p, c_char_p]),
    "krbap_ctx_get_pac": (_U32, [_PU32, c_void_p, _PVOID]),
    "krbap_import_pac": (_U32, [_PU32, _PINBUF, _PVOID]),
    "krbap_release_pac": (_U32, [_PU32, _PVOID]),
    "krbap_pac_get_verified": (_U32, [_PU32, c_void_p, _PU32, _PBUF]),
    "krbap_pac_get_number": (_U32, [_PU32, c_void_p, c_uint32, POINTER(c_uint64)]),
    "krbap_pac_get_time": (_U32, [_PU32, c_void_p, c_uint32, POINTER(c_int64)]),
    "krbap_pac_get_string": (_U32, [_PU32, c_void_p, c_uint32, _PBUF]),
    "krbap_pac_group_count": (_U32, [_PU32, c_void_p, POINTER(c_size_t)]),
    "krbap_pac_get_group": (_U32, [_PU32, c_void_p, c_size_t, _PBUF, _PU32, _PU32]),
    "krbap_pac_transited_count": (_U32, [_PU32, c_void_p, POINTER(c_size_t)]),
    "krbap_pac_get_transited": (_U32, [_PU32, c_void_p, c_size_t, _PBUF]),
    "krbap_pac_buffer_count": (_U32, [_PU32, c_void_p, POINTER(c_size_t)]),
    "krbap_pac_get_buffer": (_U32, [_PU32, c_void_p, c_size_t, _PU32, _PBUF]),
    "krbap_pac_find_buffer": (_U32, [_PU32, c_void_p, c_uint32, _PBUF]),
    "krbap_pac_get_signature": (_U32, [_PU32, c_void_p, c_uint32, _PI32, _PBUF]),
    # The memory replay cache's cap and counters (src/ffi/rcache.rs)
    "krbap_cred_set_replay_cache_max_bytes": (_U32, [_PU32, c_void_p, c_uint64]),
    "krbap_cred_replay_cache_stats": (_U32, [_PU32, c_void_p, POINTER(krbap_replay_cache_stats)]),
    # The replay cache's name (src/ffi/cred.rs, with the redis: cache)
    "krbap_cred_inquire_replay_cache": (_U32, [_PU32, c_void_p, _PBUF]),
}


def library_candidates() -> list[Path]:
    """Where the library is looked for: ``KRBAP_LIBRARY`` alone when it is set, else the copy
    inside the package (put there by the wheel build)."""
    chosen = os.environ.get("KRBAP_LIBRARY")
    if chosen:
        return [Path(chosen)]
    return [Path(__file__).resolve().parent / _LIB_NAME]


def _load() -> tuple[ctypes.CDLL, Path]:
    for path in library_candidates():
        if not path.is_file():
            continue
        lib = ctypes.CDLL(str(path))
        for name, (restype, argtypes) in _PROTOTYPES.items():
            try:
                fn = getattr(lib, name)
            except AttributeError:
                raise ImportError(f"{path} has no function {name}: not a libkrbap") from None
            fn.restype = restype
            fn.argtypes = argtypes
        for name, (restype, argtypes) in _OPTIONAL_PROTOTYPES.items():
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = restype
                fn.argtypes = argtypes
        return lib, path
    where = ", ".join(str(p) for p in library_candidates())
    raise ImportError(
        f"libkrbap not found (looked at {where}); install the package with pip (the wheel "
        "carries the library) or set KRBAP_LIBRARY=/path/to/libkrbap.so"
    )


lib, library_path = _load()


def optional(name: str) -> Optional[Callable[..., Any]]:
    """A function of newer libraries, None when this library lacks it."""
    fn: Optional[Callable[..., Any]] = getattr(lib, name, None)
    return fn


def version() -> str:
    v = lib.krbap_version()
    return v.decode() if isinstance(v, bytes) else "?"


# --- buffers -------------------------------------------------------------------------------


def as_bytes(data: object, what: str) -> bytes:
    """Checks an input buffer argument: bytes-like (TypeError otherwise), at most
    KRBAP_MAX_BUFFER bytes (ValueError, checked before any copy)."""
    if isinstance(data, bytes):
        b = data
    elif isinstance(data, (bytearray, memoryview)):
        # A copy: the caller's buffer may be resized by another thread while the library
        # reads it with the GIL released.
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        if n > MAX_BUFFER:
            raise ValueError(f"{what} of {n} bytes is larger than KRBAP_MAX_BUFFER ({MAX_BUFFER})")
        b = bytes(data)
    else:
        raise TypeError(f"{what} must be bytes, bytearray or memoryview, not {type(data).__name__}")
    if len(b) > MAX_BUFFER:
        raise ValueError(f"{what} of {len(b)} bytes is larger than KRBAP_MAX_BUFFER ({MAX_BUFFER})")
    return b


def in_buffer(data: bytes) -> krbap_in_buffer:
    return krbap_in_buffer(len(data), data)


def take(buf: krbap_buffer) -> bytes:
    """Copies an output buffer's bytes and releases (wipes) the library's copy."""
    if not buf.value:
        return b""
    try:
        return _string_at(buf.value, buf.length)
    finally:
        _buffer_free(c_uint32(), buf)


def free(buf: krbap_buffer) -> None:
    if buf.value:
        _buffer_free(c_uint32(), buf)


_string_at = ctypes.string_at
_buffer_free = lib.krbap_buffer_free


def c_string(value: Union[str, os.PathLike[str]], what: str) -> bytes:
    """A str or path argument as a NUL-terminated UTF-8 string for the C ABI."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value.encode()


# --- handles -------------------------------------------------------------------------------


class SharedHandle:
    """A C handle that threads may use at once (a credential, a name). ``close()`` (or the
    finalizer) releases it exactly once, and never while a call is using it: the last user
    out releases a handle closed meanwhile."""

    __slots__ = ("_closed", "_lock", "_ptr", "_release", "_users")

    def __init__(self, ptr: c_void_p, release: Callable[..., int]) -> None:
        self._ptr = ptr
        self._release = release
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False

    def acquire(self, what: str) -> c_void_p:
        with self._lock:
            if self._closed:
                raise ValueError(f"{what} is closed")
            self._users += 1
            return self._ptr

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._closed and self._users == 0
        if last:
            self._free()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = self._users == 0
        if idle:
            self._free()

    @property
    def closed(self) -> bool:
        return self._closed

    def _free(self) -> None:
        if self._ptr:
            minor = c_uint32()
            self._release(byref(minor), byref(self._ptr))


class ExclusiveHandle:
    """A C handle used by one thread at a time (a security context): every call holds the
    lock, so Python threads sharing a context are serialized instead of racing in C.
    Released by ``close()``, else when the handle is garbage (``__del__``: contexts are
    made by the thousand, and a finalizer object per context would cost more than the
    library's accept)."""

    __slots__ = ("closed", "lock", "ptr")

    def __init__(self) -> None:
        self.ptr = c_void_p()
        self.lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.ptr:
                _delete_sec_context(c_uint32(), self.ptr, None)

    def __del__(
        self, _delete: Callable[..., int] = lib.krbap_delete_sec_context, _u32: type = c_uint32
    ) -> None:
        # Defaults bind what is needed, so that this also works while the interpreter
        # shuts down and module globals are gone. No lock: nothing else refers to us.
        if self.ptr:
            _delete(_u32(), self.ptr, None)


_delete_sec_context = lib.krbap_delete_sec_context
