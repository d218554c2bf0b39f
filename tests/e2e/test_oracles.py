"""No oracles across regions, through the real server on both engines: what a region may see is
decided first, and a refusal tells it nothing more than its own legitimate request needs.

Each test compares the answer about a thing that exists with the answer about one that does not
(or is in another state): they must be the same.
"""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from sqlalchemy import select

from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import settlements_pb2 as spb
from gateway.sample import id_number
from gateway.store.db import make_engine
from gateway.store.tables import impersonation_attempts
from tests.e2e.conftest import details
from tests.e2e.world import COUNTER, RESIDENT, TERMINATED, T, World, refused, set_pair

pytestmark = pytest.mark.e2e
LAPSED = 2  # ENROLMENT_STATUS_LAPSED


@pytest.fixture(scope="module")
def world(gateway):
    return World(gateway)


@pytest.fixture(scope="module")
def database(gateway):
    engine = make_engine(gateway.database_url)
    yield engine
    engine.dispose()


def unknown(region: str) -> str:
    return f"regions/{region}/members/NOBODY-{next(COUNTER)}"


def create_refusal(world, grantor, beneficiary, relationship=bpb.RELATIONSHIP_MOTHER):
    """(code, reason, metadata, message) of a refused CreateBinding."""
    with pytest.raises(grpc.RpcError) as err:
        world.create(grantor, beneficiary, relationship)
    info, _ = details(err.value)
    return err.value.code(), info.reason, dict(info.metadata), err.value.details()


def test_create_binding_refuses_by_geography_before_saying_anything_of_the_beneficiary(world):
    grantor, _ = world.member("320300")
    normal, _ = world.member("440100", kind=RESIDENT)
    ended, _ = world.member("440100", kind=RESIDENT, status=TERMINATED)
    answers = [create_refusal(world, grantor, b) for b in (normal, ended, unknown("440100"))]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (grpc.StatusCode.FAILED_PRECONDITION, "CROSS_PROVINCE_CLOSED")  # R5, bindings too


def test_r3_unknown_terminated_and_lapsed_beneficiaries_get_one_answer_without_their_status(world):
    grantor, _ = world.member("420100")
    lapsed, _ = world.member("421000", kind=RESIDENT, status=LAPSED)
    ended, _ = world.member("421000", kind=RESIDENT, status=TERMINATED)
    answers = [create_refusal(world, grantor, b) for b in (lapsed, ended, unknown("421000"))]
    assert answers[0] == answers[1] == answers[2]
    code, reason, meta, message = answers[0]
    assert (code, reason, meta) == (grpc.StatusCode.FAILED_PRECONDITION, "BENEFICIARY_NOT_NORMALLY_INSURED",
                                    {"rule": "R3"})
    assert "lapsed" not in message and "terminated" not in message


def test_by_id_number_a_person_is_looked_up_only_in_the_region_the_caller_names(world):
    grantor, _ = world.member("420100")
    beneficiary, number = world.member("421000", kind=RESIDENT)

    def by_number(region):
        return bpb.CreateBindingRequest(request_id=world.next_id("person"), grantor=grantor,
                                        beneficiary_person=bpb.PersonRef(id_number=number, insuring_region=region),
                                        relationship=bpb.RELATIONSHIP_DAUGHTER)

    stub = world.bindings("420100")
    elsewhere = refused(stub.CreateBinding, by_number("420100"))  # insured in Jingzhou, asked in Wuhan
    nobody = refused(stub.CreateBinding, bpb.CreateBindingRequest(
        request_id=world.next_id("person"), grantor=grantor, relationship=bpb.RELATIONSHIP_DAUGHTER,
        beneficiary_person=bpb.PersonRef(id_number=id_number("420100", date(1999, 9, 9), 999),
                                         insuring_region="420100")))
    assert elsewhere == nobody and elsewhere[1] == "BENEFICIARY_NOT_NORMALLY_INSURED"
    assert stub.CreateBinding(by_number("421000"), timeout=T).beneficiary == beneficiary


