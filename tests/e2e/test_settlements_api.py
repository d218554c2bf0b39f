"""Accounts and settlements through the real server over real mTLS, on SQLite and PostgreSQL:
an accepting and a refusing case per rule."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from gateway._proto.copay.v1 import accounts_pb2, bindings_pb2 as bpb, settlements_pb2 as pb
from gateway.sample import id_number
from gateway.store.db import make_engine
from gateway.store.tables import impersonation_attempts
from tests.e2e.world import RESIDENT, T, TERMINATED, World, refused, set_pair
from tests.invariants import check_ledger

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(gateway):
    return World(gateway)


@pytest.fixture(scope="module")
def database(gateway):
    engine = make_engine(gateway.database_url)
    yield engine
    engine.dispose()


def test_outpatient_bill_is_paid_from_the_grantors_balance(world):
    grantor, beneficiary, binding = world.family("420100", fen=20_000)
    settled = world.settle(world.claim(beneficiary, 5_000, fund_part=12_000))
    assert (settled.mutual_aid_fen, settled.cash_fen, settled.personal_part_fen, settled.total_fen) == (
        5_000, 0, 5_000, 17_000)
    assert [(l.grantor, l.binding, l.amount_fen) for l in settled.lines] == [(grantor, binding.name, 5_000)]
    assert world.balance(grantor) == 15_000


def test_pre_settle_quotes_and_moves_nothing(world):
    grantor, beneficiary, _ = world.family("420100", fen=3_000)
    quote = world.settlements("420100").PreSettle(pb.PreSettleRequest(
        claim=world.claim(beneficiary, 5_000, partial=True)), timeout=T)
    assert (quote.mutual_aid_fen, quote.cash_fen, [l.grantor for l in quote.lines]) == (3_000, 2_000, [grantor])
    assert world.balance(grantor) == 3_000


def test_r8_grantors_card_for_the_beneficiarys_visit_is_impersonation_and_is_recorded(world, database):
    grantor, beneficiary, _ = world.family("420100")
    request_id = world.next_id("impersonation")
    code, reason, meta, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=request_id, claim=world.claim(beneficiary, 1_000, holder=grantor)))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.PERMISSION_DENIED, "IMPERSONATION", "R8")
    assert world.balance(grantor) == 10_000
    with database.connect() as conn:
        rows = conn.execute(select(impersonation_attempts).where(
            impersonation_attempts.c.last_request_id == request_id)).all()
    assert [(r.caller, f"regions/{r.beneficiary_region}/members/{r.beneficiary_psn_no}", r.attempts) for r in rows] == [
        ("region/420100", beneficiary, 1)]
    assert world.numbers[grantor] not in str(rows)


def test_r8_a_quote_and_an_unknown_patient_leave_no_impersonation_record(world, database):
    """A quote is not an attempt to pay (only Settle records one), and a patient the gateway does not know
    has no row to count on: the table is as it was. The Settle with the grantor's card at the end shows
    that this table is where an attempt would appear."""
    grantor, beneficiary, _ = world.family("420100")
    stranger = f"regions/420100/members/NOBODY-{world.next_id('p')}"
    world.numbers[stranger] = world.numbers[beneficiary]
    wrong_card = world.claim(beneficiary, 1_000, holder=grantor)
    by_name = world.claim(stranger, 1_000)
    by_number = world.claim(beneficiary, 1_000)
    by_number.insuring_region = "420100"  # find the patient by the card's ID number: a number nobody has
    by_number.credential.holder_id_number = id_number("420100", date(1930, 1, 1), 901)
    stub = world.settlements("420100")

    def attempts() -> list:
        with database.connect() as conn:
            return conn.execute(select(impersonation_attempts).order_by(impersonation_attempts.c.seq)).all()

    before = attempts()
    for claim in (wrong_card, by_name, by_number):
        code, reason, _, _ = refused(stub.PreSettle, pb.PreSettleRequest(claim=claim))
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "IMPERSONATION")
    assert attempts() == before, "a quote recorded an impersonation attempt"
    for claim in (by_name, by_number):
        code, reason, _, _ = refused(stub.Settle, pb.SettleRequest(request_id=world.next_id("imp"), claim=claim))
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "IMPERSONATION")
    assert attempts() == before, "an unknown patient's refusal recorded an impersonation attempt"
    request_id = world.next_id("imp")
    refused(stub.Settle, pb.SettleRequest(request_id=request_id, claim=wrong_card))
    added = [r for r in attempts() if r not in before]
    assert [(r.beneficiary_psn_no, r.attempts, r.last_request_id) for r in added] == [
        (beneficiary.rsplit("/", 1)[1], 1, request_id)]


def test_r7_cosmetics_at_a_pharmacy_are_refused_and_drugs_are_paid(world):
    grantor, beneficiary, _ = world.family("420100")
    code, reason, meta, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 800, use=pb.USE_PHARMACY, items=[
            pb.ITEM_CATEGORY_DRUG, pb.ITEM_CATEGORY_COSMETIC])))
    assert (code, reason, meta["rule"], meta["items"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "NON_MEDICAL_ITEMS", "R7", "ITEM_CATEGORY_COSMETIC")
    paid = world.settle(world.claim(beneficiary, 800, use=pb.USE_PHARMACY, items=[pb.ITEM_CATEGORY_DRUG]))
    assert paid.mutual_aid_fen == 800 and world.balance(grantor) == 9_200


def test_r7_non_designated_clinic_is_refused(world):
    grantor, beneficiary, _ = world.family("420100")
    code, reason, meta, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 1_000, designated=False)))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, "INSTITUTION_NOT_DESIGNATED", "R7")
    assert world.balance(grantor) == 10_000


def test_r7_resident_premium_is_paid_and_an_use_the_province_forbids_is_refused(world):
    grantor, beneficiary, _ = world.family("420100")
    paid = world.settle(world.claim(beneficiary, 38_000, use=pb.USE_RESIDENT_PREMIUM, partial=True))
    assert (paid.use, paid.mutual_aid_fen, paid.cash_fen, paid.institution_code) == (
        pb.USE_RESIDENT_PREMIUM, 10_000, 28_000, "")
    assert world.balance(grantor) == 0
    grantor, beneficiary, _ = world.family("420100")
    code, reason, meta, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 1_000, use=pb.USE_LONG_TERM_CARE_PREMIUM)))
    assert (code, reason, meta["rule"], meta["policy"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "USE_NOT_ALLOWED", "R7", "42@v1")
    grantor, beneficiary, _ = world.family("450100")  # Guangxi allows long-term-care premiums
    assert world.settle(world.claim(beneficiary, 1_000, use=pb.USE_LONG_TERM_CARE_PREMIUM)).mutual_aid_fen == 1_000


def test_r7_only_the_personal_part_is_ever_paid(world):
    grantor, beneficiary, _ = world.family("420100", fen=100_000)
    paid = world.settle(world.claim(beneficiary, 2_500, fund_part=40_000))
    assert (paid.mutual_aid_fen, world.balance(grantor)) == (2_500, 97_500)
    code, _, _, violations = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=pb.SettlementClaim(
            **{**_fields(world.claim(beneficiary, 2_500, fund_part=40_000)), "total_fen": 30_000})))
    assert (code, [f for f, _ in violations]) == (grpc.StatusCode.INVALID_ARGUMENT, ["claim.total_fen"])


def _fields(message):
    return {f.name: v for f, v in message.ListFields()}


def test_r6_balance_of_30_yuan_pays_30_of_a_50_yuan_bill_only_when_partial_is_allowed(world):
    grantor, beneficiary, _ = world.family("420100", fen=3_000)
    code, reason, meta, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 5_000)))
    assert (code, reason, meta["rule"], meta["available_fen"], meta["requested_fen"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE", "R6", "3000", "5000")
    paid = world.settle(world.claim(beneficiary, 5_000, partial=True))
    assert (paid.mutual_aid_fen, paid.cash_fen, world.balance(grantor)) == (3_000, 2_000, 0)
    nothing = world.settle(world.claim(beneficiary, 5_000, partial=True))  # a zero balance pays nothing
    assert (nothing.mutual_aid_fen, nothing.cash_fen, list(nothing.lines)) == (0, 5_000, [])


def test_r9_two_grantors_are_drawn_in_filing_order_unless_named(world):
    beneficiary, _ = world.member("320100", kind=RESIDENT)
    first, _ = world.member("320300")
    second, _ = world.member("320100")
    world.create(first, beneficiary, bpb.RELATIONSHIP_SON)
    world.create(second, beneficiary, bpb.RELATIONSHIP_DAUGHTER)
    world.fund(first, 2_000)
    world.fund(second, 9_000)
    paid = world.settle(world.claim(beneficiary, 5_000))
    assert [(l.grantor, l.amount_fen) for l in paid.lines] == [(first, 2_000), (second, 3_000)]
    named = world.settle(world.claim(beneficiary, 1_000, grantors=[second]))
    assert [(l.grantor, l.amount_fen) for l in named.lines] == [(second, 1_000)]
    assert (world.balance(first), world.balance(second)) == (0, 5_000)


def test_r10_revoked_binding_pays_nothing_and_the_balance_stays_with_the_grantor(world):
    grantor, beneficiary, binding = world.family("420100")
    world.bindings("420100").RevokeBinding(bpb.RevokeBindingRequest(
        name=binding.name, request_id=world.next_id("rv"), reason=bpb.TRANSITION_CAUSE_BENEFICIARY_REQUEST), timeout=T)
    code, reason, meta, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 1_000)))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_ACTIVE_BINDING", "R10")
    assert world.balance(grantor) == 10_000


def test_r5_binding_whose_province_pair_closed_after_filing_cannot_settle(world, database):
    set_pair(world.gateway, "32", "45", True)
    grantor, _ = world.member("320300")
    beneficiary, _ = world.member("450100", kind=RESIDENT)
    world.create(grantor, beneficiary, bpb.RELATIONSHIP_FATHER)
    world.fund(grantor, 10_000)
    assert world.settle(world.claim(beneficiary, 1_000)).mutual_aid_fen == 1_000
    set_pair(world.gateway, "45", "32", False)
    code, reason, meta, _ = refused(world.settlements("450100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 1_000)))
    assert (code, reason, meta["rule"], meta["grantor_province"], meta["other_province"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "CROSS_PROVINCE_CLOSED", "R5", "32", "45")
    assert world.balance(grantor) == 9_000


def test_r5_same_region_only_province_pays_only_in_the_grantors_region(world):
    grantor, beneficiary, binding = world.family("440100")
    world.bindings("440100").ApproveBinding(bpb.ApproveBindingRequest(name=binding.name,
                                                                      request_id=world.next_id("ap")), timeout=T)
    code, reason, _, _ = refused(world.settlements("445300").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 1_000, region="445300")))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OUTSIDE_POOLING_REGION")
    assert world.settle(world.claim(beneficiary, 1_000)).mutual_aid_fen == 1_000


def test_only_the_treatment_region_settles_its_treatments(world):
    _, beneficiary, _ = world.family("420100")
    code, reason, _, _ = refused(world.settlements("421000").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=world.claim(beneficiary, 1_000, region="420100")))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_TREATMENT_REGION")


def test_repeated_request_id_charges_once_and_other_content_is_refused(world):
    grantor, beneficiary, _ = world.family("420100")
    request_id = world.next_id("once")
    first = world.settle(world.claim(beneficiary, 1_000), request_id=request_id)
    assert world.settle(world.claim(beneficiary, 1_000), request_id=request_id) == first
    code, reason, _, _ = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=request_id, claim=world.claim(beneficiary, 2_000)))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert world.balance(grantor) == 9_000


def test_reversal_refunds_the_grantors_last_drawn_first_never_beyond_the_payment(world):
    beneficiary, _ = world.member("420100", kind=RESIDENT)
    first, _ = world.member("420100")
    second, _ = world.member("420100")
    world.create(first, beneficiary, bpb.RELATIONSHIP_SON)
    world.create(second, beneficiary, bpb.RELATIONSHIP_DAUGHTER)
    world.fund(first, 3_000)
    world.fund(second, 3_000)
    paid = world.settle(world.claim(beneficiary, 5_000))
    stub = world.settlements("420100")
    part = stub.ReverseSettlement(pb.ReverseSettlementRequest(name=paid.name, request_id=world.next_id("rv"),
                                                              amount_fen=2_500), timeout=T)
    assert ([l.refunded_fen for l in part.lines], part.refunded_fen) == ([500, 2_000], 2_500)
    assert (world.balance(first), world.balance(second)) == (500, 3_000)
    code, reason, meta, _ = refused(stub.ReverseSettlement, pb.ReverseSettlementRequest(
        name=paid.name, request_id=world.next_id("rv"), amount_fen=2_501))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, "REFUND_EXCEEDS_PAYMENT", "R6")
    rest = stub.ReverseSettlement(pb.ReverseSettlementRequest(name=paid.name, request_id=world.next_id("rv")),
                                  timeout=T)
    assert (rest.refunded_fen, [r.amount_fen for r in rest.refunds]) == (5_000, [2_500, 2_500])
    assert (world.balance(first), world.balance(second)) == (3_000, 3_000)
    code, reason, _, _ = refused(world.settlements("421000").ReverseSettlement, pb.ReverseSettlementRequest(
        name=paid.name, request_id=world.next_id("rv")))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_TREATMENT_REGION")


def test_list_settlements_of_grantor_and_beneficiary_by_date_range(world):
    grantor, beneficiary, _ = world.family("130200", fen=50_000)
    names = [world.settle(world.claim(beneficiary, 100 * (i + 1))).name for i in range(5)]
    for side, member in (("grantor", grantor), ("beneficiary", beneficiary)):
        seen, token = [], ""
        while True:
            page = world.settlements("130200").ListSettlements(pb.ListSettlementsRequest(
                **{side: member}, page_size=2, page_token=token), timeout=T)
            seen += [s.name for s in page.settlements]
            if not (token := page.next_page_token):
                break
        assert seen == names
    later = Timestamp()
    later.FromDatetime(datetime.now(timezone.utc) + timedelta(minutes=1))
    empty = world.settlements("130200").ListSettlements(pb.ListSettlementsRequest(grantor=grantor, start_time=later),
                                                        timeout=T)
    assert list(empty.settlements) == []
    code, reason, _, _ = refused(world.settlements("130500").ListSettlements,
                                 pb.ListSettlementsRequest(grantor=grantor))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "REGION_NOT_CALLER")


def test_account_fund_release_and_r14_release_on_termination(world):
    grantor, beneficiary, _ = world.family("420100", fen=10_000)
    stub = world.accounts("420100")
    released = stub.ReleaseAccount(accounts_pb2.ReleaseAccountRequest(
        grantor=grantor, request_id=world.next_id("rl"), amount_fen=4_000), timeout=T)
    assert (released.balance_fen, released.funded_fen, released.released_fen) == (6_000, 10_000, 4_000)
    code, reason, _, _ = refused(stub.ReleaseAccount, accounts_pb2.ReleaseAccountRequest(
        grantor=grantor, request_id=world.next_id("rl"), amount_fen=6_001))
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RELEASE_EXCEEDS_BALANCE")
    world.report("420100", grantor.rsplit("/", 1)[1], world.numbers[grantor], status=TERMINATED)
    assert world.balance(grantor) == 0
    code, reason, meta, _ = refused(stub.FundAccount, accounts_pb2.FundAccountRequest(
        grantor=grantor, request_id=world.next_id("fd"), amount_fen=1))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, "GRANTOR_ENROLMENT_ENDED", "R2")


def test_refund_to_a_grantor_whose_enrolment_ended_goes_back_to_the_region(world, database):
    grantor, beneficiary, _ = world.family("420100", fen=10_000)
    paid = world.settle(world.claim(beneficiary, 4_000))
    world.report("420100", grantor.rsplit("/", 1)[1], world.numbers[grantor], status=TERMINATED)
    refunded = world.settlements("420100").ReverseSettlement(pb.ReverseSettlementRequest(
        name=paid.name, request_id=world.next_id("rv")), timeout=T)
    assert refunded.refunded_fen == 4_000
    account = world.accounts("420100").GetAccount(accounts_pb2.GetAccountRequest(name=f"{grantor}/account"),
                                                  timeout=T)
    assert (account.balance_fen, account.refunded_fen, account.released_fen) == (0, 4_000, 10_000)
    check_ledger(database)


def test_resident_cannot_be_funded_r1(world):
    resident, _ = world.member("420100", kind=RESIDENT)
    code, reason, meta, _ = refused(world.accounts("420100").FundAccount, accounts_pb2.FundAccountRequest(
        grantor=resident, request_id=world.next_id("fd"), amount_fen=100))
    assert (code, reason, meta["rule"]) == (grpc.StatusCode.FAILED_PRECONDITION, "GRANTOR_NOT_EMPLOYEE_INSURED", "R1")


@pytest.mark.parametrize("use", [pb.USE_OUTPATIENT, pb.USE_RESIDENT_PREMIUM])
def test_overlong_institution_code_is_invalid_not_internal(world, use):
    _, beneficiary, _ = world.family("420100")
    claim = world.claim(beneficiary, 100, use=use)
    claim.institution.CopyFrom(pb.Institution(code="H" * 41, kind=pb.INSTITUTION_KIND_HOSPITAL, region="420100"))
    code, reason, _, violations = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id=world.next_id("s"), claim=claim))
    assert (code, reason, [f for f, _ in violations]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", ["claim.institution.code"])


def test_malformed_claim_names_every_bad_field(world):
    code, reason, _, violations = refused(world.settlements("420100").Settle, pb.SettleRequest(
        request_id="x", claim=pb.SettlementClaim(use=pb.USE_OUTPATIENT, personal_part_fen=-5, items=[42])))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert {"claim.beneficiary", "claim.credential.type", "claim.credential.holder_id_number", "claim.institution",
            "claim.personal_part_fen", "claim.items"} <= {f for f, _ in violations}
    fields = [f for f, _ in violations]
    assert len(fields) == len(set(fields))  # one violation per field, never two that contradict each other
    assert dict(violations)["claim.personal_part_fen"] == "must be between 0 and 10000000000000 fen"
