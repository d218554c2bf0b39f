"""The development PKI: ``copay-gateway certs init | issue | renew``, driven through the command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.cli import main
from gateway.security.pki import init_dev_pki
from gateway.security.principal import Kind, Principal, principal_from_pem

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _no_ca_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COPAY_CA_DIR", raising=False)


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    """A dev PKI in tmp_path/certs, its CA keys in tmp_path/ca (the default: beside it)."""
    folder = tmp_path / "certs"
    init_dev_pki(folder)
    return folder


def run(certs: Path, action: str, *args: str) -> int:
    return main(["certs", action, "--certs-dir", str(certs), *args])


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def key(path: Path) -> ec.EllipticCurvePrivateKey:
    loaded = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded


def assert_chains_to_ca(leaf: x509.Certificate, certs: Path) -> None:
    ca = cert(certs / "ca.pem")
    assert leaf.issuer == ca.subject
    ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))


def lifetime(c: x509.Certificate) -> timedelta:
    return c.not_valid_after_utc - c.not_valid_before_utc


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def csr(names: list[x509.GeneralName], common_name: str = "evil") -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    private = ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .sign(private, hashes.SHA256()))
    return request.public_bytes(serialization.Encoding.PEM), private


def test_ca_keys_live_apart_from_the_certificates_the_server_reads(tmp_path: Path, capsys):
    assert main(["certs", "init", "--certs-dir", str(tmp_path / "certs")]) == 0
    certs, ca = tmp_path / "certs", tmp_path / "ca"
    assert not list(certs.glob("*ca-key.pem"))
    assert (certs / "ca.pem").exists() and (certs / "foreign-ca.pem").exists()
    assert mode(ca) == 0o700
    assert {p.name: mode(p) for p in ca.iterdir()} == {"ca-key.pem": 0o600, "foreign-ca-key.pem": 0o600}
    assert all(mode(p) == 0o600 for p in certs.glob("*-key.pem"))
    assert key(ca / "ca-key.pem").public_key() == cert(certs / "ca.pem").public_key()
    assert str(ca) in capsys.readouterr().out


def test_ca_keys_of_the_earlier_layout_are_moved_not_replaced(certs: Path):
    ca = certs.parent / "ca"
    keys = {p.name: p.read_bytes() for p in ca.iterdir()}
    public = {name: (certs / name).read_bytes() for name in ["ca.pem", "foreign-ca.pem"]}
    for name in keys:
        (ca / name).rename(certs / name)
    init_dev_pki(certs)
    assert not list(certs.glob("*ca-key.pem"))
    assert {p.name: p.read_bytes() for p in ca.iterdir()} == keys
    assert all(mode(ca / name) == 0o600 for name in keys)
    assert {name: (certs / name).read_bytes() for name in public} == public


def test_init_refuses_to_replace_a_ca_whose_key_is_missing(certs: Path, capsys):
    (certs.parent / "ca" / "ca-key.pem").unlink()
    ca_pem = (certs / "ca.pem").read_bytes()
    assert run(certs, "init") == 2
    assert "--force" in capsys.readouterr().err
    assert (certs / "ca.pem").read_bytes() == ca_pem


def test_client_certificates_last_30_days_and_the_server_longer(certs: Path):
    for name in ["region-320300", "region-110000", "operator-ops", "operator-ops2", "nobody"]:
        assert lifetime(cert(certs / f"{name}.pem")) <= 30 * DAY + timedelta(minutes=5), name
    assert 30 * DAY < lifetime(cert(certs / "server.pem")) <= 397 * DAY + timedelta(minutes=5)


def test_init_writes_a_second_operator(certs: Path):
    assert principal_from_pem((certs / "operator-ops2.pem").read_bytes()) == Principal(Kind.OPERATOR, "ops2")
    assert_chains_to_ca(cert(certs / "operator-ops2.pem"), certs)


def test_init_reissues_a_leaf_near_expiry_and_keeps_the_ca(certs: Path):
    assert run(certs, "issue", "region", "320300", "--days", "3") == 0
    keep = {name: (certs / name).read_bytes() for name in ["ca.pem", "foreign-ca.pem", "region-320100.pem",
                                                          "expired-region-320300.pem", "id-hash.key"]}
    ca_keys = {p.name: p.read_bytes() for p in (certs.parent / "ca").iterdir()}
    near = (certs / "region-320300.pem").read_bytes()
    report = init_dev_pki(certs)
    assert report.issued == ["region-320300"]
    renewed = cert(certs / "region-320300.pem")
    assert renewed.public_bytes(serialization.Encoding.PEM) != near
    assert renewed.not_valid_after_utc > datetime.now(timezone.utc) + 29 * DAY
    assert_chains_to_ca(renewed, certs)
    assert {name: (certs / name).read_bytes() for name in keep} == keep
    assert {p.name: p.read_bytes() for p in (certs.parent / "ca").iterdir()} == ca_keys


@pytest.mark.parametrize("kind, name", [("region", "320300"), ("operator", "alice")])
def test_issue_writes_a_key_and_a_certificate_naming_the_principal(certs: Path, tmp_path: Path, kind, name):
    out = tmp_path / "out"
    assert run(certs, "issue", kind, name, "--out", str(out), "--days", "5") == 0
    issued = cert(out / f"{kind}-{name}.pem")
    assert principal_from_pem((out / f"{kind}-{name}.pem").read_bytes()) == Principal(Kind(kind), name)
    assert_chains_to_ca(issued, certs)
    assert key(out / f"{kind}-{name}-key.pem").public_key() == issued.public_key()
    assert mode(out / f"{kind}-{name}-key.pem") == 0o600
    assert lifetime(issued) <= 5 * DAY + timedelta(minutes=5)


def test_issue_defaults_to_the_certificates_folder_and_30_days(certs: Path):
    assert run(certs, "issue", "operator", "bob") == 0
    issued = cert(certs / "operator-bob.pem")
    assert principal_from_pem((certs / "operator-bob.pem").read_bytes()) == Principal(Kind.OPERATOR, "bob")
    assert lifetime(issued) <= 30 * DAY + timedelta(minutes=5)


@pytest.mark.parametrize("kind, name", [
    ("region", "990100"), ("region", "32030"), ("region", "3203001"), ("region", "320300\n"), ("region", "x"),
    ("operator", "Alice"), ("operator", "ops\n"), ("operator", "_ops"), ("operator", "a" * 33),
    ("operator", "ops/../region"), ("admin", "root"),
])
def test_issue_refuses_a_bad_principal_in_one_sentence(certs: Path, tmp_path: Path, capsys, kind, name):
    out = tmp_path / "out"
    assert run(certs, "issue", kind, name, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith(".") and "Traceback" not in err
    assert not out.exists()


def test_issue_with_a_bad_principal_exits_2_from_the_shell(certs: Path):
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "certs", "issue", "region", "990100",
                           "--certs-dir", str(certs)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == "copay-gateway certs issue: bad region '990100': '99' is not a province code.\n"


def test_csr_signing_names_the_given_principal_and_ignores_the_request_s_names(certs: Path, tmp_path: Path):
    pem, private = csr([x509.UniformResourceIdentifier("spiffe://copay.local/region/110000"),
                        x509.UniformResourceIdentifier("spiffe://copay.local/operator/root")])
    (tmp_path / "request.pem").write_bytes(pem)
    out = tmp_path / "signed.pem"
    assert run(certs, "issue", "--csr", str(tmp_path / "request.pem"), "--principal", "region/320300",
               "--out", str(out)) == 0
    signed = cert(out)
    assert principal_from_pem(out.read_bytes()) == Principal(Kind.REGION, "320300")
    sans = signed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(sans) == [x509.UniformResourceIdentifier("spiffe://copay.local/region/320300")]
    assert "evil" not in signed.subject.rfc4514_string()
    assert signed.public_key() == private.public_key()
    assert_chains_to_ca(signed, certs)
    assert not list(tmp_path.glob("*-key.pem"))


def test_csr_signing_writes_to_standard_output_by_default(certs: Path, tmp_path: Path, capsys):
    (tmp_path / "request.pem").write_bytes(csr([])[0])
    assert run(certs, "issue", "--csr", str(tmp_path / "request.pem"), "--principal", "operator/carol") == 0
    out = capsys.readouterr().out.encode()
    assert principal_from_pem(out) == Principal(Kind.OPERATOR, "carol")


def test_csr_with_a_bad_signature_is_refused(certs: Path, tmp_path: Path, capsys):
    pem, _ = csr([], common_name="region 320300")
    der = x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER)
    altered = x509.load_der_x509_csr(der.replace(b"region 320300", b"region 320100"))
    (tmp_path / "request.pem").write_bytes(altered.public_bytes(serialization.Encoding.PEM))
    out = tmp_path / "signed.pem"
    assert run(certs, "issue", "--csr", str(tmp_path / "request.pem"), "--principal", "region/320300",
               "--out", str(out)) == 2
    assert "signature" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("principal", ["region/990100", "320300", "operator/Bad"])
def test_csr_signing_refuses_a_bad_principal(certs: Path, tmp_path: Path, capsys, principal):
    (tmp_path / "request.pem").write_bytes(csr([])[0])
    assert run(certs, "issue", "--csr", str(tmp_path / "request.pem"), "--principal", principal) == 2
    assert capsys.readouterr().out == ""


def test_renew_keeps_the_principal_with_a_new_key(certs: Path):
    path = certs / "region-320100.pem"
    old_cert, old_key = path.read_bytes(), (certs / "region-320100-key.pem").read_bytes()
    assert run(certs, "renew", str(path)) == 0
    renewed = cert(path)
    assert principal_from_pem(path.read_bytes()) == Principal(Kind.REGION, "320100")
    assert path.read_bytes() != old_cert and (certs / "region-320100-key.pem").read_bytes() != old_key
    assert key(certs / "region-320100-key.pem").public_key() == renewed.public_key()
    assert mode(certs / "region-320100-key.pem") == 0o600
    assert_chains_to_ca(renewed, certs)
    assert lifetime(renewed) <= 30 * DAY + timedelta(minutes=5)


def test_renew_with_keep_key_keeps_the_key(certs: Path):
    path = certs / "operator-ops.pem"
    old_cert, old_key = cert(path), (certs / "operator-ops-key.pem").read_bytes()
    assert run(certs, "renew", str(path), "--keep-key", "--days", "10") == 0
    renewed = cert(path)
    assert (certs / "operator-ops-key.pem").read_bytes() == old_key
    assert renewed.serial_number != old_cert.serial_number and renewed.public_key() == old_cert.public_key()
    assert principal_from_pem(path.read_bytes()) == Principal(Kind.OPERATOR, "ops")
    assert lifetime(renewed) <= 10 * DAY + timedelta(minutes=5)


@pytest.mark.parametrize("name", ["foreign-region-320300", "nobody", "server"])
def test_renew_refuses_a_certificate_of_another_ca_or_naming_nobody(certs: Path, capsys, name):
    before = {p.name: p.read_bytes() for p in certs.iterdir()}
    assert run(certs, "renew", str(certs / f"{name}.pem")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in certs.iterdir()} == before


def test_the_ca_folder_may_not_lie_inside_the_certificates_folder(certs: Path, capsys):
    assert run(certs, "init", "--ca-dir", str(certs / "ca")) == 2
    assert "outside" in capsys.readouterr().err


def test_init_reissues_leaves_that_a_new_ca_did_not_sign(certs: Path):
    """The CA gone (its key and ca.pem), ``init`` makes a new one and issues every leaf anew: a leaf of the
    old CA would not verify against the new ca.pem."""
    (certs.parent / "ca" / "ca-key.pem").unlink()
    (certs / "ca.pem").unlink()
    assert run(certs, "init") == 0
    for name in ["server", "region-320300", "operator-ops"]:
        assert_chains_to_ca(cert(certs / f"{name}.pem"), certs)


def test_init_reissues_a_leaf_whose_key_does_not_match_its_certificate(certs: Path):
    """A crash between writing a leaf's new key and its certificate leaves them apart: init mends it."""
    (certs / "region-320300-key.pem").write_bytes((certs / "region-320100-key.pem").read_bytes())
    assert "region-320300" in init_dev_pki(certs).issued
    assert key(certs / "region-320300-key.pem").public_key() == cert(certs / "region-320300.pem").public_key()
