"""Every exception class, raised by a real failure: captured replays, a skewed clock, an
expired ticket, the wrong key, a missing kvno or principal, no credentials, a broken token,
different channel bindings. Each carries the major status, MIT's minor code, its name and
MIT's text; an acceptor's failure carries the KRB-ERROR that MIT's initiator understands."""

from __future__ import annotations

import os
import time
from pathlib import Path

import gssapi
import pytest
from conftest import krbap_tokens, mit_initiator

import krbap
from krbap import status

KRB5 = -1765328384


def test_replay_of_an_mit_token(acceptor: krbap.AcceptorCredential) -> None:
    _, token = mit_initiator("test@localhost")
    acceptor.accept(token).close()
    with pytest.raises(krbap.ReplayError) as e:
        acceptor.accept(token)
    err = e.value
    assert err.major == status.FAILURE | status.DUPLICATE_TOKEN
    assert err.major_name == "GSS_S_FAILURE|GSS_S_DUPLICATE_TOKEN"
    assert err.minor == KRB5 + 34 == -1765328350
    assert err.name == "KRB5KRB_AP_ERR_REPEAT"
    assert err.message.startswith("Request is a replay")
    assert "KRB5KRB_AP_ERR_REPEAT" in str(err)
    assert err.token  # a KRB-ERROR for the initiator, as MIT sends


def test_replay_shared_through_a_file2_cache(keytab: str, tmp: Path) -> None:
    """Two credentials (two processes' worth) on one MIT file2 replay cache."""
    rc = f"file2:{tmp / 'app.rcache2'}"
    token = krbap_tokens(1)[0]
    with krbap.AcceptorCredential(keytab, replay_cache=rc) as a:
        a.accept(token).close()
    with krbap.AcceptorCredential(keytab, replay_cache=rc) as b:
        with pytest.raises(krbap.ReplayError):
            b.accept(token)


def test_clock_skew(acceptor: krbap.AcceptorCredential) -> None:
    mit, token = mit_initiator("test@localhost")
    acceptor.set_time(int(time.time()) + 421)
    with pytest.raises(krbap.ClockSkewError) as e:
        acceptor.accept(token)
    err = e.value
    assert err.major == status.FAILURE
    assert (err.minor, err.name) == (KRB5 + 37, "KRB5KRB_AP_ERR_SKEW")
    assert err.message.startswith("Clock skew too great")
    assert "421 s from ours, 300 s allowed" in err.message
    # MIT's initiator reads krbap's KRB-ERROR and reports the same cause.
    with pytest.raises(gssapi.exceptions.GSSError) as mit_err:
        mit.step(err.token)
    assert "Clock skew too great" in str(mit_err.value)
    # A wider skew accepts the same token (it was not recorded as seen).
    acceptor.set_clock_skew(600)
    acceptor.accept(token).close()


def test_ticket_not_yet_valid(acceptor: krbap.AcceptorCredential) -> None:
    _, token = mit_initiator("test@localhost")
    # Ticket times are checked before the authenticator's (as MIT reports them).
    acceptor.set_time(int(time.time()) - 86400)
    with pytest.raises(krbap.ClockSkewError) as e:
        acceptor.accept(token)
    assert e.value.name == "KRB5KRB_AP_ERR_TKT_NYV"


def test_expired_ticket(acceptor: krbap.AcceptorCredential) -> None:
    _, token = mit_initiator("test@localhost")
    acceptor.set_time(int(time.time()) + 2 * 86400)
    with pytest.raises(krbap.ExpiredError) as e:
        acceptor.accept(token)
    assert e.value.major == status.CREDENTIALS_EXPIRED
    assert e.value.name == "KRB5KRB_AP_ERR_TKT_EXPIRED"
    assert e.value.message.startswith("Ticket expired")


def test_expired_context(acceptor: krbap.AcceptorCredential) -> None:
    _, token = mit_initiator("test@localhost")
    with acceptor.accept(token) as ctx:
        end = ctx.ticket_end_time
        ctx.set_time(end + 3600)  # past the end plus the clock skew
        with pytest.raises(krbap.ExpiredError) as e:
            ctx.lifetime  # noqa: B018
        assert e.value.major & status.ROUTINE_ERROR_MASK == status.CONTEXT_EXPIRED
        with pytest.raises(krbap.ExpiredError):
            ctx.wrap(b"too late")


def test_wrong_key(keytab: str) -> None:
    """A keytab key of the right principal, kvno and enctype, but not the KDC's."""
    _, token = mit_initiator("test-aes256-sha1@localhost")
    with krbap.AcceptorCredential.from_keys() as cred:
        cred.add_key("test-aes256-sha1/localhost@TEST.LOCAL", 1, krbap.Enctype(18), os.urandom(32))
        with pytest.raises(krbap.BadIntegrityError) as e:
            cred.accept(token)
    assert e.value.major == status.FAILURE
    assert e.value.name == "KRB5KRB_AP_ERR_BAD_INTEGRITY"


