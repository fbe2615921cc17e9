"""krbap: the Kerberos V5 AP exchange (RFC 4120 §3.2) in the GSS-API krb5 mechanism
(RFC 4121), from Python, through libkrbap's C ABI.

Acceptor (server)::

    cred = krbap.AcceptorCredential("FILE:/etc/krb5.keytab")
    ctx = cred.accept(token)          # raises krbap.KrbapError (or a subclass) on failure
    ctx.client_name, ctx.output_token # "alice@REALM", the AP-REP for the client

Initiator (client)::

    ctx = krbap.InitiatorContext("HTTP@server.example")
    token = ctx.step()                # the AP-REQ; then ctx.step(reply) until ctx.complete
"""

from ._ffi import MAX_BUFFER, library_path, version
from .context import (
    AcceptorContext,
    AuthorizationElement,
    ChannelBindings,
    Flags,
    InitiatorContext,
    Mech,
    SecurityContext,
    Supplementary,
    Unwrapped,
)
from .cred import (
    INDEFINITE,
    AcceptorCredential,
    Credential,
    Enctype,
    InitiatorCredential,
    ReplayCacheStats,
    Usage,
)
from .name import Name, NameType
from .pac import (
    BufferType,
    GroupAttributes,
    GroupSource,
    Pac,
    PacBuffer,
    PacField,
    PacGroup,
    PacPolicy,
    PacSignature,
    PacVerified,
)
from .status import (
    BadBindingsError,
    BadIntegrityError,
    ClockSkewError,
    DefectiveTokenError,
    ExpiredError,
    KrbapError,
    NoCredentialsError,
    NoKeyError,
    ReplayError,
)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as metadata_version

    try:
        return metadata_version("krbap")
    except PackageNotFoundError:  # run from a source tree
        return version()


__version__ = _package_version()

__all__ = [
    "INDEFINITE",
    "MAX_BUFFER",
    "AcceptorContext",
    "AcceptorCredential",
    "AuthorizationElement",
    "BadBindingsError",
    "BadIntegrityError",
    "BufferType",
    "ChannelBindings",
    "ClockSkewError",
    "Credential",
    "DefectiveTokenError",
    "Enctype",
    "ExpiredError",
    "Flags",
    "GroupAttributes",
    "GroupSource",
    "InitiatorContext",
    "InitiatorCredential",
    "KrbapError",
    "Mech",
    "Name",
    "NameType",
    "NoCredentialsError",
    "NoKeyError",
    "Pac",
    "PacBuffer",
    "PacField",
    "PacGroup",
    "PacPolicy",
    "PacSignature",
    "PacVerified",
    "ReplayCacheStats",
    "ReplayError",
    "SecurityContext",
    "Supplementary",
    "Unwrapped",
    "Usage",
    "library_path",
    "version",
]
