"""Bad input from Python: wrong types and None are TypeError, impossible values ValueError,
hostile bytes a krbap exception - never a crash - and afterwards the same credential and
context still work."""

from __future__ import annotations

import contextlib
import mmap
import os
import random
from typing import Any, Callable

import pytest
from conftest import krbap_tokens, mit_initiator

import krbap

NOT_BYTES: list[Any] = [None, "a str", 42, 4.2, [1, 2], object(), krbap.Flags.MUTUAL]


@pytest.mark.parametrize("bad", NOT_BYTES, ids=lambda v: type(v).__name__)
def test_tokens_must_be_bytes(acceptor: krbap.AcceptorCredential, bad: Any) -> None:
    with pytest.raises(TypeError):
        acceptor.accept(bad)


def test_bytes_like_inputs(acceptor: krbap.AcceptorCredential) -> None:
    a, b = krbap_tokens(2)
    acceptor.accept(bytearray(a)).close()
    with acceptor.accept(memoryview(b)) as ctx:
        assert ctx.client_name == "alice@TEST.LOCAL"


def test_huge_buffers_are_refused_before_any_copy(acceptor: krbap.AcceptorCredential) -> None:
    """A buffer over KRBAP_MAX_BUFFER (1 GiB): ValueError, without touching its pages."""
    with mmap.mmap(-1, krbap.MAX_BUFFER + 1) as m:
        view = memoryview(m)
        try:
            with pytest.raises(ValueError, match="KRBAP_MAX_BUFFER"):
                acceptor.accept(view)
            _, token = mit_initiator("test@localhost")
            with acceptor.accept(token) as ctx:
                with pytest.raises(ValueError):
                    ctx.wrap(view)
                with pytest.raises(ValueError):
                    ctx.verify_mic(b"x", view)
        finally:
            view.release()


def test_empty_token(acceptor: krbap.AcceptorCredential) -> None:
    with pytest.raises(krbap.DefectiveTokenError):
        acceptor.accept(b"")


def test_context_arguments(acceptor: krbap.AcceptorCredential) -> None:
    _, token = mit_initiator("test@localhost")
    with acceptor.accept(token) as ctx:
        for call in (
            lambda: ctx.wrap(None),  # type: ignore[arg-type]
            lambda: ctx.unwrap("str"),  # type: ignore[arg-type]
            lambda: ctx.get_mic(1),  # type: ignore[arg-type]
            lambda: ctx.verify_mic(b"m", None),  # type: ignore[arg-type]
            lambda: ctx.set_time("now"),  # type: ignore[arg-type]
        ):
            with pytest.raises(TypeError):
                call()
        with pytest.raises(ValueError):
            ctx.set_time(1 << 64)
        with pytest.raises(ValueError):
            ctx.wrap_size_limit(-1)
        with pytest.raises(ValueError):
            ctx.step(token)  # already established
        with pytest.raises(krbap.DefectiveTokenError):
            ctx.unwrap(b"")
        assert ctx.wrap_size_limit(65536) > 65000


