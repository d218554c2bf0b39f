"""The bindings use cases against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.domain.bindings import Cause, Party, Status
from gateway.domain.errors import Refusal
from gateway.domain.regions import Scoped
from gateway.domain.members import EnrolmentStatus as S, InsuranceType as T, MemberReport
from gateway.domain.relationships import Relationship as R
from gateway.policies import load
from gateway.service import bindings as service
from gateway.service.members import report_members
from gateway.service.once import RequestKey, in_transaction
from gateway.store import unit_of_work
from tests.conftest import BACKENDS
from tests.control import set_pair

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
POLICIES = load()


def ok(binding):
    return binding.id.encode()


def enrol(uow, region, psn_no, kind=T.EMPLOYEE, status=S.NORMAL):
    report = MemberReport(psn_no, f"hash-{psn_no}", region, kind, status)
    in_transaction(uow, lambda u: report_members(u, region, [report]))


def create(uow, grantor, beneficiary, relationship=R.MOTHER, request_id="c1", binding_id=""):
    key = RequestKey(f"region/{grantor.region}", request_id, f"{beneficiary}:{relationship}:{binding_id}")
    return service.create(uow, POLICIES, grantor.region, grantor, beneficiary, relationship, binding_id, key,
                          ok).decode()


def test_two_simultaneous_creates_for_one_pair_yield_one_binding(engine):
    uow = unit_of_work.factory(engine)
    enrol(uow, "420100", "G")
    enrol(uow, "421000", "B")
    start = threading.Barrier(6)

    def attempt(i):
        start.wait()
        try:
            return create(uow, Party("420100", "G"), Party("421000", "B"), request_id=f"race-{i}")
        except Refusal as refusal:
            return refusal.reason

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert sorted(outcomes).count("BINDING_EXISTS") == 5
    created = [o for o in outcomes if o != "BINDING_EXISTS"]
    bindings, _ = service.page(uow, Party("420100", "G"), True, None, None, 10)
    assert [b.id for b in bindings] == created


def test_cross_province_switch_is_read_on_every_request(engine):
    uow = unit_of_work.factory(engine)
    enrol(uow, "320300", "G")
    enrol(uow, "440100", "B")
    with pytest.raises(Refusal) as err:
        create(uow, Party("320300", "G"), Party("440100", "B"), request_id="x1")
    assert (err.value.reason, err.value.rule) == ("CROSS_PROVINCE_CLOSED", "R5")
    set_pair(engine, "44", "32", True)
    binding_id = create(uow, Party("320300", "G"), Party("440100", "B"), request_id="x2")
    assert service.get(uow, "440100", Scoped("320300", binding_id)).status is Status.ACTIVE
    set_pair(engine, "32", "44", False)
    with pytest.raises(Refusal) as closed:
        create(uow, Party("320300", "G"), Party("440100", "B"), request_id="x3")
    assert closed.value.reason == "CROSS_PROVINCE_CLOSED"


def test_terminated_or_transferred_member_ends_every_live_binding(engine):
    uow = unit_of_work.factory(engine)
    for psn in ("G", "B1", "B2", "B3"):
        enrol(uow, "420100", psn)
    first = create(uow, Party("420100", "G"), Party("420100", "B1"), R.SON, "e1")
    second = create(uow, Party("420100", "G"), Party("420100", "B2"), R.DAUGHTER, "e2")
    other = create(uow, Party("420100", "B3"), Party("420100", "B2"), R.ELDER_SISTER, "e3")
    enrol(uow, "420100", "G", status=S.LAPSED)  # lapsed contributions end nothing (R2)
    assert service.get(uow, "420100", Scoped("420100", first)).status is Status.ACTIVE
    enrol(uow, "420100", "G", status=S.TERMINATED)
    for binding_id in (first, second):
        binding = service.get(uow, "420100", Scoped("420100", binding_id))
        assert (binding.status, binding.history[-1].cause, binding.history[-1].actor) == (
            Status.ENDED, Cause.GRANTOR_TERMINATED, "gateway")
    assert service.get(uow, "420100", Scoped("420100", other)).status is Status.ACTIVE
    in_transaction(uow, lambda u: report_members(u, "420100", [
        MemberReport("B2", "hash-B2", "421000", T.EMPLOYEE, S.NORMAL)]))  # B2 transfers out to Jingzhou
    ended = service.get(uow, "420100", Scoped("420100", other))
    assert (ended.status, ended.history[-1].cause) == (Status.ENDED, Cause.BENEFICIARY_TRANSFERRED)
