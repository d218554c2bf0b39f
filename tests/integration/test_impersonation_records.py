"""R8 records stay bounded: one row per caller, day, patient, credential type and presented ID, with a
count, and at most MAX_ATTEMPT_ROWS such rows per caller and day; the rest are counted on one row."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from gateway.domain.bindings import Party
from gateway.domain.settlements import CredentialType
from gateway.store import settlements as store
from gateway.store.tables import impersonation_attempts as attempts
from gateway.store.unit_of_work import SqlUnitOfWork
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
NOON = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)  # 12:00 in China


def attempt(engine, caller="region/420100", psn_no="P1", holder="h1", at=NOON) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.settlements.record_impersonation(at, caller, Party("420100", psn_no), CredentialType.ID_CARD, holder,
                                             "H1", "req")
        uow.commit()


def rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(attempts).order_by(attempts.c.seq)).all()


def test_repeats_are_counted_on_one_row_per_day_in_china(engine):
    for _ in range(3):
        attempt(engine)
    attempt(engine, at=NOON + timedelta(hours=12))  # 00:00 the next day in China, still the 28th in UTC
    assert [(r.day.isoformat(), r.attempts) for r in rows(engine)] == [("2026-11-28", 3), ("2026-11-29", 1)]


def test_past_the_cap_a_callers_attempts_of_the_day_are_counted_on_one_row(engine, monkeypatch):
    monkeypatch.setattr(store, "MAX_ATTEMPT_ROWS", 3)
    for i in range(8):
        attempt(engine, holder=f"h{i}")
    attempt(engine, caller="region/421000")  # another caller has its own share
    stored = rows(engine)
    assert len(stored) == 5
    overflow = [r for r in stored if r.holder_hash == ""]
    assert [(r.caller, r.attempts, r.beneficiary_psn_no) for r in overflow] == [("region/420100", 5, "")]
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(attempts.c.attempts))).scalar_one() == 9  # every attempt is counted
