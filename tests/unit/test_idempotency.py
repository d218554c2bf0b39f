"""A request's fingerprint in the request log is keyed: it holds ID numbers, so a plain hash could be matched
against guesses. Rows stored with the plain hash by earlier versions still replay."""

from __future__ import annotations

import hashlib

import pytest

from gateway._proto.copay.v1 import members_pb2 as pb
from gateway.api.idempotency import request_key
from gateway.domain.errors import Refusal
from gateway.domain.identity import IdHasher
from gateway.security.principal import Kind, Principal
from gateway.service.once import _replay
from gateway.service.ports import PriorAnswer

CALLER = Principal(Kind.REGION, "320300")
HASHER = IdHasher(b"k" * 32)


def report(id_number: str, request_id: str = "r1") -> pb.BatchUpsertMembersRequest:
    return pb.BatchUpsertMembersRequest(parent="regions/320300", request_id=request_id, members=[pb.MemberRecord(
        psn_no="320300000001", id_number=id_number, insuring_region="320300")])


def plain(request: pb.BatchUpsertMembersRequest) -> str:
    content = pb.BatchUpsertMembersRequest()
    content.CopyFrom(request)
    content.request_id = ""
    return hashlib.sha256(b"BatchUpsertMembers\0" + content.SerializeToString(deterministic=True)).hexdigest()


def test_the_fingerprint_is_keyed_and_covers_everything_but_the_request_id():
    request = report("11010519491231002X")
    key = request_key(CALLER, "BatchUpsertMembers", request, HASHER)
    assert key.fingerprint != plain(request) and key.unkeyed == plain(request)
    assert key.fingerprint != request_key(CALLER, "BatchUpsertMembers", request, IdHasher(b"j" * 32)).fingerprint
    assert key.fingerprint == request_key(CALLER, "BatchUpsertMembers", report("11010519491231002X", "r2"),
                                          HASHER).fingerprint
    assert key.fingerprint != request_key(CALLER, "BatchUpsertMembers", report("110105194912310029"),
                                          HASHER).fingerprint
    assert key.fingerprint != request_key(CALLER, "CreateBinding", request, HASHER).fingerprint


def test_an_answer_stored_under_the_plain_fingerprint_still_replays_and_a_different_request_does_not():
    request = report("11010519491231002X")
    key = request_key(CALLER, "BatchUpsertMembers", request, HASHER)
    assert _replay(PriorAnswer(plain(request), b"first answer"), key) == b"first answer"
    assert _replay(PriorAnswer(key.fingerprint, b"first answer"), key) == b"first answer"
    with pytest.raises(Refusal) as refused:
        _replay(PriorAnswer(plain(report("110105194912310029")), b"first answer"), key)
    assert refused.value.reason == "REQUEST_ID_REUSED"
