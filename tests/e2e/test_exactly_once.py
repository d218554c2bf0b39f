"""Every copy of a request gets one and the same answer, even when the copies race: for every
mutating RPC, on SQLite, and on PostgreSQL with two gateway processes sharing the database (straight,
and through PgBouncer in transaction pooling).

Each case sets up a state in which a copy that missed the first copy's answer would answer
differently (the balance it spent, the state it moved on), then sends four copies of one request at
once, spread over the gateways, several times over. Without the stored answers a copy could answer
INSUFFICIENT_BALANCE after another copy of the same request had charged the grantor.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Callable

import grpc
import pytest

from gateway._proto.copay.v1 import accounts_pb2 as apb
from gateway._proto.copay.v1 import bindings_pb2 as bpb
from gateway._proto.copay.v1 import members_pb2 as mpb
from gateway._proto.copay.v1 import settlements_pb2 as spb
from gateway.sample import id_number
from tests.e2e.conftest import WITH_PGBOUNCER, details
from tests.e2e.world import COUNTER, RESIDENT, T, World

pytestmark = [pytest.mark.e2e, WITH_PGBOUNCER]
COPIES, ROUNDS = 4, 6


@pytest.fixture(scope="module")
def worlds(shared_database):
    """One World per gateway process sharing the database, and its engine."""
    gateways, engine = shared_database
    return [World(gw) for gw in gateways], engine


def answer(call: Callable[[], object]) -> tuple:
    try:
        return ("OK", call().SerializeToString())
    except grpc.RpcError as err:
        info, _ = details(err)
        return (err.code().name, info.reason if info else err.details())


def race(worlds: list[World], call: Callable[[World], object]) -> list[tuple]:
    """Four copies of one request, released together, spread over the gateways."""
    start = threading.Barrier(COPIES)

    def copy(i: int) -> tuple:
        world = worlds[i % len(worlds)]
        start.wait()
        return answer(lambda: call(world))

    with ThreadPoolExecutor(COPIES) as pool:
        return list(pool.map(copy, range(COPIES)))


def one_answer(worlds, setup, call) -> list:
    """For several requests: ``setup`` builds the state, ``call(world, state)`` sends one copy.
    Returns the states."""
    states = []
    for _ in range(ROUNDS):
        state = setup(worlds[0])
        for w in worlds[1:]:
            w.numbers.update(worlds[0].numbers)
        answers = race(worlds, lambda world: call(world, state))
        assert len(set(answers)) == 1, answers
        states.append(state)
    return states


def rid(prefix: str) -> str:
    return f"{prefix}-{next(COUNTER)}"


def test_settle_copies_get_one_answer_when_the_first_spends_the_balance(worlds):
    def setup(w):
        _, beneficiary, _ = w.family("420100", fen=1_000)
        return rid("settle"), w.claim(beneficiary, 1_000)

    one_answer(worlds[0], setup, lambda w, s: w.settlements("420100").Settle(
        spb.SettleRequest(request_id=s[0], claim=s[1]), timeout=T))


def test_reverse_copies_get_one_answer_when_the_first_refunds_everything(worlds):
    def setup(w):
        _, beneficiary, _ = w.family("420100", fen=1_000)
        return rid("reverse"), w.settle(w.claim(beneficiary, 600)).name

    one_answer(worlds[0], setup, lambda w, s: w.settlements("420100").ReverseSettlement(
        spb.ReverseSettlementRequest(name=s[1], request_id=s[0]), timeout=T))


def test_release_copies_get_one_answer_when_the_first_releases_the_balance(worlds):
    def setup(w):
        grantor, _, _ = w.family("420100", fen=700)
        return rid("release"), grantor

    one_answer(worlds[0], setup, lambda w, s: w.accounts("420100").ReleaseAccount(
        apb.ReleaseAccountRequest(grantor=s[1], request_id=s[0], amount_fen=700), timeout=T))


def test_fund_copies_get_one_answer_and_fund_once(worlds):
    def setup(w):
        grantor, _, _ = w.family("420100", fen=0)
        return rid("fund"), grantor

    funded = one_answer(worlds[0], setup, lambda w, s: w.accounts("420100").FundAccount(
        apb.FundAccountRequest(grantor=s[1], request_id=s[0], amount_fen=500), timeout=T))
    assert {worlds[0][0].balance(grantor) for _, grantor in funded} == {500}


def test_create_binding_copies_get_one_answer(worlds):
    def setup(w):
        grantor, _ = w.member("420100")
        beneficiary, _ = w.member("421000", kind=RESIDENT)
        return rid("create"), grantor, beneficiary

    one_answer(worlds[0], setup, lambda w, s: w.bindings("420100").CreateBinding(bpb.CreateBindingRequest(
        request_id=s[0], grantor=s[1], beneficiary=s[2], relationship=bpb.RELATIONSHIP_SON,
        binding_id=s[0].replace("create", "b")), timeout=T))


def _pending(w, relationship, grantor_region, beneficiary_region):
    grantor, _ = w.member(grantor_region)
    beneficiary, _ = w.member(beneficiary_region, kind=RESIDENT)
    return w.create(grantor, beneficiary, relationship).name


def test_confirm_copies_get_one_answer_when_the_first_moves_the_binding_on(worlds):
    def setup(w):  # a Jiangsu spouse binding waits for the beneficiary's region (R11)
        return rid("confirm"), _pending(w, bpb.RELATIONSHIP_SPOUSE, "320300", "320100")

    one_answer(worlds[0], setup, lambda w, s: w.bindings("320100").ConfirmBinding(
        bpb.ConfirmBindingRequest(name=s[1], request_id=s[0]), timeout=T))


def test_approve_copies_get_one_answer_when_the_first_moves_the_binding_on(worlds):
    def setup(w):  # Shanghai bindings wait for an office review (R11)
        return rid("approve"), _pending(w, bpb.RELATIONSHIP_SON, "310000", "310000")

    one_answer(worlds[0], setup, lambda w, s: w.bindings("310000").ApproveBinding(
        bpb.ApproveBindingRequest(name=s[1], request_id=s[0]), timeout=T))


def test_revoke_copies_get_one_answer_when_the_first_closes_the_binding(worlds):
    def setup(w):
        return rid("revoke"), _pending(w, bpb.RELATIONSHIP_SON, "420100", "420100")

    one_answer(worlds[0], setup, lambda w, s: w.bindings("420100").RevokeBinding(bpb.RevokeBindingRequest(
        name=s[1], request_id=s[0], reason=bpb.TRANSITION_CAUSE_GRANTOR_REQUEST), timeout=T))


def test_member_report_copies_get_one_answer(worlds):
    def setup(w):
        n = next(COUNTER)
        return rid("report"), f"X-{n:05d}", id_number("420100", date(1960, 1, 1), n)

    one_answer(worlds[0], setup, lambda w, s: w.gateway.members("region-420100").BatchUpsertMembers(
        mpb.BatchUpsertMembersRequest(parent="regions/420100", request_id=s[0], members=[mpb.MemberRecord(
            psn_no=s[1], id_number=s[2], insuring_region="420100", insurance_type=mpb.INSURANCE_TYPE_EMPLOYEE,
            enrolment_status=mpb.ENROLMENT_STATUS_NORMAL)]), timeout=T))


def test_a_refused_request_is_refused_again_on_retry_even_when_its_cause_is_gone(worlds):
    """README: the refusal is the request's answer; a new attempt needs a new request_id."""
    w = worlds[0][0]
    grantor, beneficiary, _ = w.family("420100", fen=300)
    claim, request_id = w.claim(beneficiary, 1_000), rid("refused")
    first = answer(lambda: w.settle(claim, request_id=request_id))
    w.fund(grantor, 5_000)  # the cause of the refusal is gone
    assert first == ("FAILED_PRECONDITION", "INSUFFICIENT_BALANCE")
    assert answer(lambda: w.settle(claim, request_id=request_id)) == first
    assert w.settle(claim).mutual_aid_fen == 1_000 and w.balance(grantor) == 4_300
