"""What makes two requests "the same" for AIP-155 replay."""

from __future__ import annotations

import hashlib

from google.protobuf.message import Message

from gateway.domain.identity import IdHasher
from gateway.security.principal import Principal
from gateway.service.once import RequestKey


def request_key(caller: Principal, method: str, request: Message, hasher: IdHasher) -> RequestKey:
    """Keyed by caller and request_id; the fingerprint covers the method and every other field. It is a
    keyed digest (the ID-hash key): a request holds ID numbers, and a plain hash of it stored in the request
    log could be matched against guesses. ``unkeyed`` is the plain SHA-256 that earlier versions stored,
    so that a retry of a request answered before the upgrade still gets its answer."""
    content = type(request)()
    content.CopyFrom(request)
    content.request_id = ""  # type: ignore[attr-defined]
    data = method.encode() + b"\0" + content.SerializeToString(deterministic=True)
    return RequestKey(str(caller), request.request_id, hasher.digest(data),  # type: ignore[attr-defined]
                      unkeyed=hashlib.sha256(data).hexdigest())
