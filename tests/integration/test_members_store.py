"""The members use cases against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from gateway.domain.errors import Refusal
from gateway.domain.members import EnrolmentStatus as S, InsuranceType as T, MemberReport
from gateway.sample import REGIONS, members_of
from gateway.seed import seed
from gateway.service import members as service
from gateway.service.once import RequestKey
from gateway.store import unit_of_work
from gateway.store.db import make_engine
from gateway.store.tables import members, metadata, request_log
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
ID = "11010519491231002X"


def render(stored):
    return ",".join(f"{m.psn_no}:{m.status.value}" for m in stored).encode()


def test_migrations_create_exactly_the_declared_schema(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_reported_member_can_be_read_listed_and_looked_up(engine, hasher):
    uow = unit_of_work.factory(engine)
    report = MemberReport("P1", hasher(ID), "320300", T.EMPLOYEE, S.LAPSED)
    assert service.upsert_members(uow, "320300", [report], RequestKey("region/320300", "r1", "f"), render) == \
        b"P1:lapsed"
    got = service.get_member(uow, "320300", "P1")
    assert (got.insurance_type, got.status, got.created_at.tzinfo is not None) == (T.EMPLOYEE, S.LAPSED, True)
    assert service.lookup_member(uow, "320300", hasher(ID)) == got
    with pytest.raises(Refusal) as err:
        service.lookup_member(uow, "320100", hasher(ID))
    assert err.value.reason == "MEMBER_NOT_FOUND"


def test_same_request_id_replays_even_after_a_restart_and_refuses_other_content(database_url, hasher):
    first = make_engine(database_url)
    key = RequestKey("region/320300", "r1", "fingerprint-a")
    report = MemberReport("P1", hasher(ID), "320300", T.EMPLOYEE, S.NORMAL)
    answer = service.upsert_members(unit_of_work.factory(first), "320300", [report], key, render)
    first.dispose()
    again = make_engine(database_url)  # a new process would see the same
    changed = MemberReport("P1", hasher(ID), "320300", T.EMPLOYEE, S.TERMINATED)
    uow = unit_of_work.factory(again)
    assert service.upsert_members(uow, "320300", [changed], key, render) == answer
    assert service.get_member(uow, "320300", "P1").status is S.NORMAL  # the replay changed nothing
    with pytest.raises(Refusal) as err:
        service.upsert_members(uow, "320300", [changed], RequestKey("region/320300", "r1", "fingerprint-b"), render)
    assert err.value.reason == "REQUEST_ID_REUSED"
    again.dispose()


def test_a_refused_batch_writes_nothing(engine, hasher):
    uow = unit_of_work.factory(engine)
    reports = [MemberReport("P1", hasher(ID), "320300", T.EMPLOYEE, S.NORMAL),
               MemberReport("P2", hasher(ID), "320300", T.EMPLOYEE, S.NORMAL)]  # same person twice, both active
    with pytest.raises(Refusal) as err:
        service.upsert_members(uow, "320300", reports, RequestKey("region/320300", "r1", "f"), render)
    assert err.value.reason == "MEMBER_ALREADY_ENROLLED"
    with engine.connect() as conn:
        assert conn.execute(select(members)).all() == []
        stored = conn.execute(select(request_log)).all()
    assert [(r.request_id, r.refused) for r in stored] == [("r1", True)]  # the refusal is the request's answer
    with pytest.raises(Refusal) as again:  # and a retry gets it again, whatever has changed since
        service.upsert_members(uow, "320300", reports, RequestKey("region/320300", "r1", "f"), render)
    assert again.value == err.value


def test_concurrent_retries_of_one_request_apply_once(engine, hasher):
    uow = unit_of_work.factory(engine)
    reports = [MemberReport(f"P{i}", hasher(f"{i:017d}" + "0"), "320300", T.RESIDENT, S.NORMAL) for i in range(20)]
    key = RequestKey("region/320300", "same", "f")
    start = threading.Barrier(8)

    def call(_):
        start.wait()
        return service.upsert_members(uow, "320300", reports, key, render)

    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(call, range(8)))
    assert len(answers) == 1
    with engine.connect() as conn:
        assert conn.execute(select(request_log)).all().__len__() == 1
        assert len(conn.execute(select(members)).all()) == 20


def test_concurrent_claims_on_one_person_leave_one_active_enrolment(engine, hasher):
    uow = unit_of_work.factory(engine)
    regions = ["320300", "320100", "440100", "110000", "310000", "420100"]
    start = threading.Barrier(len(regions))

    def claim(region):
        start.wait()
        try:
            service.upsert_members(uow, region, [MemberReport("P1", hasher(ID), region, T.EMPLOYEE, S.NORMAL)],
                                   RequestKey(f"region/{region}", "c", "f"), render)
            return "ok"
        except Refusal as refusal:
            return refusal.reason

    with ThreadPoolExecutor(len(regions)) as pool:
        outcomes = sorted(pool.map(claim, regions))
    assert outcomes == ["MEMBER_ALREADY_ENROLLED"] * (len(regions) - 1) + ["ok"]


def test_seed_is_deterministic_idempotent_and_stores_no_id_number(engine, hasher):
    counts = seed(engine, hasher)
    assert seed(engine, hasher) == counts and sum(counts.values()) >= 300 and len(counts) == len(REGIONS)
    with engine.connect() as conn:
        dump = "\n".join(str(tuple(row)) for table in ("members", "request_log")
                         for row in conn.execute(text(f"SELECT * FROM {table}")))
        kinds = {(r.insurance_type, r.status) for r in conn.execute(select(members))}
    assert {("employee", "normal"), ("employee", "lapsed"), ("employee", "terminated"),
            ("resident", "normal")} <= kinds
    for region in REGIONS:
        for m in members_of(region.admdvs):
            assert m.id_number not in dump and hasher(m.id_number) in dump
