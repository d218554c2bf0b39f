"""The development PKI: ``copay-gateway certs init``.

Writes, into one folder: the federation CA, a server certificate for
localhost/127.0.0.1, a client certificate per sample region and operator, and
for negative tests a foreign CA with a client certificate it signed and an
expired client certificate. Also the ID-hash key (32 random bytes, hex).

Every file is created only if missing (``force`` re-creates all of them).
Private keys are PKCS#8 PEM files named ``*-key.pem``, mode 0600.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.sample import OPERATORS, REGIONS
from gateway.security.principal import TRUST_DOMAIN, Kind, Principal

ID_HASH_KEY = "id-hash.key"
VALID_DAYS = 825


@dataclass(frozen=True)
class Issuer:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "copay federation (dev)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def _save(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    _write(folder / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM))
    _write(folder / f"{stem}-key.pem", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), private=True)


def _load(folder: Path, stem: str) -> Issuer:
    cert = x509.load_pem_x509_certificate((folder / f"{stem}.pem").read_bytes())
    key = serialization.load_pem_private_key((folder / f"{stem}-key.pem").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Issuer(cert, key)


def _ca(folder: Path, stem: str, common_name: str, force: bool) -> Issuer:
    if not force and (folder / f"{stem}.pem").exists() and (folder / f"{stem}-key.pem").exists():
        return _load(folder, stem)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    _save(folder, stem, cert, key)
    return Issuer(cert, key)


def _leaf(folder: Path, stem: str, issuer: Issuer, common_name: str, sans: list[x509.GeneralName],
          server: bool, force: bool, expired: bool = False) -> None:
    if not force and (folder / f"{stem}.pem").exists() and (folder / f"{stem}-key.pem").exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    start, end = (now - timedelta(days=30), now - timedelta(days=1)) if expired else (
        now - timedelta(minutes=5), now + timedelta(days=VALID_DAYS))
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(issuer.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(issuer.key, hashes.SHA256()))
    _save(folder, stem, cert, key)


def _client(folder: Path, stem: str, issuer: Issuer, who: Principal, force: bool, expired: bool = False) -> None:
    _leaf(folder, stem, issuer, f"{who.kind.value} {who.name}", [x509.UniformResourceIdentifier(who.uri)],
          server=False, force=force, expired=expired)


def init_dev_pki(folder: Path, force: bool = False) -> list[str]:
    """Creates what is missing (everything with ``force``); returns the file names present."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = _ca(folder, "ca", "copay federation dev CA", force)
    _leaf(folder, "server", ca, "copay-gateway", [
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.UniformResourceIdentifier(f"spiffe://{TRUST_DOMAIN}/gateway")], server=True, force=force)
    for region in REGIONS:
        _client(folder, f"region-{region.admdvs}", ca, Principal(Kind.REGION, region.admdvs), force)
    for operator in OPERATORS:
        _client(folder, f"operator-{operator}", ca, Principal(Kind.OPERATOR, operator), force)
    # Negative cases: a look-alike from another CA, an expired one, and a valid one that names nobody.
    foreign = _ca(folder, "foreign-ca", "not the federation CA", force)
    _client(folder, "foreign-region-320300", foreign, Principal(Kind.REGION, "320300"), force)
    _client(folder, "expired-region-320300", ca, Principal(Kind.REGION, "320300"), force, expired=True)
    _leaf(folder, "nobody", ca, "nobody", [x509.DNSName("nobody.example")], server=False, force=force)
    key_file = folder / ID_HASH_KEY
    if force or not key_file.exists():
        _write(key_file, secrets.token_hex(32).encode() + b"\n", private=True)
    return sorted(p.name for p in folder.iterdir() if p.name != "README.md")
