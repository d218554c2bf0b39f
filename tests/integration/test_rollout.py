"""The operators' rollout against real databases, with the clock injected: a scheduled opening, the
pairs' limits (also under racing settlements), the kill switch, pilot regions, policy versions, and
the audit log's chain against edits, reordering and deletion."""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import text

from gateway.domain.bindings import Party
from gateway.domain.changes import (Directions, KillSwitchChange, PairOpening, PolicyPublication, RegionStateChange)
from gateway.domain.errors import Refusal
from gateway.domain.members import EnrolmentStatus as S, InsuranceType as T, MemberReport
from gateway.domain.policies import Use
from gateway.domain.relationships import Relationship as R
from gateway.domain.rollout import PairLimits, RolloutState
from gateway.domain.settlements import Claim, CredentialType, Institution, InstitutionKind
from gateway.policies import load
from gateway.service import accounts, admin, bindings, settlements
from gateway.service.members import report_members
from gateway.service.once import RequestKey, in_transaction
from gateway.store import unit_of_work
from tests.conftest import BACKENDS
from tests.invariants import check_ledger

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
POLICIES = load()
XUZHOU, SHANGHAI, WUHAN = "320300", "310000", "420100"
NOON = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)  # 12:00 in China
IDS = count()


def key(caller: str = "operator/ops") -> RequestKey:
    return RequestKey(caller, f"req-{next(IDS)}", f"f-{next(IDS)}")


def enrol(uow, region: str, psn_no: str, kind=T.EMPLOYEE) -> Party:
    in_transaction(uow, lambda u: report_members(u, region, [MemberReport(psn_no, f"hash-{psn_no}", region, kind,
                                                                          S.NORMAL)]))
    return Party(region, psn_no)


def family(uow, fen: int = 1_000_000, grantor_region: str = XUZHOU, beneficiary_region: str = XUZHOU):
    n = next(IDS)
    grantor = enrol(uow, grantor_region, f"G{n}")
    beneficiary = enrol(uow, beneficiary_region, f"B{n}", T.RESIDENT)
    bindings.create(uow, POLICIES, grantor_region, grantor, beneficiary, R.MOTHER, "", key(f"region/{XUZHOU}"),
                    lambda b: b"")
    accounts.fund(uow, grantor, fen, key(f"region/{grantor_region}"), lambda a: b"")
    return grantor, beneficiary


def claim(beneficiary: Party, fen: int, treatment: str = SHANGHAI) -> Claim:
    return Claim(beneficiary, CredentialType.E_VOUCHER, f"hash-{beneficiary.psn_no}",
                 Institution("H1", InstitutionKind.HOSPITAL, True, treatment), Use.OUTPATIENT, fen, 0, fen,
                 frozenset(), (), False)


def settle(uow, beneficiary: Party, fen: int, at: datetime, treatment: str = SHANGHAI) -> object:
    """The settlement, or the refusal's (reason, limit) when refused."""
    try:
        return pickle.loads(settlements.settle(uow, POLICIES, treatment, claim(beneficiary, fen, treatment), "",
                                               key(f"region/{treatment}"), pickle.dumps, at=at))
    except Refusal as refusal:
        return refusal.reason, refusal.metadata.get("limit")


def change(uow, what, approve: bool = True):
    """Filed by ops; approved by ops2 when it waits for a second operator."""
    asked = pickle.loads(admin.request_change(uow, "operator/ops", what, "test", key(), pickle.dumps))
    if asked.state.value == "pending" and approve:
        return pickle.loads(admin.approve(uow, "operator/ops2", asked.id, "test", key("operator/ops2"), pickle.dumps))
    return asked


def open_32_to_31(uow, limits=PairLimits(), opens_at=None, closes_at=None):
    return change(uow, PairOpening(Directions("32", "31", False), opens_at, closes_at, limits))


def test_a_scheduled_opening_takes_effect_at_its_start_and_not_before(engine):
    uow = unit_of_work.factory(engine)
    _, beneficiary = family(uow)
    open_32_to_31(uow, opens_at=NOON, closes_at=NOON + timedelta(hours=1))
    assert settle(uow, beneficiary, 100, NOON - timedelta(seconds=1)) == ("CROSS_PROVINCE_CLOSED", None)
    assert settle(uow, beneficiary, 100, NOON).paid == 100
    assert settle(uow, beneficiary, 100, NOON + timedelta(minutes=59)).paid == 100
    assert settle(uow, beneficiary, 100, NOON + timedelta(hours=1)) == ("CROSS_PROVINCE_CLOSED", None)


def test_the_wallet_limits_are_enforced(engine):
    uow = unit_of_work.factory(engine)
    _, beneficiary = family(uow)
    open_32_to_31(uow, PairLimits(per_beneficiary_daily=3, per_settlement_fen=200_000, quiet_from=time(22),
                                  quiet_until=time(6)))
    assert settle(uow, beneficiary, 200_001, NOON) == ("CROSS_PROVINCE_LIMIT", "per_settlement_fen")
    night = NOON + timedelta(hours=11)  # 23:00 in China
    assert settle(uow, beneficiary, 100, night) == ("CROSS_PROVINCE_QUIET_HOURS", "quiet_hours")
    assert [settle(uow, beneficiary, 200_000, NOON).paid for _ in range(3)] == [200_000] * 3
    assert settle(uow, beneficiary, 100, NOON) == ("CROSS_PROVINCE_LIMIT", "per_beneficiary_daily")
    assert settle(uow, beneficiary, 100, NOON + timedelta(days=1)).paid == 100  # a new day in China
    check_ledger(engine)


