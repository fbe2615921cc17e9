"""Shared fixtures of the krbap Python tests.

The tests run against the installed package (tests/python.sh installs it into a venv with
pip) and a throwaway MIT realm (tests/interop/realm.sh): tests/python.sh starts one and
exports its environment; run alone, pytest starts its own here, before python-gssapi
(MIT's libgssapi_krb5, Debian's python3-gssapi) reads any configuration.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

REPO = Path(os.environ.get("KRBAP_REPO") or Path(__file__).resolve().parents[3])

# (host-based service name, principal, session enctype the KDC gives it or None)
SERVICES = [
    ("test@localhost", "test/localhost@TEST.LOCAL", None),
    ("test-aes256-sha1@localhost", "test-aes256-sha1/localhost@TEST.LOCAL", 18),
    ("test-aes128-sha1@localhost", "test-aes128-sha1/localhost@TEST.LOCAL", 17),
    ("test-aes256-sha384@localhost", "test-aes256-sha384/localhost@TEST.LOCAL", 20),
    ("test-aes128-sha256@localhost", "test-aes128-sha256/localhost@TEST.LOCAL", 19),
]
CLIENT = "alice@TEST.LOCAL"

_own_realm: Optional[Path] = None


def _load_env(path: Path) -> None:
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            os.environ[key] = shlex.split(value)[0] if value else ""


def pytest_configure(config: pytest.Config) -> None:
    global _own_realm
    if not os.environ.get("REALM_DIR"):
        _own_realm = Path(tempfile.mkdtemp(prefix="krbap-py-realm."))
        subprocess.run(
            [str(REPO / "tests/interop/realm.sh"), "start", str(_own_realm)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        _load_env(_own_realm / "env")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _own_realm is not None:
        subprocess.run(
            [str(REPO / "tests/interop/realm.sh"), "stop", str(_own_realm)],
            check=False,
            stdin=subprocess.DEVNULL,
        )
        subprocess.run(["rm", "-rf", str(_own_realm)], check=False)


@pytest.fixture(scope="session")
def realm() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(("REALM_", "KRB5"))}


@pytest.fixture(scope="session")
def http_keytab(realm: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The keys of HTTP/localhost (clients ask for HTTP@<the URL's host>)."""
    path = tmp_path_factory.mktemp("http") / "http.keytab"
    subprocess.run(
        ["kadmin.local", "-r", "TEST.LOCAL", "-q", "addprinc -randkey HTTP/localhost"],
        capture_output=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    subprocess.run(
        ["kadmin.local", "-r", "TEST.LOCAL", "-q", f"ktadd -k {path} HTTP/localhost"],
        capture_output=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return f"FILE:{path}"


@pytest.fixture()
def keytab(realm: dict[str, str]) -> str:
    return realm["REALM_SERVICE_KEYTAB"]


@pytest.fixture()
def acceptor(keytab: str) -> Iterator[Any]:
    import krbap

    with krbap.AcceptorCredential(keytab) as cred:
        yield cred


@pytest.fixture()
def initiator(realm: dict[str, str]) -> Iterator[Any]:
    import krbap

    with krbap.InitiatorCredential(realm["KRB5CCNAME"]) as cred:
        yield cred


@pytest.fixture()
def tmp(tmp_path: Path) -> Path:
    return tmp_path


def mit_initiator(
    service: str = "test@localhost",
    mutual: bool = True,
    delegate: bool = False,
    channel_bindings: Any = None,
) -> tuple[Any, bytes]:
    """An MIT (python-gssapi) initiator context toward ``service`` and its first token."""
    import gssapi

    flags = [
        gssapi.RequirementFlag.replay_detection,
        gssapi.RequirementFlag.out_of_sequence_detection,
        gssapi.RequirementFlag.confidentiality,
        gssapi.RequirementFlag.integrity,
    ]
    if mutual:
        flags.append(gssapi.RequirementFlag.mutual_authentication)
    if delegate:
        flags.append(gssapi.RequirementFlag.delegate_to_peer)
    name = gssapi.Name(service, gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(
        name=name, usage="initiate", flags=flags, channel_bindings=channel_bindings
    )
    return ctx, ctx.step()


def mit_acceptor() -> Any:
    """An MIT (python-gssapi) acceptor context with the default keytab (KRB5_KTNAME)."""
    import gssapi

    return gssapi.SecurityContext(usage="accept", creds=gssapi.Credentials(usage="accept"))


def krbap_tokens(count: int, service: str = "test@localhost", mutual: bool = False) -> list[bytes]:
    """``count`` distinct initial tokens from krbap's initiator (alice's ccache)."""
    import krbap

    flags = krbap.Flags.MUTUAL if mutual else krbap.Flags(0)
    out = []
    with krbap.InitiatorCredential(os.environ["KRB5CCNAME"]) as cred:
        for _ in range(count):
            with krbap.InitiatorContext(service, credential=cred, flags=flags) as ctx:
                out.append(ctx.step())
    return out


# The subset tests/python.sh also runs under valgrind (Python is ~50x slower there): every
# C entry point the package uses, success and failure paths, close() and finalizers.
VALGRIND_SUBSET = {
    "test_krbap_to_krbap",
    "test_mit_delegates_to_krbap",
    "test_sequence_and_replay_of_wrap_tokens",
    "test_authorization_data_and_pac",
    "test_replay_of_an_mit_token",
    "test_clock_skew",
    "test_expired_context",
    "test_wrong_key",
    "test_missing_kvno_and_principal",
    "test_no_credentials",
    "test_defective_token",
    "test_bad_bindings",
    "test_bad_integrity_of_messages",
    "test_context_arguments",
    "test_credential_arguments",
    "test_name_and_initiator_arguments",
    "test_closed_handles",
    "test_finalizers_release_what_was_not_closed",
    "test_context_outlives_its_credential",
    "test_deliberate_leak",
    "test_krbap_spnego_both_sides",
    "test_spnego_failure_carries_the_reject",
    "test_samba_ad_pacs",
    "test_pac_bad_input",
    "test_pac_outlives_its_context",
    "test_replay_cache_stats_and_cap",
    "test_header_helpers",
    "test_pending_contexts_are_bounded",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.name.split("[")[0] in VALGRIND_SUBSET:
            item.add_marker(pytest.mark.valgrind)