def test_credential_arguments(keytab: str) -> None:
    with pytest.raises(TypeError):
        krbap.AcceptorCredential(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        krbap.AcceptorCredential("bad\0path")
    with pytest.raises(TypeError):
        krbap.AcceptorCredential(keytab, principal=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        krbap.AcceptorCredential(keytab, store=["keytab"])  # type: ignore[arg-type]
    with pytest.raises(krbap.KrbapError, match="unknown credential store element"):
        krbap.AcceptorCredential(keytab, store={"bogus": "x"})
    with pytest.raises(krbap.KrbapError) as e:
        krbap.AcceptorCredential(keytab, store={"keytab": keytab})
    assert e.value.major_name == "GSS_S_DUPLICATE_ELEMENT"
    with pytest.raises(krbap.KrbapError) as e:
        krbap.AcceptorCredential(keytab, replay_cache="nosuchtype:x")
    assert e.value.name == "KRB5_RC_TYPE_NOTFOUND"
    with krbap.AcceptorCredential(keytab) as cred:
        with pytest.raises(TypeError):
            cred.set_clock_skew("300")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            cred.set_time(None)  # type: ignore[arg-type]
    with krbap.AcceptorCredential.from_keys() as cred:
        with pytest.raises(krbap.KrbapError):
            cred.add_key("p@R", 1, 18, b"short")  # wrong key length for aes256
        with pytest.raises(krbap.KrbapError):
            cred.add_key("p@R", 1, 23, b"x" * 16)  # RC4: not supported
        with pytest.raises(ValueError):
            cred.add_key("p@R", -1, 18, b"x" * 32)
        with pytest.raises(TypeError):
            cred.add_key("p@R", 1, 18, "key")  # type: ignore[arg-type]


def test_name_and_initiator_arguments(initiator: krbap.InitiatorCredential) -> None:
    with pytest.raises(TypeError):
        krbap.Name(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        krbap.Name("a@B", "principal")  # type: ignore[arg-type]
    with pytest.raises(krbap.KrbapError):
        krbap.Name("a@B", 99)
    with pytest.raises(TypeError):
        krbap.InitiatorContext(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        krbap.InitiatorContext("test@localhost", credential="ccache")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        krbap.InitiatorContext("test@localhost", flags=-1)
    with pytest.raises(TypeError):
        krbap.InitiatorContext("test@localhost", channel_bindings=b"cb")  # type: ignore[arg-type]
    with krbap.InitiatorContext("test@localhost", credential=initiator) as ic:
        with pytest.raises(ValueError):
            ic.step(b"a token first")
        ic.step()
        with pytest.raises(ValueError):
            ic.step()  # the acceptor's token is needed now
        with pytest.raises(krbap.DefectiveTokenError):
            ic.step(b"garbage")
        assert ic.closed  # a failed step deletes the context, as in C


def test_closed_handles(keytab: str) -> None:
    cred = krbap.AcceptorCredential(keytab)
    cred.close()
    cred.close()
    with pytest.raises(ValueError, match="closed"):
        cred.accept(krbap_tokens(1)[0])
    name = krbap.Name("alice@TEST.LOCAL")
    name.close()
    with pytest.raises(ValueError, match="closed"):
        krbap.AcceptorCredential(keytab, principal=name)


def mutations(token: bytes, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(400):
        t = bytearray(token)
        kind = rng.randrange(4)
        if kind == 0:
            t[rng.randrange(len(t))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del t[rng.randrange(len(t)) :]
        elif kind == 2:
            i = rng.randrange(len(t))
            t[i:i] = os.urandom(rng.randrange(1, 64))
        else:
            t = bytearray(os.urandom(rng.randrange(0, 300)))
            if t:
                t[0] = 0x60
        out.append(bytes(t))
    return out


def test_mutated_tokens(acceptor: krbap.AcceptorCredential) -> None:
    """Mutated initial tokens, AP-REPs and Wrap/MIC tokens: krbap exceptions only; the
    credential and the contexts still work afterwards."""
    rng = random.Random(14)
    _, token = mit_initiator("test@localhost")
    for bad in mutations(token, rng):
        # Some mutations are accepted, rightly: the AP-REQ's ap-options and the ticket's
        # name-type are outside any checksum (MIT accepts them too). The authenticator is
        # then recorded, so the contexts below use a fresh token.
        with contextlib.suppress(krbap.KrbapError):
            acceptor.accept(bad).close()
    mit, token = mit_initiator("test@localhost")
    with acceptor.accept(token) as ctx:
        wrap = mit.step(ctx.output_token) or mit.wrap(b"hello", True).message
        mic = mit.get_signature(b"hello")
        calls: list[Callable[[bytes], object]] = [ctx.unwrap, lambda t: ctx.verify_mic(b"hello", t)]
        for call, good in zip(calls, (wrap, mic)):
            for bad in mutations(good, rng):
                if bad == good:
                    continue
                with contextlib.suppress(krbap.KrbapError):
                    call(bad)
        assert ctx.unwrap(wrap).message == b"hello"
        assert ctx.verify_mic(b"hello", mic) == 0
    with krbap.InitiatorContext("test@localhost") as ic:
        first = ic.step()
        with acceptor.accept(first) as ac:
            rep = ac.output_token
    for bad in mutations(rep, rng)[:100]:
        with krbap.InitiatorContext("test@localhost") as ic:
            ic.step()
            with contextlib.suppress(krbap.KrbapError):
                ic.step(bad)
    for fresh in krbap_tokens(3):
        acceptor.accept(fresh).close()
