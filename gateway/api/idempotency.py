"""What makes two requests "the same" for AIP-155 replay."""

from __future__ import annotations

import hashlib

from google.protobuf.message import Message

from gateway.security.principal import Principal
from gateway.service.once import RequestKey


def request_key(caller: Principal, method: str, request: Message) -> RequestKey:
    """Keyed by caller and request_id; the fingerprint covers the method and every other field."""
    content = type(request)()
    content.CopyFrom(request)
    content.request_id = ""  # type: ignore[attr-defined]
    digest = hashlib.sha256(method.encode() + b"\0" + content.SerializeToString(deterministic=True)).hexdigest()
    return RequestKey(str(caller), request.request_id, digest)  # type: ignore[attr-defined]
