"""Credentials from Python: the credential-store keys (ccache, client_keytab, keytab, rcache,
and any other passed through), a principal restriction, inquiry, and a file2 replay cache
shared with MIT's acceptor."""

from __future__ import annotations

from pathlib import Path

import gssapi
import pytest
from conftest import CLIENT, krbap_tokens, mit_acceptor, mit_initiator

import krbap


def test_client_keytab_obtains_a_tgt(realm: dict[str, str], tmp: Path) -> None:
    """No ccache yet: the client keytab's keys get a TGT from the KDC (AS exchange), stored
    in the ccache, and the service ticket follows (TGS exchange)."""
    ccache = tmp / "alice.ccache"
    with krbap.InitiatorCredential(ccache, client_keytab=realm["REALM_CLIENT_KEYTAB"]) as cred:
        assert cred.name == CLIENT
        assert cred.usage == krbap.Usage.INITIATE
        assert 0 < cred.lifetime <= 86400
        with krbap.InitiatorContext("test-aes128-sha256@localhost", credential=cred) as ctx:
            peer = mit_acceptor()
            assert ctx.step(peer.step(ctx.step())) == b""
            assert str(peer.initiator_name) == CLIENT
    assert ccache.stat().st_size > 0
    # MIT reads the ccache krbap wrote.
    creds = gssapi.Credentials(usage="initiate", store={b"ccache": f"FILE:{ccache}".encode()})
    assert str(creds.name) == CLIENT


def test_acceptor_inquiry(keytab: str) -> None:
    with krbap.AcceptorCredential(keytab) as cred:
        assert cred.usage == krbap.Usage.ACCEPT
        assert cred.lifetime == krbap.INDEFINITE
        assert cred.name is None  # any principal of the keytab
    principal = "test-aes256-sha1/localhost@TEST.LOCAL"
    with krbap.AcceptorCredential(keytab, principal=principal) as cred:
        assert cred.name == principal


def test_principal_restriction(keytab: str) -> None:
    with krbap.AcceptorCredential(keytab, principal="test-aes256-sha1/localhost@TEST.LOCAL") as c:
        _, token = mit_initiator("test-aes256-sha1@localhost")
        c.accept(token).close()
        _, token = mit_initiator("test@localhost")
        with pytest.raises(krbap.NoKeyError) as e:
            c.accept(token)
        assert e.value.name == "KRB5KRB_AP_ERR_NOT_US"


def test_store_elements_pass_through(keytab: str) -> None:
    """`store` carries credential-store elements as they are: here the replay cache."""
    token = krbap_tokens(1)[0]
    with krbap.AcceptorCredential(store={"keytab": keytab, "rcache": "none:"}) as cred:
        cred.accept(token).close()
        cred.accept(token).close()  # no replay cache: accepted again
    with krbap.AcceptorCredential(keytab) as cred:
        cred.set_replay_cache("none:")
        cred.accept(token).close()
        cred.set_replay_cache("memory:")
        cred.accept(token).close()
        with pytest.raises(krbap.ReplayError):
            cred.accept(token)


@pytest.mark.parametrize("first", ["krbap", "MIT"])
def test_file2_replay_cache_shared_with_mit(keytab: str, tmp: Path, first: str) -> None:
    """One MIT file2 replay cache for krbap's and MIT's acceptors: each refuses a token the
    other accepted."""
    rc = f"file2:{tmp / 'shared.rcache2'}"
    _, token = mit_initiator("test@localhost")
    mit_cred = gssapi.Credentials(usage="accept", store={b"rcache": rc.encode()})
    # python-gssapi's raw call: its high-level step returns an error's output token (MIT's
    # KRB-ERROR) and raises the error only at the context's next use.
    with krbap.AcceptorCredential(keytab, replay_cache=rc) as cred:
        if first == "krbap":
            cred.accept(token).close()
            with pytest.raises(gssapi.exceptions.GSSError, match="replay"):
                gssapi.raw.accept_sec_context(token, mit_cred, None, None)
        else:
            gssapi.raw.accept_sec_context(token, mit_cred, None, None)
            with pytest.raises(krbap.ReplayError):
                cred.accept(token)