def test_missing_kvno_and_principal() -> None:
    _, token = mit_initiator("test-aes256-sha1@localhost")
    with krbap.AcceptorCredential.from_keys() as cred:
        cred.add_key("test-aes256-sha1/localhost@TEST.LOCAL", 7, 18, os.urandom(32))
        with pytest.raises(krbap.NoKeyError) as e:
            cred.accept(token)
        assert e.value.name == "KRB5KRB_AP_ERR_BADKEYVER"
    with krbap.AcceptorCredential.from_keys() as cred:
        cred.add_key("other/localhost@TEST.LOCAL", 1, 18, os.urandom(32))
        with pytest.raises(krbap.NoKeyError) as e:
            cred.accept(token)
        assert e.value.name == "KRB5KRB_AP_ERR_NOT_US"
    with krbap.AcceptorCredential.from_keys() as cred:
        cred.add_key("test-aes256-sha1/localhost@TEST.LOCAL", 1, 17, os.urandom(16))
        with pytest.raises(krbap.NoKeyError) as e:
            cred.accept(token)
        assert e.value.name == "KRB5KRB_AP_ERR_NOKEY"


def test_no_credentials(tmp: Path) -> None:
    with pytest.raises(krbap.NoCredentialsError) as e:
        krbap.InitiatorCredential(tmp / "no-such-ccache")
    assert e.value.major & status.ROUTINE_ERROR_MASK == status.NO_CRED
    assert e.value.name is not None
    with pytest.raises(krbap.NoCredentialsError):
        krbap.AcceptorCredential(tmp / "no-such-keytab")


def test_defective_token(acceptor: krbap.AcceptorCredential) -> None:
    with pytest.raises(krbap.DefectiveTokenError) as e:
        acceptor.accept(b"not a token at all")
    assert e.value.major == status.DEFECTIVE_TOKEN
    assert e.value.name == "G_BAD_TOK_HEADER"
    with pytest.raises(krbap.DefectiveTokenError) as e:
        acceptor.accept(b"\x60\x03\x06\x01\x00")  # framing of another mechanism
    assert e.value.name == "G_WRONG_MECH"
    _, token = mit_initiator("test@localhost")
    with pytest.raises(krbap.DefectiveTokenError) as e:
        acceptor.accept(token[: len(token) // 2])
    assert e.value.name == "G_BAD_TOK_HEADER"
    # The AP-REQ cut short inside a correctly framed token: a DER error.
    with pytest.raises(krbap.DefectiveTokenError) as e:
        acceptor.accept(reframe(token, 200))
    assert e.value.name is not None and e.value.name.startswith("ASN1_")


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def reframe(token: bytes, keep: int) -> bytes:
    """The initial token with its inner part (OID, TOK_ID, AP-REQ) cut to ``keep`` bytes and
    the RFC 2743 framing's length fixed to match."""
    assert token[0] == 0x60
    n = token[1]
    header = 2 + (n & 0x7F if n & 0x80 else 0)
    inner = token[header : header + keep]
    return b"\x60" + der_length(len(inner)) + inner


def test_bad_bindings(
    acceptor: krbap.AcceptorCredential, initiator: krbap.InitiatorCredential
) -> None:
    with krbap.InitiatorContext(
        "test@localhost",
        credential=initiator,
        channel_bindings=krbap.ChannelBindings(b"tls-server-end-point:one"),
    ) as ic:
        with pytest.raises(krbap.BadBindingsError) as e:
            other = krbap.ChannelBindings(b"tls-server-end-point:two")
            acceptor.accept(ic.step(), channel_bindings=other)
    assert e.value.major == status.BAD_BINDINGS
    assert e.value.message == "Incorrect channel bindings were supplied"


def test_bad_integrity_of_messages(acceptor: krbap.AcceptorCredential) -> None:
    mit, token = mit_initiator("test@localhost")
    with acceptor.accept(token) as ctx:
        mit.step(ctx.output_token)
        wrapped = bytearray(mit.wrap(b"payload", True).message)
        wrapped[-1] ^= 1
        with pytest.raises(krbap.BadIntegrityError) as e:
            ctx.unwrap(bytes(wrapped))
        assert e.value.major == status.BAD_SIG
        assert e.value.name == "KRB5KRB_AP_ERR_BAD_INTEGRITY"
        mic = mit.get_signature(b"message")
        with pytest.raises(krbap.BadIntegrityError):
            ctx.verify_mic(b"messagE", mic)
        # Our own token reflected back: the direction is wrong.
        with pytest.raises(krbap.BadIntegrityError) as e:
            ctx.unwrap(ctx.wrap(b"reflected"))
        assert e.value.name == "G_BAD_DIRECTION"
        # The context is still good (the tampered Wrap token's sequence number never
        # arrived: a gap).
        assert ctx.verify_mic(b"message", mic) == krbap.Supplementary.GAP_TOKEN


def test_kdc_refusal_is_a_plain_krbap_error(initiator: krbap.InitiatorCredential) -> None:
    with krbap.InitiatorContext("nosuchservice@localhost", credential=initiator) as ic:
        with pytest.raises(krbap.KrbapError) as e:
            ic.step()
    assert type(e.value) is krbap.KrbapError
    assert e.value.name == "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN"
    assert e.value.message.startswith("Server not found in Kerberos database")


def test_mutual_authentication_failure(
    acceptor: krbap.AcceptorCredential, initiator: krbap.InitiatorCredential
) -> None:
    """An AP-REP from another context: the initiator refuses it and the context is gone."""
    with krbap.InitiatorContext("test@localhost", credential=initiator) as ic:
        ic.step()
        other = krbap.InitiatorContext("test@localhost", credential=initiator)
        with acceptor.accept(other.step()) as ac:
            with pytest.raises(krbap.KrbapError):
                ic.step(ac.output_token)
        assert ic.closed
        with pytest.raises(ValueError):
            ic.wrap(b"x")
