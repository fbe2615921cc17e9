"""krbap against MIT's GSS-API (python-gssapi over libgssapi_krb5) in the same process:
krbap acceptor <- MIT initiator and krbap initiator -> MIT acceptor, for every service of the
realm (each AES session enctype and the default), mutual and not, Wrap (sealed and
integrity-only) and MIC both ways, delegation and channel bindings."""

from __future__ import annotations

from typing import Any, Optional

import gssapi
import pytest
from conftest import CLIENT, SERVICES, mit_acceptor, mit_initiator

import krbap


def exchange_messages(krbap_ctx: krbap.SecurityContext, mit_ctx: Any) -> None:
    """Wrap with and without confidentiality and MIC, each way, several in sequence."""
    for i, conf in enumerate((True, False, True)):
        msg = f"from MIT {i}".encode() * (i + 1)
        wrapped = mit_ctx.wrap(msg, conf)
        assert wrapped.encrypted == conf
        u = krbap_ctx.unwrap(wrapped.message)
        assert (u.message, u.confidential, u.supplementary) == (msg, conf, 0)
        msg = f"from krbap {i}".encode() * (i + 1)
        token = krbap_ctx.wrap(msg, confidential=conf)
        r = mit_ctx.unwrap(token)
        assert (r.message, r.encrypted) == (msg, conf)
        mic = krbap_ctx.get_mic(msg)
        mit_ctx.verify_signature(msg, mic)
        mic = mit_ctx.get_signature(msg)
        assert krbap_ctx.verify_mic(msg, mic) == 0
    # A message of 1 MiB each way, and the empty message.
    big = bytes(range(256)) * 4096
    assert krbap_ctx.unwrap(mit_ctx.wrap(big, True).message).message == big
    assert mit_ctx.unwrap(krbap_ctx.wrap(big)).message == big
    assert krbap_ctx.unwrap(mit_ctx.wrap(b"", True).message).message == b""
    assert mit_ctx.unwrap(krbap_ctx.wrap(b"")).message == b""


@pytest.mark.parametrize("mutual", [True, False], ids=["mutual", "nomutual"])
@pytest.mark.parametrize("service,principal,enctype", SERVICES, ids=[s[0] for s in SERVICES])
def test_mit_initiator_to_krbap_acceptor(
    acceptor: krbap.AcceptorCredential,
    service: str,
    principal: str,
    enctype: Optional[int],
    mutual: bool,
) -> None:
    mit, token = mit_initiator(service, mutual=mutual)
    with acceptor.accept(token) as ctx:
        assert ctx.complete
        assert ctx.client_name == CLIENT == ctx.initiator_name
        assert ctx.target_name == principal
        assert bool(ctx.flags & krbap.Flags.MUTUAL) == mutual
        assert ctx.flags & krbap.Flags.REPLAY and ctx.flags & krbap.Flags.SEQUENCE
        if enctype is not None:
            assert ctx.session_enctype == enctype
        assert 0 < ctx.lifetime <= 86400 + 300  # the ticket's end plus the clock skew, as MIT
        if mutual:
            assert ctx.output_token
            assert mit.step(ctx.output_token) is None
        else:
            assert ctx.output_token == b""
        assert mit.complete
        assert str(mit.initiator_name) == CLIENT
        exchange_messages(ctx, mit)


@pytest.mark.parametrize("mutual", [True, False], ids=["mutual", "nomutual"])
@pytest.mark.parametrize("service,principal,enctype", SERVICES, ids=[s[0] for s in SERVICES])
def test_krbap_initiator_to_mit_acceptor(
    initiator: krbap.InitiatorCredential,
    service: str,
    principal: str,
    enctype: Optional[int],
    mutual: bool,
) -> None:
    flags = krbap.Flags.SEQUENCE | krbap.Flags.REPLAY | krbap.Flags.CONF | krbap.Flags.INTEG
    if mutual:
        flags |= krbap.Flags.MUTUAL
    with krbap.InitiatorContext(service, credential=initiator, flags=flags) as ctx:
        token = ctx.step()
        assert ctx.complete != mutual
        mit = mit_acceptor()
        reply = mit.step(token)
        assert mit.complete
        assert str(mit.initiator_name) == CLIENT
        assert bool(mit.actual_flags & gssapi.RequirementFlag.mutual_authentication) == mutual
        if mutual:
            assert reply
            assert ctx.step(reply) == b""
        else:
            assert not reply
        assert ctx.complete
        assert ctx.initiator_name == CLIENT
        assert ctx.target_name == principal
        if enctype is not None:
            assert ctx.session_enctype == enctype
        exchange_messages(ctx, mit)


def test_krbap_to_krbap(
    acceptor: krbap.AcceptorCredential, initiator: krbap.InitiatorCredential
) -> None:
    for service, _, enctype in SERVICES:
        with krbap.InitiatorContext(service, credential=initiator) as ic:
            with acceptor.accept(ic.step()) as ac:
                assert ic.step(ac.output_token) == b""
                assert ic.complete and ac.complete
                if enctype is not None:
                    assert ac.session_enctype == ic.session_enctype == enctype
                assert ac.unwrap(ic.wrap(b"ping")).message == b"ping"
                assert ic.unwrap(ac.wrap(b"pong")).message == b"pong"
                assert ic.verify_mic(b"m", ac.get_mic(b"m")) == 0


