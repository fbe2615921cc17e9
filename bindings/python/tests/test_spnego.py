"""SPNEGO (RFC 4178) from Python: MIT's SPNEGO initiator (python-gssapi) -> krbap's
acceptor and krbap's SPNEGO initiator -> MIT's acceptor, for every service (session
enctype), mutual and not, with Wrap/MIC both ways over the negotiated Kerberos context;
the mechanism of each context; a failure's reject token read by MIT."""

from __future__ import annotations

import time
from typing import Any, Optional

import gssapi
import pytest
from conftest import CLIENT, SERVICES, mit_acceptor

import krbap
from krbap import status

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")


def mit_spnego_initiator(service: str, mutual: bool = True) -> tuple[Any, bytes]:
    flags = [
        gssapi.RequirementFlag.replay_detection,
        gssapi.RequirementFlag.out_of_sequence_detection,
        gssapi.RequirementFlag.confidentiality,
        gssapi.RequirementFlag.integrity,
    ]
    if mutual:
        flags.append(gssapi.RequirementFlag.mutual_authentication)
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, usage="initiate", flags=flags, mech=SPNEGO)
    return ctx, ctx.step()


def messages(ours: krbap.SecurityContext, mit: Any) -> None:
    for conf in (True, False):
        w = mit.wrap(b"from MIT", conf)
        u = ours.unwrap(w.message)
        assert (u.message, u.confidential) == (b"from MIT", conf)
        assert mit.unwrap(ours.wrap(b"from krbap", conf)).message == b"from krbap"
    mit.verify_signature(b"m", ours.get_mic(b"m"))
    assert ours.verify_mic(b"n", mit.get_signature(b"n")) == 0


@pytest.mark.parametrize("mutual", [True, False], ids=["mutual", "nomutual"])
@pytest.mark.parametrize("service,principal,enctype", SERVICES, ids=[s[0] for s in SERVICES])
def test_mit_spnego_initiator_to_krbap(
    acceptor: krbap.AcceptorCredential,
    service: str,
    principal: str,
    enctype: Optional[int],
    mutual: bool,
) -> None:
    mit, token = mit_spnego_initiator(service, mutual)
    with acceptor.accept(token) as ctx:
        # Kerberos is MIT's first choice: one leg, and the answer must still go back.
        assert ctx.complete
        assert ctx.mech == krbap.Mech.SPNEGO
        assert ctx.output_token
        assert ctx.client_name == CLIENT
        assert ctx.target_name == principal
        if enctype is not None:
            assert ctx.session_enctype == enctype
        assert bool(ctx.flags & krbap.Flags.MUTUAL) == mutual
        reply = mit.step(ctx.output_token)
        assert mit.complete and not reply
        messages(ctx, mit)


@pytest.mark.parametrize("mutual", [True, False], ids=["mutual", "nomutual"])
@pytest.mark.parametrize("service,principal,enctype", SERVICES, ids=[s[0] for s in SERVICES])
def test_krbap_spnego_initiator_to_mit(
    initiator: krbap.InitiatorCredential,
    service: str,
    principal: str,
    enctype: Optional[int],
    mutual: bool,
) -> None:
    flags = krbap.Flags.SEQUENCE | krbap.Flags.REPLAY | krbap.Flags.CONF | krbap.Flags.INTEG
    if mutual:
        flags |= krbap.Flags.MUTUAL
    with krbap.InitiatorContext(
        service, credential=initiator, flags=flags, mech=krbap.Mech.SPNEGO
    ) as ctx:
        token = ctx.step()
        assert not ctx.complete  # SPNEGO always waits for the acceptor's answer
        mit = mit_acceptor()
        rounds = 0
        while not ctx.complete:
            reply = mit.step(token)
            token = ctx.step(reply)
            rounds += 1
            assert rounds < 4
        if token:  # a last token (mechListMIC) goes to the acceptor too
            mit.step(token)
        assert mit.complete
        assert ctx.mech == krbap.Mech.SPNEGO
        assert str(mit.initiator_name) == CLIENT
        assert ctx.target_name == principal
        if enctype is not None:
            assert ctx.session_enctype == enctype
        messages(ctx, mit)


def test_krbap_spnego_both_sides(
    acceptor: krbap.AcceptorCredential, initiator: krbap.InitiatorCredential
) -> None:
    with krbap.InitiatorContext(
        "test@localhost", credential=initiator, mech=krbap.Mech.SPNEGO
    ) as ic:
        ac = acceptor.accept(ic.step())
        with ac:
            assert ac.complete and ac.mech == krbap.Mech.SPNEGO
            assert ic.step(ac.output_token) == b""
            assert ic.complete
            assert ac.unwrap(ic.wrap(b"x")).message == b"x"
    with krbap.InitiatorContext("test@localhost", credential=initiator) as ic:
        with acceptor.accept(ic.step()) as ac:
            assert ic.mech == ac.mech == krbap.Mech.KRB5


def test_spnego_failure_carries_the_reject(acceptor: krbap.AcceptorCredential) -> None:
    """A SPNEGO token refused (the acceptor's clock 10 minutes ahead): the exception has
    the reject (with the KRB-ERROR inside) and MIT's initiator reads the reason from it."""
    mit, token = mit_spnego_initiator("test@localhost")
    acceptor.set_time(int(time.time()) + 600)
    with pytest.raises(krbap.ClockSkewError) as e:
        acceptor.accept(token)
    reject = e.value.token
    assert reject
    # python-gssapi's step returns an error's output token (its own reject, for the peer)
    # and raises the error at the context's next use.
    with pytest.raises(gssapi.exceptions.GSSError) as mit_err:
        mit.step(reject)
        mit.complete  # noqa: B018
    assert "Clock skew too great" in str(mit_err.value)


def test_spnego_without_kerberos_is_bad_mech(acceptor: krbap.AcceptorCredential) -> None:
    # NegTokenInit listing only NTLM (1.3.6.1.4.1.311.2.2.10), no mech token.
    ntlm = bytes.fromhex("060a2b06010401823702020a")
    mech_list = b"\x30" + bytes([len(ntlm)]) + ntlm
    init = b"\xa0" + bytes([len(mech_list)]) + mech_list
    neg = b"\x30" + bytes([len(init)]) + init
    inner = b"\xa0" + bytes([len(neg)]) + neg
    oid = bytes.fromhex("06062b0601050502")
    token = b"\x60" + bytes([len(oid) + len(inner)]) + oid + inner
    with pytest.raises(krbap.KrbapError) as e:
        acceptor.accept(token)
    assert e.value.major & status.ROUTINE_ERROR_MASK == status.BAD_MECH
    assert e.value.name == "ERR_SPNEGO_NEGOTIATION_FAILED"


def test_mech_argument() -> None:
    with pytest.raises(TypeError):
        krbap.InitiatorContext("test@localhost", mech="spnego")  # type: ignore[arg-type]
    with pytest.raises(krbap.KrbapError) as e:
        krbap.InitiatorContext("test@localhost", mech=7).step()
    assert e.value.major & status.ROUTINE_ERROR_MASK == status.BAD_MECH
