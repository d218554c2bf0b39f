from pathlib import Path

import pytest

from gateway.security.principal import Kind, Principal, principal_from_pem, principal_from_uri


@pytest.mark.parametrize("uri, expected", [
    ("spiffe://copay.local/region/320300", Principal(Kind.REGION, "320300")),
    ("spiffe://copay.local/operator/ops", Principal(Kind.OPERATOR, "ops")),
    ("spiffe://copay.local/region/32030", None),
    ("spiffe://copay.local/region/990100", None),
    ("spiffe://other.domain/region/320300", None),
    ("spiffe://copay.local/operator/Bad Name", None),
    ("spiffe://copay.local/admin/root", None),
    ("https://copay.local/region/320300", None),
])
def test_uri_san_names_a_principal(uri, expected):
    assert principal_from_uri(uri) == expected


def test_dev_certificates_name_their_principals(pki: Path):
    assert principal_from_pem((pki / "region-320300.pem").read_bytes()) == Principal(Kind.REGION, "320300")
    assert principal_from_pem((pki / "operator-ops.pem").read_bytes()) == Principal(Kind.OPERATOR, "ops")
    assert principal_from_pem((pki / "nobody.pem").read_bytes()) is None
    assert principal_from_pem((pki / "server.pem").read_bytes()) is None
    assert principal_from_pem(b"not a certificate") is None


def test_certs_init_does_not_clobber_without_force(pki: Path, tmp_path: Path):
    from gateway.security.pki import init_dev_pki
    certs = tmp_path / "certs"
    init_dev_pki(certs)
    before = {p.name: p.read_bytes() for p in certs.iterdir()}
    init_dev_pki(certs)
    assert {p.name: p.read_bytes() for p in certs.iterdir()} == before
    init_dev_pki(certs, force=True)
    after = {p.name: p.read_bytes() for p in certs.iterdir()}
    assert after.keys() == before.keys() and after["ca.pem"] != before["ca.pem"]
    assert oct((tmp_path / "ca" / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
