"""The development PKI: ``copay-gateway certs init | issue | renew``.

``certs init`` writes, into the certificates folder the server reads: the
federation CA's certificate ``ca.pem``, a server certificate for
localhost/127.0.0.1, a client certificate per sample region and operator, and
for negative tests a foreign CA's certificate with a client certificate it
signed, an expired client certificate and one that names nobody. Also the
ID-hash key (32 random bytes, hex).

The CA private keys (``ca-key.pem``, ``foreign-ca-key.pem``) live in a folder of
their own, by default ``ca/`` beside the certificates folder: the server never
needs them, and whoever reads ``ca-key.pem`` can mint any region.

Client certificates last 30 days, the server's 397. ``certs init`` re-issues a
leaf certificate that is missing or expires within 7 days; it never replaces
the CA unless forced (``force`` re-creates every file). Private keys are PKCS#8
PEM files named ``*-key.pem``, mode 0600. Every file is written under a
temporary name and renamed, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.domain.regions import admdvs_problem
from gateway.sample import OPERATORS, REGIONS
from gateway.security.principal import TRUST_DOMAIN, Kind, Principal, principal_from_pem, principal_from_uri

ID_HASH_KEY = "id-hash.key"
CA_DAYS = 3650
SERVER_DAYS = 397
CLIENT_DAYS = 30
MAX_CLIENT_DAYS = 397
RENEW_BEFORE = timedelta(days=7)
"""``certs init`` re-issues a leaf certificate that expires sooner than this."""


class PkiError(Exception):
    """A refusal, worded as one sentence for the command line."""


@dataclass(frozen=True)
class Issuer:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class InitReport:
    files: list[str]
    """Names of the files in the certificates folder."""
    issued: list[str]
    """Stems of the leaf certificates (re-)issued by this run."""
    ca_dir: Path


@dataclass(frozen=True)
class _Leaf:
    """What a leaf certificate says."""

    common_name: str
    sans: tuple[x509.GeneralName, ...]
    usage: x509.ObjectIdentifier
    days: int
    expired: bool = False


def default_ca_dir(certs_dir: Path) -> Path:
    """``ca/`` beside the certificates folder."""
    return Path(os.path.abspath(certs_dir)).parent / "ca"


# Files


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Writes ``data`` to a temporary file beside ``path`` (mode 0600 from its creation) and renames it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if not private:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_file_for(cert_file: Path) -> Path:
    """The private key's file beside a certificate: ``x.pem`` -> ``x-key.pem``."""
    return cert_file.with_name(f"{cert_file.stem}-key.pem")


