"""The one place that turns a client certificate into a principal.

The TLS layer has already verified the chain against the federation CA and
the validity dates; here the identity is read from the certificate's URI SAN:

* ``spiffe://copay.local/region/{admdvs}``  a pooling region's system
* ``spiffe://copay.local/operator/{name}``  a gateway operator

A certificate with no such SAN, or with more than one, names nobody.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gateway.domain.regions import admdvs_problem

TRUST_DOMAIN = "copay.local"
_OPERATOR = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


class Kind(Enum):
    REGION = "region"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    kind: Kind
    name: str  # admdvs for a region, the operator's name otherwise
    text: str = field(init=False, repr=False, compare=False)
    """``region/420100``: made once, as every call logs and budgets by it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", f"{self.kind.value}/{self.name}")

    def __str__(self) -> str:
        return self.text

    @property
    def uri(self) -> str:
        return f"spiffe://{TRUST_DOMAIN}/{self}"


def principal_from_uri(uri: str) -> Principal | None:
    prefix = f"spiffe://{TRUST_DOMAIN}/"
    if not uri.startswith(prefix):
        return None
    kind, _, name = uri[len(prefix):].partition("/")
    if kind == Kind.REGION.value and admdvs_problem(name) is None:
        return Principal(Kind.REGION, name)
    if kind == Kind.OPERATOR.value and _OPERATOR.fullmatch(name):
        return Principal(Kind.OPERATOR, name)
    return None


@dataclass(frozen=True)
class Identity:
    """What the gateway reads from a client certificate: whom it names, and how to revoke it."""

    principal: Principal | None
    serial: str  # lower-case hex, no leading zeros
    fingerprint: str  # SHA-256 of the DER certificate, lower-case hex


@functools.lru_cache(maxsize=4096)
def identity_from_pem(pem: bytes) -> Identity | None:
    """The identity of a PEM certificate, or None if it cannot be read. Cached: one parse per certificate."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None
    serial, fingerprint = format(cert.serial_number, "x"), cert.fingerprint(hashes.SHA256()).hex()
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return Identity(None, serial, fingerprint)
    found = {p for uri in sans.get_values_for_type(x509.UniformResourceIdentifier)
             if (p := principal_from_uri(uri)) is not None}
    return Identity(found.pop() if len(found) == 1 else None, serial, fingerprint)


def principal_from_pem(pem: bytes) -> Principal | None:
    """The principal a PEM certificate names, or None."""
    identity = identity_from_pem(pem)
    return identity.principal if identity else None