def test_bindings_of_other_regions_are_refused_alike_whether_or_not_they_exist(world):
    grantor, _ = world.member("130200")
    beneficiary, _ = world.member("130500", kind=RESIDENT)
    real = world.create(grantor, beneficiary, bpb.RELATIONSHIP_FATHER).name
    ghost = real + "x"  # the same namespace, an id nobody took
    outsider = world.bindings("450100")
    calls = [
        lambda n: (outsider.GetBinding, bpb.GetBindingRequest(name=n)),
        lambda n: (outsider.ConfirmBinding, bpb.ConfirmBindingRequest(name=n, request_id=world.next_id("c"))),
        lambda n: (outsider.ApproveBinding, bpb.ApproveBindingRequest(name=n, request_id=world.next_id("a"))),
        lambda n: (outsider.RevokeBinding, bpb.RevokeBindingRequest(
            name=n, request_id=world.next_id("r"), reason=bpb.TRANSITION_CAUSE_GRANTOR_REQUEST)),
    ]
    for make in calls:
        about_real, about_ghost = refused(*make(real)), refused(*make(ghost))
        assert about_real[:2] == about_ghost[:2] == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_PARTY")
        assert set(about_real[2]) == set(about_ghost[2]) == {"caller_region", "binding"}
    # In its own namespace a region learns only that its own id is free.
    code, reason, _, _ = refused(world.bindings("130200").GetBinding, bpb.GetBindingRequest(name=ghost))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "BINDING_NOT_FOUND")


def test_each_region_has_its_own_id_namespace(world):
    chosen = f"family-{next(COUNTER)}"
    names = []
    for region in ("420100", "421000"):
        grantor, _ = world.member(region)
        beneficiary, _ = world.member(region, kind=RESIDENT)
        names.append(world.create(grantor, beneficiary, bpb.RELATIONSHIP_SON, binding_id=chosen).name)
        world.fund(grantor, 1_000)
    assert names == [f"regions/420100/bindings/{chosen}", f"regions/421000/bindings/{chosen}"]
    settled = []
    for region in ("420100", "421000"):
        beneficiary = world.bindings(region).GetBinding(bpb.GetBindingRequest(
            name=f"regions/{region}/bindings/{chosen}"), timeout=T).beneficiary
        settled.append(world.settlements(region).Settle(spb.SettleRequest(
            request_id=world.next_id("s"), settlement_id=chosen, claim=world.claim(beneficiary, 100)),
            timeout=T).name)
    assert settled == [f"regions/420100/settlements/{chosen}", f"regions/421000/settlements/{chosen}"]


@pytest.fixture(scope="module")
def shared(world, database):
    """A Wuhan patient paid for in Xuzhou by a Wuhan and a Jingzhou grantor (pairs 32-42 open)."""
    set_pair(world.gateway, "32", "42", True)
    beneficiary, _ = world.member("420100", kind=RESIDENT)
    wuhan, _ = world.member("420100")
    jingzhou, _ = world.member("421000")
    for grantor, relationship in ((wuhan, bpb.RELATIONSHIP_SON), (jingzhou, bpb.RELATIONSHIP_DAUGHTER)):
        world.create(grantor, beneficiary, relationship)
        world.fund(grantor, 3_000)
    paid = world.settle(world.claim(beneficiary, 5_000, region="320300"))
    return paid, beneficiary, wuhan, jingzhou


def test_each_party_sees_its_own_view_of_a_settlement_and_no_one_else_sees_it(world, shared):
    paid, beneficiary, wuhan, jingzhou = shared
    assert [(l.grantor, l.binding, l.grantor_region, l.amount_fen) for l in paid.lines] == [
        ("", "", "420100", 3_000), ("", "", "421000", 2_000)]  # the treatment region: amounts and regions
    assert (paid.mutual_aid_fen, paid.cash_fen) == (5_000, 0)

    def get(region):
        return world.settlements(region).GetSettlement(spb.GetSettlementRequest(name=paid.name), timeout=T)

    full = get("420100")  # the beneficiary's region (and Wuhan grantor's)
    assert [l.grantor for l in full.lines] == [wuhan, jingzhou] and all(l.binding for l in full.lines)
    assert full.HasField("mutual_aid_fen")
    only_own = get("421000")  # only a grantor's region
    assert [(l.grantor, l.amount_fen) for l in only_own.lines] == [(jingzhou, 2_000)]
    assert not only_own.HasField("mutual_aid_fen") and not only_own.HasField("cash_fen") and not only_own.refunds
    assert get("320300").lines == paid.lines  # the treatment region reads what it was answered
    ghost = paid.name.rsplit("/", 1)[0] + "/no-such-settlement"
    for name in (paid.name, ghost):
        code, reason, meta, _ = refused(world.settlements("450100").GetSettlement, spb.GetSettlementRequest(name=name))
        assert (code, reason, set(meta)) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_PARTY",
                                             {"caller_region", "settlement"})


