"""The mTLS connection to the gateway, opened on the first call (``--help`` and local refusals need none)."""

from __future__ import annotations

import argparse
import functools
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import grpc
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from gateway._proto.copay.v1 import admin_pb2_grpc, policies_pb2_grpc


class LocalRefusal(Exception):
    """Something copayctl refuses before calling the gateway; its text is one sentence."""


def read_file(path: str, what: str, hint: str = "") -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as problem:
        raise LocalRefusal(f"cannot read the {what} {path} ({problem.strerror or problem})"
                           + (f"; give {hint}" if hint else "")) from None


def _load(loader: Callable[[bytes], Any], data: bytes, refusal: str) -> Any:
    try:
        return loader(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise LocalRefusal(refusal) from None


def _spki(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _check(args: argparse.Namespace, ca: bytes, cert: bytes, key: bytes) -> None:
    """Refuses in one sentence what the TLS handshake would refuse with lines of gRPC's C logs or a bare
    'Socket closed': files that are not PEM, a key that is not the certificate's, an expired certificate."""
    _load(x509.load_pem_x509_certificates, ca, f"the CA certificate {args.cacert} is not a PEM certificate")
    mine = _load(x509.load_pem_x509_certificate, cert, f"the client certificate {args.cert} is not a PEM "
                                                       "certificate")
    private = _load(lambda data: serialization.load_pem_private_key(data, password=None), key,
                    f"the private key {args.key} is not a PEM private key without a password")
    if _spki(private.public_key()) != _spki(mine.public_key()):
        raise LocalRefusal(f"the private key {args.key} is not the key of the certificate {args.cert}")
    if mine.not_valid_after_utc <= datetime.now(timezone.utc):
        raise LocalRefusal(f"the client certificate {args.cert} expired at {mine.not_valid_after_utc:%Y-%m-%d %H:%M} "
                           "UTC and needs renewing (copay-gateway certs renew)")


class _Timed:
    """A stub whose every method is called with the session's deadline."""

    def __init__(self, stub: Any, timeout: float) -> None:
        self._stub, self._timeout = stub, timeout

    def __getattr__(self, name: str) -> Any:
        return functools.partial(getattr(self._stub, name), timeout=self._timeout)


class Session:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._channel: grpc.Channel | None = None

    def request_id(self) -> str:
        """The invocation's request id: ``--request-id``, else a fresh one, so that running the command again
        is a new request (pass the same ``--request-id`` to retry one whose answer was lost)."""
        return getattr(self.args, "request_id", None) or str(uuid.uuid4())

    @property
    def admin(self) -> Any:
        return _Timed(admin_pb2_grpc.AdminServiceStub(self._connect()), self.args.timeout)

    @property
    def policies(self) -> Any:
        return _Timed(policies_pb2_grpc.PoliciesServiceStub(self._connect()), self.args.timeout)

    def _connect(self) -> grpc.Channel:
        if self._channel is None:
            args = self.args
            ca = read_file(args.cacert, "CA certificate", "--cacert or set COPAYCTL_CACERT")
            cert = read_file(args.cert, "client certificate", "--cert or set COPAYCTL_CERT")
            key = read_file(args.key, "private key", "--key or set COPAYCTL_KEY")
            _check(args, ca, cert, key)
            credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
            options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
            self._channel = grpc.secure_channel(args.address, credentials, options=options)
        return self._channel

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
