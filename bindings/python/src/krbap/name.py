"""Names (RFC 2744 gss_import_name / gss_display_name): a principal or a host-based
service name, imported once and passed to credentials and initiator contexts."""

from __future__ import annotations

import enum
import weakref
from ctypes import byref, c_uint32, c_void_p
from typing import Union

from . import _ffi
from .status import check


class NameType(enum.IntEnum):
    """``name_type`` of :class:`Name` (the KRBAP_NT_* values)."""

    HOSTBASED_SERVICE = 1
    """``service@host`` (GSS_C_NT_HOSTBASED_SERVICE)"""
    KRB5_PRINCIPAL = 2
    """``comp/comp@REALM`` (GSS_KRB5_NT_PRINCIPAL_NAME)"""
    USER_NAME = 3
    """a user name (GSS_C_NT_USER_NAME)"""


class Name:
    """An imported name. ``str(name)`` is its display form (``comp/comp@REALM``, MIT's
    escaping). A principal without a realm gets krb5.conf's default realm; a host-based
    name matches its principal in any realm."""

    __slots__ = ("__weakref__", "_finalizer", "_handle", "_text")

    def __init__(
        self, name: str, name_type: Union[NameType, int] = NameType.KRB5_PRINCIPAL
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if not isinstance(name_type, int) or isinstance(name_type, bool):
            raise TypeError("name_type must be a NameType")
        data = _ffi.as_bytes(name.encode(), "name")
        ptr = c_void_p()
        minor = c_uint32()
        major = _ffi.lib.krbap_import_name(
            byref(minor), byref(_ffi.in_buffer(data)), int(name_type), byref(ptr)
        )
        check(major, minor, "import_name")
        self._handle = _ffi.SharedHandle(ptr, _ffi.lib.krbap_release_name)
        self._finalizer = weakref.finalize(self, self._handle.close)
        self._text = self._display()

    def _display(self) -> str:
        ptr = self._handle.acquire("name")
        try:
            return display_name(ptr)
        finally:
            self._handle.release()

    def _acquire(self) -> c_void_p:
        return self._handle.acquire("name")

    def _release(self) -> None:
        self._handle.release()

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Name({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Name):
            return self._text == other._text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> Name:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def display_name(ptr: c_void_p) -> str:
    minor = c_uint32()
    buf = _ffi.krbap_buffer()
    check(_display_name(minor, ptr, buf), minor, "display_name")
    return _ffi.take(buf).decode("utf-8", "surrogateescape")


def take_name(ptr: c_void_p) -> str:
    """The display form of a name handle the library returned; releases the handle."""
    if not ptr:
        raise ValueError("no name")
    try:
        return display_name(ptr)
    finally:
        _release_name(c_uint32(), ptr)


_display_name = _ffi.lib.krbap_display_name
_release_name = _ffi.lib.krbap_release_name
