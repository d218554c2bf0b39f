"""BindingsService and PoliciesService through the real server over real mTLS, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest

from gateway._proto.copay.v1 import bindings_pb2 as pb
from gateway._proto.copay.v1 import policies_pb2, policies_pb2_grpc, settlements_pb2
from tests.e2e.conftest import details
from tests.e2e.world import RESIDENT, TERMINATED, T, World, refused

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(gateway):
    return World(gateway)


def test_grantor_region_files_an_active_binding_within_jiangsu(world):
    grantor, _ = world.member("320300")
    beneficiary, _ = world.member("320100", kind=RESIDENT)
    binding = world.create(grantor, beneficiary, pb.RELATIONSHIP_MOTHER)
    assert (binding.status, binding.policy, binding.grantor, binding.beneficiary) == (
        pb.BINDING_STATUS_ACTIVE, "32@v1", grantor, beneficiary)
    assert [(h.status, h.actor, h.cause) for h in binding.history] == [
        (pb.BINDING_STATUS_ACTIVE, "region/320300", pb.TRANSITION_CAUSE_FILED)]
    assert world.bindings("320100").GetBinding(pb.GetBindingRequest(name=binding.name), timeout=T) == binding


def test_another_region_of_the_province_cannot_file_for_a_grantor_it_does_not_insure(world):
    grantor, _ = world.member("320300")
    beneficiary, _ = world.member("320100")
    code, reason, meta, _ = refused(world.bindings("320100").CreateBinding, pb.CreateBindingRequest(
        request_id="steal-1", grantor=grantor, beneficiary=beneficiary,
        relationship=pb.RELATIONSHIP_FATHER))
    assert (code, reason, meta) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_CALLER",
                                    {"caller_region": "320100", "region": "320300"})


def test_jiangsu_spouse_binding_is_active_only_after_the_beneficiary_region_confirms(world):
    grantor, _ = world.member("320300")
    spouse, number = world.member("320100")
    filed = world.bindings("320300").CreateBinding(pb.CreateBindingRequest(
        request_id="spouse-1", grantor=grantor,
        beneficiary_person=pb.PersonRef(id_number=number, insuring_region="320100"),
        relationship=pb.RELATIONSHIP_SPOUSE), timeout=T)
    assert (filed.status, filed.beneficiary) == (pb.BINDING_STATUS_PENDING_CONFIRMATION, spouse)
    code, reason, meta, _ = refused(world.bindings("320300").ConfirmBinding,
                                    pb.ConfirmBindingRequest(name=filed.name, request_id="confirm-self"))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_BENEFICIARY_REGION", "R11")
    confirmed = world.bindings("320100").ConfirmBinding(pb.ConfirmBindingRequest(name=filed.name,
                                                                                  request_id="confirm-1"), timeout=T)
    assert confirmed.status == pb.BINDING_STATUS_ACTIVE
    assert [(h.actor, h.cause) for h in confirmed.history] == [
        ("region/320300", pb.TRANSITION_CAUSE_FILED), ("region/320100", pb.TRANSITION_CAUSE_CONFIRMED)]
    code, reason, _, _ = refused(world.bindings("320100").ConfirmBinding,
                                 pb.ConfirmBindingRequest(name=filed.name, request_id="confirm-2"))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "BINDING_NOT_PENDING_CONFIRMATION")


def test_shanghai_binding_waits_for_office_review(world):
    grantor, _ = world.member("310000")
    child, _ = world.member("310000", kind=RESIDENT)
    filed = world.create(grantor, child, pb.RELATIONSHIP_DAUGHTER)
    assert filed.status == pb.BINDING_STATUS_PENDING_REVIEW
    approved = world.bindings("310000").ApproveBinding(pb.ApproveBindingRequest(name=filed.name,
                                                                                 request_id="approve-1"), timeout=T)
    assert (approved.status, approved.history[-1].cause) == (pb.BINDING_STATUS_ACTIVE, pb.TRANSITION_CAUSE_APPROVED)


def test_either_party_revokes_and_a_closed_binding_stays_closed(world):
    grantor, _ = world.member("420100")
    son, _ = world.member("421000")
    daughter, _ = world.member("420100")
    by_grantor = world.create(grantor, son, pb.RELATIONSHIP_SON)
    by_beneficiary = world.create(grantor, daughter, pb.RELATIONSHIP_DAUGHTER)
    revoked = world.bindings("420100").RevokeBinding(pb.RevokeBindingRequest(
        name=by_grantor.name, request_id="rv-1", reason=pb.TRANSITION_CAUSE_GRANTOR_REQUEST), timeout=T)
    assert revoked.status == pb.BINDING_STATUS_REVOKED
    code, reason, _, _ = refused(world.bindings("421000").RevokeBinding, pb.RevokeBindingRequest(
        name=by_grantor.name, request_id="rv-2", reason=pb.TRANSITION_CAUSE_BENEFICIARY_REQUEST))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "BINDING_CLOSED")
    revoked = world.bindings("420100").RevokeBinding(pb.RevokeBindingRequest(
        name=by_beneficiary.name, request_id="rv-3", reason=pb.TRANSITION_CAUSE_BENEFICIARY_REQUEST), timeout=T)
    assert (revoked.status, revoked.history[-1].actor) == (pb.BINDING_STATUS_REVOKED, "region/420100")
    again = world.create(grantor, son, pb.RELATIONSHIP_SON)  # a revoked pair may bind anew
    assert again.status == pb.BINDING_STATUS_ACTIVE and again.name != by_grantor.name


def test_third_region_can_neither_read_nor_revoke(world):
    grantor, _ = world.member("130200")
    beneficiary, _ = world.member("130500")
    binding = world.create(grantor, beneficiary, pb.RELATIONSHIP_FATHER)
    for call, request in [(world.bindings("450100").GetBinding, pb.GetBindingRequest(name=binding.name)),
                          (world.bindings("450100").RevokeBinding, pb.RevokeBindingRequest(
                              name=binding.name, request_id="rv-x", reason=pb.TRANSITION_CAUSE_GRANTOR_REQUEST))]:
        code, reason, _, _ = refused(call, request)
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_PARTY")


def test_a_name_in_another_collection_is_invalid_argument_not_looked_up(world):
    """parse_scoped checks the collection: a settlements name given to GetBinding is malformed input
    (field ``name``), even when a binding with that id exists in that region."""
    grantor, _ = world.member("420100")
    beneficiary, _ = world.member("420100")
    binding = world.create(grantor, beneficiary, pb.RELATIONSHIP_FATHER, binding_id=world.next_id("collection"))
    region, _, binding_id = binding.name.split("/")[1:]
    stub = world.bindings("420100")
    assert stub.GetBinding(pb.GetBindingRequest(name=binding.name), timeout=T) == binding
    for wrong in (f"regions/{region}/settlements/{binding_id}", "regions/420100/settlements/x"):
        code, reason, _, violations = refused(stub.GetBinding, pb.GetBindingRequest(name=wrong))
        assert (code, reason, violations) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", [
            ("name", "must look like regions/{admdvs}/bindings/{id}")]), wrong


def test_list_paginates_in_filing_order_and_filters_by_status(world):
    grantor, _ = world.member("450100")
    relatives = [pb.RELATIONSHIP_FATHER, pb.RELATIONSHIP_MOTHER, pb.RELATIONSHIP_SON, pb.RELATIONSHIP_DAUGHTER,
                 pb.RELATIONSHIP_ELDER_BROTHER, pb.RELATIONSHIP_YOUNGER_SISTER, pb.RELATIONSHIP_MATERNAL_GRANDSON]
    filed = [world.create(grantor, world.member("450200")[0], r).name for r in relatives]
    world.bindings("450100").RevokeBinding(pb.RevokeBindingRequest(
        name=filed[2], request_id="rv-list", reason=pb.TRANSITION_CAUSE_GRANTOR_REQUEST), timeout=T)
    stub, seen, token = world.bindings("450100"), [], ""
    while True:
        page = stub.ListBindings(pb.ListBindingsRequest(grantor=grantor, page_size=3, page_token=token), timeout=T)
        seen += [b.name for b in page.bindings]
        if not (token := page.next_page_token):
            break
    assert seen == filed
    active = stub.ListBindings(pb.ListBindingsRequest(grantor=grantor, status=pb.BINDING_STATUS_ACTIVE), timeout=T)
    assert [b.name for b in active.bindings] == filed[:2] + filed[3:]
    beneficiary = active.bindings[0].beneficiary
    mine = world.bindings("450200").ListBindings(pb.ListBindingsRequest(beneficiary=beneficiary), timeout=T)
    assert [b.name for b in mine.bindings] == [filed[0]]
    code, reason, _, _ = refused(world.bindings("450200").ListBindings, pb.ListBindingsRequest(grantor=grantor))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_CALLER")


def test_terminated_members_bindings_end_by_themselves(world):
    grantor, number = world.member("440100")
    child, _ = world.member("440100", kind=RESIDENT)
    filed = world.create(grantor, child, pb.RELATIONSHIP_SON)
    world.bindings("440100").ApproveBinding(pb.ApproveBindingRequest(name=filed.name, request_id="ap-r14"), timeout=T)
    world.report("440100", grantor.rsplit("/", 1)[1], number, status=TERMINATED)
    ended = world.bindings("440100").GetBinding(pb.GetBindingRequest(name=filed.name), timeout=T)
    assert (ended.status, ended.history[-1].actor, ended.history[-1].cause) == (
        pb.BINDING_STATUS_ENDED, "gateway", pb.TRANSITION_CAUSE_GRANTOR_TERMINATED)


@pytest.mark.parametrize("relationship, reason, rule", [
    (pb.RELATIONSHIP_SPOUSE_MOTHER, "RELATIVE_NOT_ELIGIBLE", "R4"),
    (pb.RELATIONSHIP_FAMILY_ACCOUNT_PROXY, "FAMILY_ACCOUNT_NOT_MUTUAL_AID", "R13"),
])
def test_refusals_name_their_rule(world, relationship, reason, rule):
    grantor, _ = world.member("420100")
    beneficiary, _ = world.member("420100")
    code, got, meta, _ = refused(world.bindings("420100").CreateBinding, pb.CreateBindingRequest(
        request_id=f"refuse-{relationship}", grantor=grantor, beneficiary=beneficiary,
        relationship=relationship))
    assert (code, got, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, reason, rule)
    if reason == "RELATIVE_NOT_ELIGIBLE":  # enum values as the client sends them
        assert meta["relationship"] == pb.Relationship.Name(relationship)


def test_resident_grantor_is_refused_by_r1(world):
    grantor, _ = world.member("420100", kind=RESIDENT)
    beneficiary, _ = world.member("420100")
    code, reason, meta, _ = refused(world.bindings("420100").CreateBinding, pb.CreateBindingRequest(
        request_id="r1", grantor=grantor, beneficiary=beneficiary,
        relationship=pb.RELATIONSHIP_SON))
    assert (code, reason, meta["rule"], meta["insurance_type"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "GRANTOR_NOT_EMPLOYEE_INSURED", "R1", "INSURANCE_TYPE_RESIDENT")


def test_malformed_create_names_every_bad_field(world):
    code, reason, _, violations = refused(world.bindings("320300").CreateBinding, pb.CreateBindingRequest(
        request_id="", grantor="regions/320300", relationship=99, binding_id="Bad_Id"))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert {f for f, _ in violations} == {"request_id", "grantor", "beneficiary", "relationship", "binding_id"}


def test_simultaneous_creates_for_one_pair_yield_one_binding(world):
    grantor, _ = world.member("421000")
    beneficiary, _ = world.member("421000")
    stub = world.bindings("421000")
    calls = [stub.CreateBinding.future(pb.CreateBindingRequest(
        request_id=f"race-{i}", grantor=grantor, beneficiary=beneficiary,
        relationship=pb.RELATIONSHIP_FATHER), timeout=T) for i in range(8)]
    outcomes = []
    for call in calls:
        try:
            outcomes.append(call.result().name)
        except grpc.RpcError as err:
            outcomes.append(details(err)[0].reason)
    assert outcomes.count("BINDING_EXISTS") == 7
    listed = stub.ListBindings(pb.ListBindingsRequest(grantor=grantor), timeout=T)
    assert len(listed.bindings) == 1


def test_policies_in_force_are_listed_for_regions_and_operators(gateway):
    for cert in ("region-320300", "operator-ops"):
        stub = policies_pb2_grpc.PoliciesServiceStub(gateway.channel(cert))
        policies = {p.province: p for p in stub.ListProvincePolicies(policies_pb2.ListProvincePoliciesRequest(),
                                                                     timeout=T).policies}
        assert {"11", "13", "31", "32", "42", "44", "45"} <= policies.keys()
    jiangsu, guangdong = policies["32"], policies["44"]
    assert list(jiangsu.confirmation_required) == [pb.RELATIONSHIP_SPOUSE] and jiangsu.policy == "32@v1"
    assert guangdong.geography == policies_pb2.GEOGRAPHY_POOLING_REGION and guangdong.review_required
    assert settlements_pb2.USE_OUTPATIENT in guangdong.allowed_uses
    assert guangdong.grantor_order == policies_pb2.GRANTOR_ORDER_FILING
    assert pb.RELATIONSHIP_ELDER_BROTHER not in guangdong.relationships and guangdong.sources