def test_mit_delegates_to_krbap(acceptor: krbap.AcceptorCredential, tmp: Any) -> None:
    """MIT delegates its TGT; krbap stores it; krbap's initiator then uses the stored ccache
    to authenticate as alice to MIT's acceptor (what a delegating web app does)."""
    _, token = mit_initiator("test@localhost", delegate=True)
    with acceptor.accept(token) as ctx:
        assert ctx.flags & krbap.Flags.DELEG
        deleg = ctx.delegated_credential
        assert deleg is not None
        assert deleg.name == CLIENT
        assert 0 < deleg.lifetime <= 86400
        path = tmp / "delegated.ccache"
        deleg.store(f"FILE:{path}")
        deleg.close()
    with krbap.InitiatorCredential(path) as cred:
        assert cred.name == CLIENT
        with krbap.InitiatorContext("test-aes256-sha1@localhost", credential=cred) as ic:
            peer = mit_acceptor()
            assert ic.step(peer.step(ic.step())) == b""
            assert str(peer.initiator_name) == CLIENT


def test_krbap_delegates_to_mit(initiator: krbap.InitiatorCredential) -> None:
    flags = krbap.Flags.MUTUAL | krbap.Flags.DELEG
    with krbap.InitiatorContext("test@localhost", credential=initiator, flags=flags) as ctx:
        mit = mit_acceptor()
        ctx.step(mit.step(ctx.step()))
        assert ctx.flags & krbap.Flags.DELEG
        assert mit.delegated_creds is not None
        assert str(mit.delegated_creds.name) == CLIENT


def test_no_delegation_without_the_flag(acceptor: krbap.AcceptorCredential) -> None:
    _, token = mit_initiator("test@localhost", delegate=False)
    with acceptor.accept(token) as ctx:
        assert not ctx.flags & krbap.Flags.DELEG
        assert ctx.delegated_credential is None


@pytest.mark.parametrize("direction", ["mit->krbap", "krbap->mit"])
def test_channel_bindings(
    acceptor: krbap.AcceptorCredential, initiator: krbap.InitiatorCredential, direction: str
) -> None:
    app = b"tls-server-end-point:" + bytes(range(32))
    mit_cb = gssapi.raw.ChannelBindings(application_data=app)
    cb = krbap.ChannelBindings(application_data=app)
    other = krbap.ChannelBindings(application_data=app[:-1] + b"\x00")
    if direction == "mit->krbap":
        mit, token = mit_initiator("test@localhost", channel_bindings=mit_cb)
        with acceptor.accept(token, channel_bindings=cb) as ctx:
            mit.step(ctx.output_token)
        _, token = mit_initiator("test@localhost", channel_bindings=mit_cb)
        with pytest.raises(krbap.BadBindingsError):
            acceptor.accept(token, channel_bindings=other)
    else:
        with krbap.InitiatorContext(
            "test@localhost", credential=initiator, channel_bindings=cb
        ) as ic:
            peer = gssapi.SecurityContext(
                usage="accept", creds=gssapi.Credentials(usage="accept"), channel_bindings=mit_cb
            )
            ic.step(peer.step(ic.step()))
            assert ic.complete and peer.complete
        with krbap.InitiatorContext(
            "test@localhost", credential=initiator, channel_bindings=other
        ) as ic:
            # The raw call: python-gssapi's high-level step returns an error's output token
            # (MIT's KRB-ERROR) and raises the error only at the context's next use.
            with pytest.raises(gssapi.exceptions.BadChannelBindingsError):
                gssapi.raw.accept_sec_context(
                    ic.step(), gssapi.Credentials(usage="accept"), None, mit_cb
                )


def test_authorization_data_and_pac(acceptor: krbap.AcceptorCredential) -> None:
    """MIT's KDC puts a PAC into every ticket (krb5 1.20+), inside AD-IF-RELEVANT; MIT's
    initiator adds its enctype list (ad-type 129, RFC 4537) to the authenticator."""
    # A service whose session enctype is not the client's first choice, so that MIT's
    # initiator sends its enctype list (RFC 4537).
    _, token = mit_initiator("test-aes128-sha1@localhost")
    with acceptor.accept(token) as ctx:
        ad = ctx.authorization_data
        by_type = {e.ad_type: e for e in ad}
        assert by_type[128].from_ticket  # AD-WIN2K-PAC
        assert not by_type[129].from_ticket  # AD-ETYPE-NEGOTIATION, from the authenticator
        assert ctx.pac_data == by_type[128].data
        # PACTYPE header: cBuffers (LE32), Version 0.
        assert int.from_bytes(ctx.pac_data[:4], "little") >= 4
        assert ctx.pac_data[4:8] == b"\0\0\0\0"


def test_sequence_and_replay_of_wrap_tokens(acceptor: krbap.AcceptorCredential) -> None:
    mit, token = mit_initiator("test@localhost")
    with acceptor.accept(token) as ctx:
        mit.step(ctx.output_token)
        t1, t2, t3 = (mit.wrap(b"%d" % i, True).message for i in range(3))
        assert ctx.unwrap(t1).supplementary == 0
        assert ctx.unwrap(t3).supplementary == krbap.Supplementary.GAP_TOKEN
        assert ctx.unwrap(t2).supplementary == krbap.Supplementary.UNSEQ_TOKEN
        with pytest.raises(krbap.ReplayError) as e:
            ctx.unwrap(t2)
        assert e.value.major & 2  # GSS_S_DUPLICATE_TOKEN
        # The context still works afterwards.
        assert ctx.unwrap(mit.wrap(b"next", True).message).message == b"next"