def test_only_the_settling_region_may_reverse_and_the_refusal_tells_nothing(world, shared):
    paid = shared[0]
    ghost = paid.name.rsplit("/", 1)[0] + "/no-such-settlement"
    answers = [refused(world.settlements("420100").ReverseSettlement, spb.ReverseSettlementRequest(
        name=name, request_id=world.next_id("rv"))) for name in (paid.name, ghost)]
    assert answers[0][:2] == answers[1][:2] == (grpc.StatusCode.PERMISSION_DENIED, "NOT_TREATMENT_REGION")
    assert set(answers[0][2]) == set(answers[1][2]) == {"caller_region", "settlement"}


def test_a_quote_shows_a_treatment_region_elsewhere_the_totals_not_each_grantors_balance(world, shared):
    _, beneficiary, _, jingzhou = shared
    huge = world.claim(beneficiary, 10**9, region="320300", partial=True)
    quote = world.settlements("320300").PreSettle(spb.PreSettleRequest(claim=huge), timeout=T)
    assert (list(quote.lines), quote.mutual_aid_fen + quote.cash_fen) == ([], 10**9)
    own = world.settlements("420100").PreSettle(spb.PreSettleRequest(
        claim=world.claim(beneficiary, 10**9, partial=True)), timeout=T)
    assert [l.grantor for l in own.lines] == [jingzhou]  # the beneficiary's own region sees who would pay


def test_unknown_patient_and_someone_elses_credential_get_one_answer_and_quotes_record_nothing(world, database):
    grantor, beneficiary, _ = world.family("420100")
    stranger = f"regions/420100/members/NOBODY-{next(COUNTER)}"
    world.numbers[stranger] = world.numbers[grantor]
    wrong_card = world.claim(beneficiary, 100, holder=grantor)
    no_patient = world.claim(stranger, 100)
    stub = world.settlements("420100")
    quotes = [refused(stub.PreSettle, spb.PreSettleRequest(claim=c)) for c in (wrong_card, no_patient)]
    settles = [refused(stub.Settle, spb.SettleRequest(request_id=world.next_id("imp"), claim=c))
               for c in (wrong_card, wrong_card, no_patient)]
    assert quotes[0] == quotes[1] == settles[0] == settles[1] == settles[2]
    assert quotes[0][:2] == (grpc.StatusCode.PERMISSION_DENIED, "IMPERSONATION")
    with database.connect() as conn:
        rows = conn.execute(select(impersonation_attempts).where(
            impersonation_attempts.c.beneficiary_psn_no == beneficiary.rsplit("/", 1)[1])).all()
    assert [r.attempts for r in rows] == [2]  # two settles, counted on one row; the quote is not an attempt


def test_named_grantor_excluded_by_a_rule_refuses_the_settlement(world, database):
    """Guangxi allows long-term-care premiums, Hubei does not (R7): named, the Hubei grantor refuses the
    whole bill; unnamed, it is skipped and the Guangxi grantor pays."""
    set_pair(world.gateway, "42", "45", True)
    beneficiary, _ = world.member("450100", kind=RESIDENT)
    guangxi, _ = world.member("450100")
    hubei, _ = world.member("420100")
    for grantor, relationship in ((guangxi, bpb.RELATIONSHIP_SON), (hubei, bpb.RELATIONSHIP_DAUGHTER)):
        world.create(grantor, beneficiary, relationship)
        world.fund(grantor, 5_000)
    premium = spb.USE_LONG_TERM_CARE_PREMIUM
    code, reason, meta, _ = refused(world.settlements("450100").Settle, spb.SettleRequest(
        request_id=world.next_id("named"), claim=world.claim(beneficiary, 1_000, use=premium,
                                                             grantors=[guangxi, hubei])))
    assert (code, reason, meta["rule"], meta["grantor_region"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "USE_NOT_ALLOWED", "R7", "420100")
    paid = world.settle(world.claim(beneficiary, 1_000, use=premium))
    assert [l.grantor for l in paid.lines] == [guangxi]
    assert (world.balance(guangxi), world.balance(hubei)) == (4_000, 5_000)
