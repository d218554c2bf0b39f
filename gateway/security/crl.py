"""The federation CA's certificate revocation list (COPAY_CRL_FILE), PEM or DER, reloaded when the
file changes. A list that cannot be read, or is not signed by the CA, is refused and the last good
one stays in force: a broken file never lets a revoked certificate back in by itself."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography import x509

from gateway.domain.rollout import Revocations

log = logging.getLogger("copay.crl")


class CrlFile:
    def __init__(self, path: Path, ca_pem: bytes) -> None:
        self._path = path
        self._ca = x509.load_pem_x509_certificate(ca_pem)
        self._seen: tuple[float, int] | None = None
        self.revocations = Revocations()

    def refresh(self) -> bool:
        """Reloads the list if the file changed; returns whether the revocations changed."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            if self._seen is not None:
                log.error("the CRL file is gone; the revocations it held stay in force",
                          extra={"fields": {"path": str(self._path)}})
                self._seen = None
            return False
        if (stat.st_mtime, stat.st_size) == self._seen:
            return False
        self._seen = (stat.st_mtime, stat.st_size)
        data = self._path.read_bytes()
        try:
            crl = x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
            if not crl.is_signature_valid(self._ca.public_key()):  # type: ignore[arg-type]
                raise ValueError("not signed by the federation CA")
        except ValueError as error:
            log.error("the CRL file cannot be used; the last good one stays in force",
                      extra={"fields": {"path": str(self._path), "why": str(error)}})
            return False
        serials = frozenset(format(revoked.serial_number, "x") for revoked in crl)
        changed = serials != self.revocations.serials
        self.revocations = Revocations(serials=serials)
        log.info("CRL loaded", extra={"fields": {"path": str(self._path), "revoked": len(serials)}})
        return changed
