"""The PAC from Python (ctx.pac over krbap_ctx_get_pac / krbap_pac_*): PACs of the live MIT
realm's KDC (server signature per enctype; KDC and ticket signatures with the krbtgt key),
the Samba AD DC fixtures of tests/data/samba-ad (identity, SIDs, groups, times, delegation,
raw buffers and signatures, field by field against what Samba's own decoder says), the
PAC policies (REQUIRE, ALLOW_UNVERIFIED with the reason), imported PACs and bad input.
Also the memory replay cache's cap and counters."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any, Optional

import pytest
from conftest import CLIENT, REPO, SERVICES, krbap_tokens, mit_initiator

import krbap
from krbap import BufferType, GroupAttributes, GroupSource, PacField, PacPolicy, PacVerified

SAMBA = REPO / "tests/data/samba-ad"
ALL_SIGNATURES = (
    PacVerified.SERVER_SIGNATURE
    | PacVerified.KDC_SIGNATURE
    | PacVerified.TICKET_SIGNATURE
    | PacVerified.FULL_SIGNATURE
)
# The server signature type each service's key implies (MS-PAC §2.8.1; RFC 8009 for SHA-2).
SERVER_CHECKSUM = {
    "test": 16,
    "test-aes256-sha1": 16,
    "test-aes128-sha1": 15,
    "test-aes256-sha384": 20,
    "test-aes128-sha256": 19,
}


def kadmin(query: str) -> None:
    subprocess.run(
        ["kadmin.local", "-r", "TEST.LOCAL", "-q", query],
        capture_output=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def krbtgt_keytab(realm: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("krbtgt") / "krbtgt.keytab"
    kadmin(f"ktadd -k {path} -norandkey krbtgt/TEST.LOCAL")
    return str(path)


# --- the live MIT realm ------------------------------------------------------------------


@pytest.mark.parametrize("service,principal,enctype", SERVICES, ids=[s[0] for s in SERVICES])
def test_mit_kdc_pac(
    keytab: str, krbtgt_keytab: str, service: str, principal: str, enctype: Optional[int]
) -> None:
    _, token = mit_initiator(service)
    with krbap.AcceptorCredential(keytab) as cred, cred.accept(token) as ctx:
        pac = ctx.pac
        assert pac is not None
        with pac:
            assert pac.verified == PacVerified.SERVER_SIGNATURE
            assert pac.verification_failure == ""
            assert pac.client_name == CLIENT.split("@")[0]
            assert abs((pac.client_id or 0) - time.time()) < 86400  # the authtime
            sig = pac.signature(BufferType.SERVER_CHECKSUM)
            assert sig is not None and sig.type == SERVER_CHECKSUM[service.split("@")[0]]
            kdc_sig = pac.signature(BufferType.PRIVSVR_CHECKSUM)
            assert kdc_sig is not None and len(kdc_sig.signature) == 12
            # An MIT KDC's PAC has no LOGON_INFO: no SIDs, no groups.
            assert pac.user_sid is None and pac.groups == [] and pac.domain is None
            assert pac.number(PacField.USER_ID) is None
            types = [b.type for b in pac.buffers]
            assert BufferType.CLIENT_INFO in types and BufferType.SERVER_CHECKSUM in types
            assert pac.find_buffer(BufferType.LOGON_INFO) is None
            client_info = pac.find_buffer(BufferType.CLIENT_INFO)
            assert client_info is not None and client_info.endswith("alice".encode("utf-16-le"))
            raw = ctx.pac_data
        # The ticket's raw PAC, imported: the same content, nothing verified.
        assert raw is not None
        with krbap.Pac.from_bytes(raw) as imported:
            assert imported.verified == PacVerified(0)
            assert imported.client_name == "alice"
            assert [b.type for b in imported.buffers] == types
        # With the KDC's key, the KDC and ticket signatures verify too (MIT 1.20 makes no
        # full signature).
        cred.set_pac_kdc_keytab(krbtgt_keytab)
        _, token = mit_initiator(service)
        with cred.accept(token) as ctx2, ctx2.pac as pac2:  # type: ignore[union-attr]
            assert pac2.verified == (
                PacVerified.SERVER_SIGNATURE
                | PacVerified.KDC_SIGNATURE
                | PacVerified.TICKET_SIGNATURE
            )


def test_pac_policies(
    realm: dict[str, str], keytab: str, tmp_path: Path, krbtgt_keytab: str
) -> None:
    # A service whose tickets carry no PAC (+no_auth_data_required).
    nopac = tmp_path / "nopac.keytab"
    kadmin("addprinc -randkey +no_auth_data_required nopac/localhost")
    kadmin(f"ktadd -k {nopac} nopac/localhost")
    with krbap.AcceptorCredential(str(nopac)) as cred:
        token = krbap_tokens(1, "nopac@localhost")[0]
        with cred.accept(token) as ctx:
            assert ctx.pac is None and ctx.pac_data is None
        cred.set_pac_policy(PacPolicy.REQUIRE)
        with pytest.raises(krbap.KrbapError) as e:
            cred.accept(krbap_tokens(1, "nopac@localhost")[0])
        assert e.value.name == "ENOENT"
    # A KDC key that is not the KDC's: the KDC signature fails. VERIFY refuses the ticket;
    # ALLOW_UNVERIFIED (MIT's behaviour) accepts it and says why the PAC is unverified.
    with krbap.AcceptorCredential(keytab) as cred:
        cred.set_pac_kdc_keytab(keytab)
        with pytest.raises(krbap.KrbapError) as e:
            cred.accept(krbap_tokens(1)[0])
        assert "PAC" in str(e.value)
        cred.set_pac_policy(PacPolicy.ALLOW_UNVERIFIED)
        with cred.accept(krbap_tokens(1)[0]) as ctx, ctx.pac as pac:  # type: ignore[union-attr]
            assert pac.verified == PacVerified(0)
            assert "signature" in pac.verification_failure.lower()
            assert pac.client_name == "alice"  # the content is still there to look at
        cred.set_pac_kdc_keytab(None)
        cred.set_pac_policy(PacPolicy.VERIFY)
        with cred.accept(krbap_tokens(1)[0]) as ctx, ctx.pac as pac:  # type: ignore[union-attr]
            assert pac.verified == PacVerified.SERVER_SIGNATURE
        with pytest.raises(ValueError):
            cred.set_pac_policy(7)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            cred.set_pac_policy("VERIFY")  # type: ignore[arg-type]


# --- Samba AD DC fixtures ----------------------------------------------------------------

SAMBA_CASES = {
    # case: (keytab of the service the token is for)
    "alice": "svc.keytab",
    "bob": "svc.keytab",
    "carol": "svc.keytab",
    "s4u2proxy": "ws1.keytab",
}


def samba_time(case: str) -> int:
    for line in (SAMBA / "times.txt").read_text().splitlines():
        name, _, t = line.partition(" ")
        if name == case:
            return int(t)
    raise KeyError(case)


def samba_view(case: str) -> list[tuple[str, str]]:
    out = []
    for line in (SAMBA / f"{case}.samba.txt").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        out.append((key, value))
    return out


# samba.txt keys that name a PacField differently
RENAMED = {
    "logon.logon_domain_id": PacField.LOGON_DOMAIN_SID,
    "client.name": PacField.CLIENT_NAME,
    "upn.upn": PacField.UPN,
    "upn.dns_domain": PacField.DNS_DOMAIN,
    "upn.flags": PacField.UPN_FLAGS,
    "upn.sam_name": PacField.SAM_NAME,
    "upn.sid": PacField.UPN_SID,
    "deleg.proxy_target": PacField.PROXY_TARGET,
    "deleg.transited_count": PacField.TRANSITED_COUNT,
}


def check_against_samba(pac: krbap.Pac, case: str) -> int:
    """Every line of <case>.samba.txt against the Pac; returns how many were checked."""
    checked = 0
    groups = pac.groups
    want_groups: list[tuple[str, int, GroupSource]] = []
    domain_sid = pac.domain_sid
    for key, value in samba_view(case):
        name = key.partition(".")[2].upper()
        field: Any = RENAMED.get(key) or getattr(PacField, name, None)
        if key == "buffers":
            got = " ".join(f"{int(b.type)}/{len(b.data)}" for b in pac.buffers)
            assert got == value, key
        elif key == "logon.group_id":
            rid, attrs = value.split()
            want_groups.append((f"{domain_sid}-{rid}", int(attrs, 16), GroupSource.GROUP_IDS))
        elif key == "logon.extra_sid":
            sid, attrs = value.split()
            want_groups.append((sid, int(attrs, 16), GroupSource.EXTRA_SIDS))
        elif key == "logon.resource_group_id":
            rid, attrs = value.split()
            resource_sid = pac.string(PacField.RESOURCE_GROUP_DOMAIN_SID)
            want_groups.append(
                (f"{resource_sid}-{rid}", int(attrs, 16), GroupSource.RESOURCE_GROUPS)
            )
        elif key == "logon.reserved1":
            assert value == f"{pac.number(PacField.RESERVED1_0)} {pac.number(PacField.RESERVED1_1)}"
        elif key == "deleg.transited":
            assert value in pac.transited
        elif key.startswith("signature."):
            sig = pac.signature(int(key.split(".")[1]))
            stype, hexsig = value.split()
            assert sig is not None and (sig.type, sig.signature.hex()) == (int(stype), hexsig)
        elif field is None:
            raise AssertionError(f"{case}: no PacField for {key}")
        elif field >= 100:
            got_s = pac.string(field)
            assert (got_s if got_s is not None else "-") == value, key
        else:
            assert pac.number(field) == int(value, 0), key
        checked += 1
    assert [(g.sid, int(g.attributes), g.source) for g in groups] == want_groups
    return checked


@pytest.mark.parametrize("case", list(SAMBA_CASES))
def test_samba_ad_pacs(case: str) -> None:
    with krbap.AcceptorCredential(str(SAMBA / SAMBA_CASES[case])) as cred:
        cred.set_time(samba_time(case))
        cred.set_replay_cache("none:")
        cred.set_pac_policy(PacPolicy.REQUIRE)
        cred.set_pac_kdc_keytab(str(SAMBA / "krbtgt.keytab"))
        token = (SAMBA / f"{case}.token").read_bytes()
        with cred.accept(token) as ctx, ctx.pac as pac:  # type: ignore[union-attr]
            assert pac.verified == ALL_SIGNATURES
            assert check_against_samba(pac, case) > 40
            # The typed view of the same fields.
            sids = dict(
                line.split("=", 1)
                for line in (SAMBA / "sids.txt").read_text().splitlines()
                if "=" in line
            )
            user = "alice" if case == "s4u2proxy" else case
            assert pac.user_sid == sids[f"SAMBA_SID_{user}"]
            assert pac.domain_sid == sids["SAMBA_DOMAIN_SID"]
            assert pac.primary_group_sid == sids["SAMBA_DOMAIN_SID"] + "-513"
            assert pac.domain == "ADTEST" and pac.dns_domain == "AD.TEST"
            assert pac.effective_name == user
            filetime = pac.number(PacField.LOGON_TIME)
            assert filetime is not None and pac.logon_time == filetime // 10**7 - 11644473600
            assert 0 <= samba_time(case) - pac.logon_time < 3600
            assert pac.time(PacField.LOGOFF_TIME) == krbap.pac.NEVER
            enabled = [g for g in pac.groups if g.attributes & GroupAttributes.ENABLED]
            assert enabled == pac.groups and len(pac.groups) >= 2
            if case == "alice":
                assert pac.upn == "alice@ad.test" and pac.full_name == "Alice Tester"
                assert pac.groups[-1].sid == "S-1-18-1"  # authentication authority asserted
            if case == "carol":
                assert pac.full_name == "Carol Ümläut 𝄞"
            if case == "s4u2proxy":
                assert pac.transited == ["svc@AD.TEST"]
                assert pac.proxy_target == "HTTP/ws1.ad.test"
                assert pac.groups[-1].sid == "S-1-18-2"  # service asserted identity
            # The raw PAC of the context, re-imported, decodes the same (unverified).
            raw = ctx.pac_data
            assert raw is not None
            with krbap.Pac.from_bytes(raw) as imported:
                assert imported.verified == PacVerified(0)
                assert check_against_samba(imported, case) > 40


def test_samba_pac_with_a_wrong_kdc_key() -> None:
    with krbap.AcceptorCredential(str(SAMBA / "svc.keytab")) as cred:
        cred.set_time(samba_time("alice"))
        cred.set_replay_cache("none:")
        cred.set_pac_kdc_keytab(str(SAMBA / "svc.keytab"))
        token = (SAMBA / "alice.token").read_bytes()
        with pytest.raises(krbap.KrbapError) as e:
            cred.accept(token)
        assert "PAC" in str(e.value)
        cred.set_pac_policy(PacPolicy.ALLOW_UNVERIFIED)
        with cred.accept(token) as ctx, ctx.pac as pac:  # type: ignore[union-attr]
            assert pac.verified == PacVerified(0) and pac.verification_failure
            assert pac.user_sid is not None


def test_pac_bad_input() -> None:
    with pytest.raises(TypeError):
        krbap.Pac()
    for bad in (b"", b"\x00" * 8, b"garbage" * 10, (SAMBA / "alice.pac").read_bytes()[:100]):
        with pytest.raises(krbap.KrbapError) as e:
            krbap.Pac.from_bytes(bad)
        assert e.value.name == "EINVAL" and e.value.message
    with pytest.raises(TypeError):
        krbap.Pac.from_bytes("PAC")  # type: ignore[arg-type]
    pac = krbap.Pac.from_bytes((SAMBA / "alice.pac").read_bytes())
    assert pac.effective_name == "alice" and pac.verified == PacVerified(0)
    with pytest.raises(ValueError):
        pac.number(PacField.UPN)
    with pytest.raises(ValueError):
        pac.string(PacField.USER_ID)
    with pytest.raises(TypeError):
        pac.number("USER_ID")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pac.find_buffer(-1)
    assert pac.find_buffer(BufferType.CLIENT_CLAIMS_INFO) is None
    assert pac.find_buffer(0xFFFFFFFF) is None
    assert pac.signature(BufferType.LOGON_INFO) is None  # not a signature buffer
    assert "alice" in repr(pac)
    pac.close()
    pac.close()
    assert pac.closed and "closed" in repr(pac)
    with pytest.raises(ValueError):
        _ = pac.user_sid


def test_pac_outlives_its_context(acceptor: krbap.AcceptorCredential) -> None:
    ctx = acceptor.accept(krbap_tokens(1)[0])
    pac = ctx.pac
    ctx.close()
    assert pac is not None and pac.client_name == "alice"
    with pytest.raises(ValueError):
        _ = ctx.pac
    del pac  # the finalizer releases it


# --- the memory replay cache's cap and counters ------------------------------------------


def token_at(unix_time: int) -> bytes:
    """A krbap initiator token whose authenticator says ``unix_time``."""
    with krbap.InitiatorCredential(os.environ["KRB5CCNAME"]) as cred:
        cred.set_time(unix_time)  # the clock of its contexts too
        with krbap.InitiatorContext("test@localhost", credential=cred, flags=krbap.Flags(0)) as ctx:
            return ctx.step()


def test_replay_cache_stats_and_cap(keytab: str) -> None:
    now = int(time.time())
    tokens = [token_at(now) for _ in range(5)]
    later = token_at(now + 40)  # the cache's next generation (37 s each)
    with krbap.AcceptorCredential(keytab) as cred:
        cred.set_time(now)
        stats = cred.replay_cache_stats()
        assert stats is not None and stats.entries == 0 and stats.stored == 0
        assert stats.max_bytes == 256 << 20  # the default cap
        for t in tokens[:4]:
            cred.accept(t).close()
        with pytest.raises(krbap.ReplayError):
            cred.accept(tokens[0])
        stats = cred.replay_cache_stats()
        assert stats is not None
        assert (stats.entries, stats.stored, stats.replays, stats.rejected_full) == (4, 4, 1, 0)
        assert stats.bytes > 0
        # A cap below what the cache holds: nothing is forgotten, and an authenticator that
        # needs more memory (a new generation) is refused.
        cred.set_replay_cache_max_bytes(1)
        cred.set_time(now + 40)
        with pytest.raises(krbap.KrbapError) as e:
            cred.accept(later)
        assert e.value.name == "KRB5_RC_MALLOC" and "cap of 1 bytes" in e.value.message
        with pytest.raises(krbap.ReplayError):
            cred.accept(tokens[1])  # still remembered
        stats = cred.replay_cache_stats()
        assert stats is not None
        assert (stats.max_bytes, stats.rejected_full, stats.replays) == (1, 1, 2)
        cred.set_replay_cache_max_bytes(0)  # the default again: `later` was refused, not stored
        cred.accept(later).close()
        stats = cred.replay_cache_stats()
        assert stats is not None and stats.max_bytes == 256 << 20 and stats.entries == 5
        for bad in (-1, 1 << 64):
            with pytest.raises(ValueError):
                cred.set_replay_cache_max_bytes(bad)
        with pytest.raises(TypeError):
            cred.set_replay_cache_max_bytes(1.5)  # type: ignore[arg-type]
        assert cred.replay_cache_name == "memory:"
        # Not a memory cache: no counters, and no cap to set.
        cred.set_replay_cache("none:")
        assert cred.replay_cache_name == "none:"
        assert cred.replay_cache_stats() is None
        with pytest.raises(krbap.KrbapError):
            cred.set_replay_cache_max_bytes(1 << 20)
