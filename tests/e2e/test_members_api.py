"""MembersService through the real server over real mTLS, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import time
import urllib.request
from datetime import date

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway._proto.copay.v1 import members_pb2 as pb
from gateway.sample import id_number
from tests.e2e.conftest import details

pytestmark = pytest.mark.e2e
T = 5  # seconds per call


def record(psn_no: str, number: str, region: str = "320300", kind=pb.INSURANCE_TYPE_EMPLOYEE,
           status=pb.ENROLMENT_STATUS_NORMAL) -> pb.MemberRecord:
    return pb.MemberRecord(psn_no=psn_no, id_number=number, insuring_region=region, insurance_type=kind,
                           enrolment_status=status)


def upsert(stub, region: str, request_id: str, *records: pb.MemberRecord) -> pb.BatchUpsertMembersResponse:
    return stub.BatchUpsertMembers(pb.BatchUpsertMembersRequest(
        parent=f"regions/{region}", request_id=request_id, members=records), timeout=T)


def refused(call, *args) -> tuple[grpc.StatusCode, str, dict, list]:
    with pytest.raises(grpc.RpcError) as err:
        call(*args, timeout=T)
    info, violations = details(err.value)
    return err.value.code(), info.reason if info else "", dict(info.metadata) if info else {}, violations


def test_health_reports_serving(gateway):
    stub = health_pb2_grpc.HealthStub(gateway.channel())
    for service in ("", "copay.v1.MembersService"):
        assert stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=T).status == \
            health_pb2.HealthCheckResponse.SERVING
    before = len(gateway.log().splitlines())
    with pytest.raises(grpc.RpcError) as unknown:  # the health servicer aborts the call itself: kept as it is
        stub.Check(health_pb2.HealthCheckRequest(service="copay.v1.NoSuchService"), timeout=T)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    logged = gateway.logged("/grpc.health.v1.Health/Check", "NOT_FOUND", before)
    assert [e["code"] for e in logged if e["msg"] == "rpc"] == ["NOT_FOUND"]
    assert "unhandled error" not in {e["msg"] for e in logged}  # not taken for a failure of the stack's own


def test_reflection_lists_the_services(gateway):
    stub = reflection_pb2_grpc.ServerReflectionStub(gateway.channel())
    answers = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=T)
    names = {s.name for answer in answers for s in answer.list_services_response.service}
    assert {"copay.v1.MembersService", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


def test_region_reports_reads_and_looks_up_its_member(gateway):
    stub = gateway.members("region-320300")
    number = id_number("320300", date(1970, 3, 9), 101)
    stored = upsert(stub, "320300", "e2e-read-1", record("E2E-R1", number, status=pb.ENROLMENT_STATUS_LAPSED))
    assert stored.members[0].name == "regions/320300/members/E2E-R1"
    got = stub.GetMember(pb.GetMemberRequest(name="regions/320300/members/E2E-R1"), timeout=T)
    assert (got.insuring_region, got.insurance_type, got.enrolment_status) == (
        "320300", pb.INSURANCE_TYPE_EMPLOYEE, pb.ENROLMENT_STATUS_LAPSED)
    assert stub.LookupMember(pb.LookupMemberRequest(parent="regions/320300", id_number=number.lower()),
                             timeout=T) == got
    assert number not in str(got)


def test_region_cannot_read_or_write_another_regions_members(gateway):
    nanjing = gateway.members("region-320100")
    number = id_number("320100", date(1981, 1, 1), 7)
    upsert(nanjing, "320100", "e2e-own-1", record("E2E-N1", number, region="320100"))
    xuzhou = gateway.members("region-320300")
    for call, request in [
        (xuzhou.GetMember, pb.GetMemberRequest(name="regions/320100/members/E2E-N1")),
        (xuzhou.ListMembers, pb.ListMembersRequest(parent="regions/320100")),
        (xuzhou.LookupMember, pb.LookupMemberRequest(parent="regions/320100", id_number=number)),
        (xuzhou.BatchUpsertMembers, pb.BatchUpsertMembersRequest(
            parent="regions/320100", request_id="e2e-steal", members=[record("E2E-N1", number, region="320100")])),
    ]:
        code, reason, meta, _ = refused(call, request)
        assert (code, reason, meta) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_CALLER",
                                        {"caller_region": "320300", "region": "320100"})
    code, reason, _, _ = refused(xuzhou.LookupMember, pb.LookupMemberRequest(parent="regions/320300",
                                                                             id_number=number))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "MEMBER_NOT_FOUND")


def test_operator_is_not_admitted_to_members(gateway):
    code, reason, meta, _ = refused(gateway.members("operator-ops").ListMembers,
                                    pb.ListMembersRequest(parent="regions/320300"))
    assert (code, reason, meta["principal"]) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_NOT_ADMITTED",
                                                 "operator/ops")


def test_certificate_naming_nobody_is_unauthenticated(gateway):
    code, reason, _, _ = refused(gateway.members("nobody").ListMembers, pb.ListMembersRequest(parent="regions/320300"))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_PRINCIPAL")


@pytest.mark.parametrize("request_, fields", [
    (pb.BatchUpsertMembersRequest(parent="regions/32030", request_id="e2e-bad-1",
                                  members=[record("E2E-B1", id_number("320300", date(1990, 1, 1), 1))]),
     {"parent"}),
    (pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="e2e-bad-2",
                                  members=[record("E2E-B1", "11010519491231002X", region="32")]),
     {"members[0].insuring_region"}),
    (pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="e2e-bad-3",
                                  members=[record("E2E-B1", "11010519491231002X", kind=9, status=42)]),
     {"members[0].insurance_type", "members[0].enrolment_status"}),
    (pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="",
                                  members=[record("E2E-B1", "11010519491231002X")]),
     {"request_id"}),
    (pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="e2e-bad-5",
                                  members=[record(f"E2E-B{i}", "11010519491231002X") for i in range(501)]),
     {"members"}),
    (pb.BatchUpsertMembersRequest(parent="regions/320300", request_id="e2e-bad-6",
                                  members=[record("E2E-B1", "110105194912310021")]),
     {"members[0].id_number"}),
])
def test_malformed_input_gets_invalid_argument_with_field_violations(gateway, request_, fields):
    code, reason, _, violations = refused(gateway.members().BatchUpsertMembers, request_)
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert {f for f, _ in violations} == fields
    assert all("11010519491231002" not in d for _, d in violations)


def test_repeated_request_id_returns_the_same_answer_and_reuse_is_refused(gateway):
    stub = gateway.members()
    number = id_number("320300", date(1966, 6, 6), 66)
    first = upsert(stub, "320300", "e2e-once-1", record("E2E-O1", number))
    assert upsert(stub, "320300", "e2e-once-1", record("E2E-O1", number)) == first
    code, reason, meta, violations = refused(stub.BatchUpsertMembers, pb.BatchUpsertMembersRequest(
        parent="regions/320300", request_id="e2e-once-1",
        members=[record("E2E-O1", number, status=pb.ENROLMENT_STATUS_TERMINATED)]))
    assert (code, reason, meta, [f for f, _ in violations]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED", {"request_id": "e2e-once-1"}, ["request_id"])
    assert stub.GetMember(pb.GetMemberRequest(name="regions/320300/members/E2E-O1"), timeout=T).enrolment_status \
        == pb.ENROLMENT_STATUS_NORMAL


def test_list_paginates_through_every_member_once(gateway):
    stub = gateway.members("region-450200")
    records = [record(f"E2E-L{i:03d}", id_number("450200", date(1950 + i, 1, 2), i), region="450200")
               for i in range(23)]
    upsert(stub, "450200", "e2e-list-1", *records)
    seen, token = [], ""
    while True:
        page = stub.ListMembers(pb.ListMembersRequest(parent="regions/450200", page_size=5, page_token=token),
                                timeout=T)
        assert len(page.members) <= 5
        seen += [m.psn_no for m in page.members]
        if not (token := page.next_page_token):
            break
    assert seen == sorted(r.psn_no for r in records)
    code, _, _, violations = refused(stub.ListMembers, pb.ListMembersRequest(parent="regions/450200",
                                                                             page_token="not-a-token"))
    assert (code, [f for f, _ in violations]) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


def test_a_page_token_over_512_characters_is_refused_even_if_it_would_decode(gateway):
    """The length check comes first: a token of exactly MAX_TOKEN (512) characters that decodes to a real
    position is taken, one of 513 that decodes to the same position is refused. (Both are a real token's
    JSON padded with spaces; the 513th character is one base64 decoding skips.)"""
    stub = gateway.members("region-110000")
    upsert(stub, "110000", "e2e-token-1", *(record(f"E2E-T{i}", id_number("110000", date(1960, 1, 1 + i), i),
                                                   region="110000") for i in range(3)))
    first = stub.ListMembers(pb.ListMembersRequest(parent="regions/110000", page_size=1), timeout=T)
    payload = base64.urlsafe_b64decode(first.next_page_token + "=" * (-len(first.next_page_token) % 4))
    padded = base64.urlsafe_b64encode(payload.ljust(384)).decode()  # 384 bytes: 512 characters, no padding
    assert len(padded) == 512 and "=" not in padded
    second = stub.ListMembers(pb.ListMembersRequest(parent="regions/110000", page_size=1, page_token=padded),
                              timeout=T)
    assert [m.psn_no for m in second.members] == ["E2E-T1"]
    assert second == stub.ListMembers(pb.ListMembersRequest(parent="regions/110000", page_size=1,
                                                            page_token=first.next_page_token), timeout=T)
    code, _, _, violations = refused(stub.ListMembers, pb.ListMembersRequest(
        parent="regions/110000", page_size=1, page_token=padded + "."))
    assert (code, [f for f, _ in violations]) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


def test_transfer_out_then_enrolment_in_the_new_region(gateway):
    number = id_number("320300", date(1975, 7, 7), 77)
    xuzhou, guangzhou = gateway.members("region-320300"), gateway.members("region-440100")
    upsert(xuzhou, "320300", "e2e-move-1", record("E2E-M1", number))
    code, reason, meta, _ = refused(guangzhou.BatchUpsertMembers, pb.BatchUpsertMembersRequest(
        parent="regions/440100", request_id="e2e-move-2", members=[record("G-M1", number, region="440100")]))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, "MEMBER_ALREADY_ENROLLED", "R14")
    assert "320300" not in str(meta)  # not where the person is insured
    moved = upsert(xuzhou, "320300", "e2e-move-3", record("E2E-M1", number, region="440100")).members[0]
    assert (moved.enrolment_status, moved.moved_to_region) == (pb.ENROLMENT_STATUS_TRANSFERRED_OUT, "440100")
    code, reason, _, _ = refused(guangzhou.BatchUpsertMembers, pb.BatchUpsertMembersRequest(
        parent="regions/440100", request_id="e2e-move-2", members=[record("G-M1", number, region="440100")]))
    assert reason == "MEMBER_ALREADY_ENROLLED"  # a retry of the refused request gets its answer again
    enrolled = upsert(guangzhou, "440100", "e2e-move-4", record("G-M1", number, region="440100")).members[0]
    assert enrolled.name == "regions/440100/members/G-M1"


def test_logs_have_one_json_line_per_call_and_no_id_number(gateway):
    number = id_number("320300", date(1988, 8, 8), 88)
    upsert(gateway.members(), "320300", "e2e-log-1", record("E2E-G1", number))
    refused(gateway.members().BatchUpsertMembers, pb.BatchUpsertMembersRequest(
        parent="regions/320300", request_id="e2e-log-2", members=[record("E2E-G2", number[:17] + "0")]))
    mine = gateway.calls("e2e-log-1", "e2e-log-2")
    text = gateway.log()
    assert number not in text and number[:17] not in text
    assert [(c["principal"], c["code"]) for c in mine] == [("region/320300", "OK"),
                                                           ("region/320300", "INVALID_ARGUMENT")]
    assert all(c["method"] == "/copay.v1.MembersService/BatchUpsertMembers" and c["latency_ms"] >= 0 for c in mine)


def test_metrics_count_calls_by_method_and_code(gateway):
    refused(gateway.members().GetMember, pb.GetMemberRequest(name="regions/320300/members/NOPE"))
    sample = ('grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="GetMember",'
              'grpc_service="copay.v1.MembersService",grpc_type="unary"}')
    for _ in range(100):  # the status reaches the client just before the gateway counts the call
        body = urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=T).read().decode()
        if sample in body:
            break
        time.sleep(0.05)
    assert sample in body
    assert "grpc_server_handling_seconds_bucket" in body


def test_sqlite_writer_commits_are_measured(gateway, backend_url):
    if not backend_url.startswith("sqlite"):
        pytest.skip("the SQLite writer commits calls in batches; PostgreSQL commits each call on its own")
    refused(gateway.members().GetMember, pb.GetMemberRequest(name="regions/320300/members/NOPE"))
    body = urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=T).read().decode()
    commits = re.search(r"^copay_db_commit_units_count (\S+)$", body, re.M)
    units = re.search(r"^copay_db_commit_units_sum (\S+)$", body, re.M)
    assert commits and units and float(units.group(1)) >= float(commits.group(1)) >= 1
    assert "copay_db_commit_seconds_bucket" in body