def _save(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    _write(folder / f"{stem}-key.pem", _key_pem(key), private=True)
    _write(folder / f"{stem}.pem", _cert_pem(cert))


def _read_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise PkiError(f"{path} does not exist.") from None
    except ValueError:
        raise PkiError(f"{path} is not a PEM certificate.") from None


def _read_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except FileNotFoundError:
        raise PkiError(f"{path} does not exist.") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{path} is not an unencrypted EC private key in PEM.")
    return key


# Certificates


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "copay federation (dev)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _self_signed(key: ec.EllipticCurvePrivateKey, common_name: str) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    return (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))


def _signed(issuer: Issuer, public_key: CertificatePublicKeyTypes, leaf: _Leaf) -> x509.Certificate:
    """A leaf certificate; it never outlives its issuer."""
    now = datetime.now(timezone.utc)
    start, end = (now - timedelta(days=30), now - timedelta(days=1)) if leaf.expired else (
        now - timedelta(minutes=5), min(now + timedelta(days=leaf.days), issuer.cert.not_valid_after_utc))
    return (x509.CertificateBuilder().subject_name(_name(leaf.common_name)).issuer_name(issuer.cert.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([leaf.usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName(list(leaf.sans)), critical=False)
            .sign(issuer.key, hashes.SHA256()))


def _client(who: Principal, days: int = CLIENT_DAYS, expired: bool = False) -> _Leaf:
    return _Leaf(f"{who.kind.value} {who.name}", (x509.UniformResourceIdentifier(who.uri),),
                 ExtendedKeyUsageOID.CLIENT_AUTH, days, expired)


def _issued_by(cert: x509.Certificate, ca: Issuer) -> bool:
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# The CA


def _check_apart(certs: Path, ca_dir: Path) -> None:
    certs_real, ca_real = certs.resolve(), ca_dir.resolve()
    if ca_real == certs_real or certs_real in ca_real.parents:
        raise PkiError(f"the CA folder {ca_dir} must lie outside the certificates folder {certs}, "
                       "which the server reads.")


def _make_ca_dir(ca_dir: Path) -> None:
    ca_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(ca_dir, 0o700)


def _move_old_key(certs: Path, ca_dir: Path, stem: str) -> None:
    """Earlier versions kept CA keys among the certificates: move one to the CA folder, so the CA
    (and every certificate it signed) is kept rather than replaced."""
    old, new = certs / f"{stem}-key.pem", ca_dir / f"{stem}-key.pem"
    if not old.exists():
        return
    if new.exists() and new.read_bytes() != old.read_bytes():
        raise PkiError(f"both {old} and {new} exist and differ: delete the one that is not the key of "
                       f"{certs / f'{stem}.pem'}.")
    _make_ca_dir(ca_dir)
    if not new.exists():
        _write(new, old.read_bytes(), private=True)
    old.unlink()


def _matched(cert_file: Path, key_file: Path) -> Issuer:
    cert, key = _read_cert(cert_file), _read_key(key_file)
    if cert.public_key() != key.public_key():
        raise PkiError(f"{key_file} is not the key of {cert_file}: point --ca-dir (or COPAY_CA_DIR) "
                       "at the CA folder that made it.")
    return Issuer(cert, key)


def _ca(certs: Path, ca_dir: Path, stem: str, common_name: str, force: bool) -> Issuer:
    """The CA ``stem``, created only if none of it exists, or with ``force``. Its key alone is
    enough to keep it: a missing certificate is re-made from the key, and still verifies
    everything the CA signed."""
    _move_old_key(certs, ca_dir, stem)
    cert_file, key_file = certs / f"{stem}.pem", ca_dir / f"{stem}-key.pem"
    if not force and key_file.exists() and cert_file.exists():
        return _matched(cert_file, key_file)
    if not force and cert_file.exists():
        raise PkiError(f"{cert_file} has no key at {key_file}: point --ca-dir (or COPAY_CA_DIR) at the CA "
                       "folder, or start a new CA with 'certs init --force'.")
    if not force and key_file.exists():
        key = _read_key(key_file)
    else:
        key = _new_key()
        _write(key_file, _key_pem(key), private=True)
    cert = _self_signed(key, common_name)
    _write(cert_file, _cert_pem(cert))
    return Issuer(cert, key)


def load_ca(certs: Path, ca_dir: Path) -> Issuer:
    """The federation CA made by ``certs init``; never creates one."""
    _check_apart(certs, ca_dir)
    _move_old_key(certs, ca_dir, "ca")
    cert_file, key_file = certs / "ca.pem", ca_dir / "ca-key.pem"
    if not (cert_file.exists() and key_file.exists()):
        raise PkiError(f"no CA at {cert_file} with its key at {key_file}: run 'copay-gateway certs init' "
                       "first, or point --certs-dir and --ca-dir at it.")
    return _matched(cert_file, key_file)


# certs init


def _dev_leaves(ca: Issuer, foreign: Issuer) -> list[tuple[str, Issuer, _Leaf]]:
    """(file stem, issuer, leaf) of every leaf certificate ``certs init`` keeps current."""
    server = _Leaf("copay-gateway", (
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.UniformResourceIdentifier(f"spiffe://{TRUST_DOMAIN}/gateway")), ExtendedKeyUsageOID.SERVER_AUTH,
        SERVER_DAYS)
    return [
        ("server", ca, server),
        *((f"region-{r.admdvs}", ca, _client(Principal(Kind.REGION, r.admdvs))) for r in REGIONS),
        *((f"operator-{name}", ca, _client(Principal(Kind.OPERATOR, name))) for name in OPERATORS),
        # Negative cases: a look-alike from another CA, an expired one, and a valid one that names nobody.
        ("foreign-region-320300", foreign, _client(Principal(Kind.REGION, "320300"))),
        ("expired-region-320300", ca, _client(Principal(Kind.REGION, "320300"), expired=True)),
        ("nobody", ca, _Leaf("nobody", (x509.DNSName("nobody.example"),), ExtendedKeyUsageOID.CLIENT_AUTH,
                             CLIENT_DAYS)),
    ]


def _current(folder: Path, stem: str, issuer: Issuer, leaf: _Leaf) -> bool:
    """Whether the leaf's files exist, belong together (a crash between writing the key and the certificate
    leaves them apart), were issued by this CA (a CA made anew leaves the old leaves behind) and (unless it
    is meant to be expired) it is not about to expire."""
    try:
        cert = x509.load_pem_x509_certificate((folder / f"{stem}.pem").read_bytes())
        key = _read_key(folder / f"{stem}-key.pem")
    except (OSError, ValueError, PkiError):
        return False
    return key.public_key() == cert.public_key() and _issued_by(cert, issuer) and (
        leaf.expired or cert.not_valid_after_utc > datetime.now(timezone.utc) + RENEW_BEFORE)


def _ensure(folder: Path, stem: str, issuer: Issuer, leaf: _Leaf, force: bool) -> bool:
    """Issues the leaf unless it is current; True if it did."""
    if not force and _current(folder, stem, issuer, leaf):
        return False
    key = _new_key()
    _save(folder, stem, _signed(issuer, key.public_key(), leaf), key)
    return True


def init_dev_pki(folder: Path, force: bool = False, ca_dir: Path | None = None) -> InitReport:
    """Creates what is missing or about to expire (everything with ``force``)."""
    ca_dir = default_ca_dir(folder) if ca_dir is None else ca_dir
    folder.mkdir(parents=True, exist_ok=True)
    _check_apart(folder, ca_dir)
    _make_ca_dir(ca_dir)
    ca = _ca(folder, ca_dir, "ca", "copay federation dev CA", force)
    foreign = _ca(folder, ca_dir, "foreign-ca", "not the federation CA", force)
    issued = [stem for stem, issuer, leaf in _dev_leaves(ca, foreign) if _ensure(folder, stem, issuer, leaf, force)]
    key_file = folder / ID_HASH_KEY
    if force or not key_file.exists():
        _write(key_file, secrets.token_hex(32).encode() + b"\n", private=True)
    files = sorted(p.name for p in folder.iterdir() if p.name != "README.md")
    return InitReport(files, issued, ca_dir)


# certs issue, certs renew


def parse_principal(kind: str, name: str) -> Principal:
    """The principal ``kind``/``name``, checked by the rules the gateway reads certificates with."""
    try:
        who = Principal(Kind(kind), name)
    except ValueError:
        raise PkiError(f"unknown principal kind {kind!r}: use region or operator.") from None
    if who.kind is Kind.REGION and (problem := admdvs_problem(name)):
        raise PkiError(f"bad region {name!r}: {problem}.")
    if principal_from_uri(who.uri) != who:
        raise PkiError(f"bad operator name {name!r}: use 1 to 32 of a-z, 0-9 and '-', starting with a letter "
                       "or digit.")
    return who


def issue(who: Principal, ca: Issuer, out_dir: Path, days: int = CLIENT_DAYS) -> Path:
    """A new key and a client certificate for ``who``, as ``{kind}-{name}[-key].pem`` in ``out_dir``;
    returns the certificate's path."""
    key = _new_key()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{who.kind.value}-{who.name}"
    _save(out_dir, stem, _signed(ca, key.public_key(), _client(who, days)), key)
    return out_dir / f"{stem}.pem"


def _public_key_problem(key: CertificatePublicKeyTypes) -> str | None:
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ("secp256r1", "secp384r1"):
        return None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return None
    return "its key must be EC P-256 or P-384, or RSA of at least 2048 bits"


def write_certificate(path: Path, pem: bytes) -> None:
    """Writes a certificate atomically (temporary file, then rename)."""
    _write(path, pem)


def sign_csr(csr_file: Path, who: Principal, ca: Issuer, days: int = CLIENT_DAYS) -> bytes:
    """A client certificate for ``who`` on the public key of a PEM certificate signing request.

    Only the request's key is used: the principal comes from the caller, never from the request's
    subject or SANs. Its signature must verify, proving the requester holds the private key."""
    try:
        csr = x509.load_pem_x509_csr(csr_file.read_bytes())
        public_key = csr.public_key()
    except FileNotFoundError:
        raise PkiError(f"{csr_file} does not exist.") from None
    except (ValueError, UnsupportedAlgorithm):
        raise PkiError(f"{csr_file} is not a PEM certificate signing request with a supported key.") from None
    if not csr.is_signature_valid:
        raise PkiError(f"the signature of {csr_file} does not verify: the request was altered or not signed "
                       "by its own key.")
    if problem := _public_key_problem(public_key):
        raise PkiError(f"{csr_file} cannot be signed: {problem}.")
    return _cert_pem(_signed(ca, public_key, _client(who, days)))


def renew(cert_file: Path, ca: Issuer, days: int = CLIENT_DAYS, keep_key: bool = False) -> Principal:
    """Re-issues the certificate in ``cert_file`` for the principal it names, in place, with a new key
    in the ``-key.pem`` file beside it (or, with ``keep_key``, the key already there)."""
    cert = _read_cert(cert_file)
    if not _issued_by(cert, ca):
        raise PkiError(f"{cert_file} was not issued by this CA, so it is not renewed here.")
    who = principal_from_pem(_cert_pem(cert))
    if who is None:
        raise PkiError(f"{cert_file} names no region or operator, so there is no one to renew it for.")
    key_file = key_file_for(cert_file)
    if keep_key:
        key = _read_key(key_file)
        if key.public_key() != cert.public_key():
            raise PkiError(f"{key_file} is not the key of {cert_file}: renew without --keep-key for a new one.")
    else:
        key = _new_key()
        _write(key_file, _key_pem(key), private=True)
    _write(cert_file, _cert_pem(_signed(ca, key.public_key(), _client(who, days))))
    return who