def test_the_pairs_daily_total_is_a_circuit_breaker(engine):
    uow = unit_of_work.factory(engine)
    beneficiaries = [family(uow)[1] for _ in range(3)]
    open_32_to_31(uow, PairLimits(daily_fen=1_000))
    assert [settle(uow, b, 400, NOON) for b in beneficiaries][-1] == ("CROSS_PROVINCE_LIMIT", "daily_fen")
    assert settle(uow, beneficiaries[2], 200, NOON).paid == 200  # what is left of the day's total
    assert settle(uow, beneficiaries[2], 1, NOON) == ("CROSS_PROVINCE_LIMIT", "daily_fen")


def test_racing_settlements_never_pass_the_daily_count(engine):
    uow = unit_of_work.factory(engine)
    _, beneficiary = family(uow)
    open_32_to_31(uow, PairLimits(per_beneficiary_daily=3))
    start = threading.Barrier(8)

    def one(_):
        start.wait()
        return settle(uow, beneficiary, 100, NOON)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, range(8)))
    paid = [o for o in outcomes if not isinstance(o, tuple)]
    assert len(paid) == 3 and outcomes.count(("CROSS_PROVINCE_LIMIT", "per_beneficiary_daily")) == 5
    check_ledger(engine)


def test_the_kill_switch_stops_cross_province_settlements_and_same_province_ones_go_on(engine):
    uow = unit_of_work.factory(engine)
    _, beneficiary = family(uow)
    open_32_to_31(uow)
    assert change(uow, KillSwitchChange(True)).state.value == "applied"  # at once, one operator
    assert settle(uow, beneficiary, 100, NOON) == ("CROSS_PROVINCE_SUSPENDED", None)
    assert settle(uow, beneficiary, 100, NOON, treatment=XUZHOU).paid == 100
    assert change(uow, KillSwitchChange(False), approve=False).state.value == "pending"  # lifting waits
    assert settle(uow, beneficiary, 100, NOON) == ("CROSS_PROVINCE_SUSPENDED", None)
    change(uow, KillSwitchChange(False))
    assert settle(uow, beneficiary, 100, NOON).paid == 100


def test_a_pilot_region_takes_part_within_its_province_only(engine):
    uow = unit_of_work.factory(engine)
    _, beneficiary = family(uow)
    open_32_to_31(uow)
    assert change(uow, RegionStateChange(XUZHOU, RolloutState.PILOT)).state.value == "applied"  # narrowing: at once
    assert settle(uow, beneficiary, 100, NOON) == ("REGION_IN_PILOT", None)
    assert settle(uow, beneficiary, 100, NOON, treatment=XUZHOU).paid == 100
    assert change(uow, RegionStateChange(XUZHOU, RolloutState.LIVE), approve=False).state.value == "pending"
    assert change(uow, RegionStateChange(XUZHOU, RolloutState.DISABLED)).state.value == "applied"
    assert settle(uow, beneficiary, 100, NOON, treatment=XUZHOU) == ("REGION_DISABLED", None)


def test_a_new_policy_version_applies_to_bindings_filed_after_its_effective_time_only(engine):
    uow = unit_of_work.factory(engine)
    jiangsu = POLICIES["32"]
    stricter = PolicyPublication(jiangsu.__class__(**{**jiangsu.__dict__, "review_required": True,
                                                      "effective_at": NOON}))
    assert change(uow, stricter).state.value == "applied"

    def file(at: datetime) -> str:
        n = next(IDS)
        grantor, beneficiary = enrol(uow, XUZHOU, f"PG{n}"), enrol(uow, XUZHOU, f"PB{n}", T.RESIDENT)
        return bindings.create(uow, POLICIES, XUZHOU, grantor, beneficiary, R.MOTHER, "", key(f"region/{XUZHOU}"),
                               lambda b: f"{b.policy} {b.status.value}".encode(), at=at).decode()

    assert file(NOON - timedelta(seconds=1)) == "32@v1 active"
    assert file(NOON) == "32@v2 pending_review"


def test_every_edit_reorder_or_deletion_of_the_audit_log_is_found_and_named(engine):
    uow = unit_of_work.factory(engine)
    for _ in range(3):
        open_32_to_31(uow)
    checked, broken = admin.verify_audit(uow)
    assert broken is None and checked >= 6
    seq = 3

    def verify_after(statements: list[str]) -> tuple[int, str]:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        found = admin.verify_audit(uow)[1]
        with engine.begin() as conn:  # undo: the next check starts from an intact log
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(text("INSERT INTO audit_log SELECT * FROM audit_copy"))
        assert admin.verify_audit(uow)[1] is None
        return found.seq, found.why

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE audit_copy AS SELECT * FROM audit_log"))
    edited = verify_after([f"UPDATE audit_log SET reason = 'nothing to see' WHERE seq = {seq}"])
    assert edited[0] == seq and "edited" in edited[1]
    rehashed = verify_after([f"UPDATE audit_log SET reason = 'x', hash = '{'0' * 64}' WHERE seq = {seq}"])
    assert rehashed[0] == seq
    removed = verify_after([f"DELETE FROM audit_log WHERE seq = {seq}"])
    assert removed[0] == seq and "missing" in removed[1]
    swapped = verify_after([f"UPDATE audit_log SET seq = -1 WHERE seq = {seq}",
                            f"UPDATE audit_log SET seq = {seq} WHERE seq = {seq + 1}",
                            f"UPDATE audit_log SET seq = {seq + 1} WHERE seq = -1"])
    assert swapped[0] == seq
    last = admin.verify_audit(uow)[0]
    cut = verify_after([f"DELETE FROM audit_log WHERE seq = {last}"])
    assert cut[0] == last and "end" in cut[1]
