"""Writes queued for the next round trip on PostgreSQL (gateway.store.direct, gateway.store.postgres):
what fails at the COMMIT fails the unit of work as it would have failed at once, nothing of it is kept,
a rollback to a savepoint drops what was queued after it, and a connection goes back to the pool as it
came (no transaction left open, the driver's autocommit as its engine keeps it). Against a real PostgreSQL,
and SQLite where the same calls must keep their meaning (there writes run at once)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from gateway.domain import ledger
from gateway.domain.bindings import Party
from gateway.domain.policies import Use
from gateway.domain.settlements import CredentialType, Settlement
from gateway.service.ports import Ahead, Conflict, PriorAnswer
from gateway.store.db import make_engine
from gateway.store.tables import request_log, settlements, share_accounts, transfers
from gateway.store.unit_of_work import SqlUnitOfWork
from tests.conftest import ENGINES, PG_ENGINES

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
G1 = Party("420100", "G0001")
CALLER = "region/420100"


@pytest.fixture
def one_connection(database_url: str, engines):  # type: ignore[no-untyped-def]
    """An engine (of the test's kind: tests.conftest.ENGINES) whose every unit of work gets the same pooled
    connection."""
    engine = engines(database_url, pool_size=1)
    engine.pool._max_overflow = 0  # type: ignore[attr-defined]
    return engine


def fund(engine, amount: int) -> None:  # type: ignore[no-untyped-def]
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(ledger.fund(G1, amount), NOW)
        uow.commit()


def state(engine) -> tuple[int, int, list[str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        balance = conn.execute(select(share_accounts.c.balance)).scalar_one()
        moves = len(conn.execute(select(transfers.c.id)).all())
        requests = [r.request_id for r in conn.execute(select(request_log.c.request_id).order_by("request_id"))]
    return balance, moves, requests


def answer(text: str) -> PriorAnswer:
    return PriorAnswer("f" * 64, text.encode())


def assert_clean(engine) -> None:  # type: ignore[no-untyped-def]
    """The pooled connection holds no transaction and is back in its engine's mode: the driver's default, or
    autocommit on the event loop's engine (gateway.store.postgres.engine)."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            assert driver.info.transaction_status.name == "IDLE"
            assert driver.autocommit is conn.dialect.is_async


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
def test_a_queued_debit_that_would_overdraw_a_locked_row_fails_at_commit_as_a_conflict_and_keeps_nothing(
        one_connection):
    """The debit of a row this transaction locked is queued without its guard; the CHECK fails the COMMIT. The
    unit of work ends in a Conflict (retried by the caller), none of its writes stays, and the connection
    is clean for the next unit of work, which sees the balance as it was."""
    fund(one_connection, 100)
    queued = False
    with pytest.raises(Conflict):
        with SqlUnitOfWork(one_connection) as uow:
            assert uow.ledger.balances([ledger.share(G1)], lock=True) == {ledger.share(G1): 100}
            uow.ledger.post(ledger.pay(G1, "320300", 101), NOW)  # the guarded debit would raise here
            queued = True
            uow.requests.add(CALLER, "r-1", answer("paid"))
            uow.commit()
    assert queued
    assert_clean(one_connection)
    assert state(one_connection) == (100, 1, [])


@pytest.mark.parametrize("database_url, kind", ENGINES, indirect=["database_url"])
def test_a_copy_of_a_stored_request_fails_the_commit_as_a_conflict_and_the_connection_is_reused_cleanly(
        one_connection):
    """The request log's unique key, met by a queued insert at COMMIT: a Conflict, the unit's debit gone with
    it, and the next unit of work on the same connection commits."""
    fund(one_connection, 100)
    with SqlUnitOfWork(one_connection) as uow:
        uow.requests.add(CALLER, "r-1", answer("first"))
        uow.commit()
    with pytest.raises(Conflict):
        with SqlUnitOfWork(one_connection) as uow:
            uow.ledger.balances([ledger.share(G1)], lock=uow.locks_rows)
            uow.ledger.post(ledger.pay(G1, "320300", 40), NOW)
            uow.requests.add(CALLER, "r-1", answer("second"))
            uow.commit()
    assert_clean(one_connection)
    with SqlUnitOfWork(one_connection) as uow:
        uow.requests.add(CALLER, "r-2", answer("third"))
        uow.commit()
    assert_clean(one_connection)
    assert state(one_connection) == (100, 1, ["r-1", "r-2"])
    with SqlUnitOfWork(one_connection, readonly=True) as uow:
        assert uow.requests.find(CALLER, "r-1").response == b"first"


@pytest.mark.parametrize("database_url, kind", ENGINES, indirect=["database_url"])
def test_a_rollback_to_a_savepoint_drops_the_writes_queued_after_it_and_keeps_those_before(one_connection):
    """A bulk import's failed row is rolled back to its savepoint: what the row queued is not sent later."""
    with SqlUnitOfWork(one_connection) as uow:
        uow.requests.add(CALLER, "before", answer("kept"))
        with pytest.raises(RuntimeError):
            with uow.savepoint():
                uow.requests.add(CALLER, "inside", answer("dropped"))
                raise RuntimeError("the row is refused")
        with uow.savepoint():
            uow.requests.add(CALLER, "after", answer("kept"))
        uow.commit()
    assert_clean(one_connection)
    with one_connection.connect() as conn:
        assert sorted(conn.execute(select(request_log.c.request_id)).scalars()) == ["after", "before"]


@pytest.mark.parametrize("database_url, kind", ENGINES, indirect=["database_url"])
def test_a_unit_of_work_left_without_commit_keeps_nothing_it_queued(one_connection):
    with SqlUnitOfWork(one_connection) as uow:
        uow.requests.add(CALLER, "never", answer("lost"))
    assert_clean(one_connection)
    with one_connection.connect() as conn:
        assert conn.execute(select(request_log.c.request_id)).all() == []


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
def test_answers_read_ahead_are_taken_by_the_first_ask_and_a_second_ask_reads_again(one_connection):
    """A request stored after the read ahead is not seen by the first ask (it was read before), but by the next."""
    with SqlUnitOfWork(one_connection) as uow:
        uow.read_ahead(Ahead(request=(CALLER, "r-9"), member=G1, bindings=G1, window=NOW.date(), settlement=True))
        uow.requests.add(CALLER, "r-9", answer("stored"))
        assert uow.requests.find(CALLER, "r-9") is None
        assert uow.requests.find(CALLER, "r-9").response == b"stored"
        assert uow.members.get(G1.region, G1.psn_no) is None
        assert uow.settlements.active_bindings(G1) == []
        assert uow.clearing.enter(NOW.date()) == NOW.date()
        uow.commit()
    assert_clean(one_connection)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("given, expected", [("none", None), ("0", 0), ("12", 12)])
def test_the_url_says_when_statements_are_prepared_on_the_server(database_url, given, expected):
    """``?prepare_threshold=none`` for a PgBouncer that cannot keep prepared statements; the unit of work runs
    as usual (a write queued and committed, a read ahead)."""
    engine = make_engine(f"{database_url}?prepare_threshold={given}")
    try:
        for n in range(3):
            with SqlUnitOfWork(engine) as uow:
                assert uow._conn.connection.dbapi_connection.prepare_threshold == expected
                uow.read_ahead(Ahead(request=(CALLER, f"p-{n}")))
                assert uow.requests.find(CALLER, f"p-{n}") is None
                uow.requests.add(CALLER, f"p-{n}", answer("kept"))
                uow.commit()
    finally:
        engine.dispose()
    with pytest.raises(ValueError, match=r"^prepare_threshold='some' in the database URL: a whole number, or none$"):
        make_engine(f"{database_url}?prepare_threshold=some")


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
def test_a_window_read_ahead_that_is_closed_sends_the_lines_to_the_next_open_one(one_connection):
    """The window read ahead (its lock and whether it is closed) answers ``enter`` only if open; closed, the
    next day is tried as before."""
    day = NOW.date()
    with SqlUnitOfWork(one_connection) as uow:
        assert uow.clearing.close(day, NOW, "ops") is True
        uow.commit()
    with SqlUnitOfWork(one_connection) as uow:
        uow.read_ahead(Ahead(window=day, settlement=True))
        assert uow.clearing.enter(day) == day + timedelta(days=1)
        reserved = uow._ahead[("settlement",)]
        with uow._conn.begin_nested():  # the number read ahead was taken from the settlements' sequence
            following = uow._conn.execute(text("SELECT nextval(pg_get_serial_sequence('settlements', 'seq'))"))
            assert following.scalar_one() == reserved + 1


@pytest.mark.parametrize("database_url, kind", PG_ENGINES, indirect=["database_url"])
def test_a_settlement_is_filed_under_the_number_read_ahead(one_connection):
    """The number taken with the reads ahead is the one the settlement is stored under (and that its lines, transfers
    and clearing lines name), in the same round trip as the COMMIT; without one, the insert returns its own."""
    def bill(settlement_id: str) -> Settlement:
        return Settlement(settlement_id, "420100", G1, CredentialType.E_VOUCHER, None, None, Use.OUTPATIENT, 100, 0,
                          100, frozenset(), (), (), NOW)

    with SqlUnitOfWork(one_connection) as uow:
        uow.read_ahead(Ahead(settlement=True))
        reserved = uow._ahead[("settlement",)]
        assert uow.settlements.add(bill("s-ahead")) == reserved
        assert uow.settlements.add(bill("s-own")) == reserved + 1  # the number was taken: nextval goes on
        uow.commit()
    with one_connection.connect() as conn:
        stored = dict(conn.execute(select(settlements.c.id, settlements.c.seq)).all())
    assert stored == {"s-ahead": reserved, "s-own": reserved + 1}
