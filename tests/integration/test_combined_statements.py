"""Statements sent as one on PostgreSQL (gateway.store.postgres.combine), against a real PostgreSQL: reads
sent as one answer as each would alone; two debits of one account queued for one round trip both take
effect; a read after the window's lock sees a close committed while it waited for the lock; a FOR UPDATE read
sent with other reads answers with what committed while it waited for its rows."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError

from gateway.bench import world
from gateway.domain import ledger
from gateway.domain.bindings import Party
from gateway.domain.identity import IdHasher
from gateway.service.ports import Ahead
from gateway.store import direct
from gateway.store.clearing import CLOSED_FROM, LOCK_CLASS, LOCK_EXCLUSIVE, entering
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.ledger import BALANCES
from gateway.store.members import BY_NAME
from gateway.store.requests import FIND_REQUEST
from gateway.store.settlements import ACTIVE_BINDINGS, ACTIVE_SHARES, NEXT_NUMBER
from gateway.store.tables import bindings, clearing_windows, share_accounts
from gateway.store.unit_of_work import SqlUnitOfWork
from tests.integration.on_loop import waiting_on_locks

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
DAY = date(2026, 11, 23)


@pytest.fixture
def engine(database_url: str, hasher: IdHasher):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    world.load_pairs(engine, 3, hasher)
    with engine.begin() as conn:  # beneficiary 0 gets a second grantor: two bindings, in filing order
        conn.execute(insert(bindings).values(
            id="second", grantor_region=world.REGION, grantor_psn_no=world.grantor(1).psn_no,
            beneficiary_region=world.REGION, beneficiary_psn_no=world.beneficiary(0).psn_no, relationship="son",
            status="active", policy="42@v1", created_at=NOW, updated_at=NOW))
    yield engine
    engine.dispose()


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every statement sent through gateway.store.direct."""
    sent: list[str] = []
    start = direct._start

    def counted(driver, sql, values, many):  # type: ignore[no-untyped-def]
        sent.append(sql.decode() if isinstance(sql, bytes) else sql)  # in $n placeholders, or as compiled
        return start(driver, sql, values, many)

    monkeypatch.setattr(direct, "_start", counted)
    return sent


def test_reads_sent_as_one_statement_answer_as_each_would_alone(engine, statements: list[str]) -> None:
    """Rows of several reads, none of some, NULLs, several columns of one type in different reads, order."""
    b0, g0 = world.beneficiary(0), world.grantor(0)
    asks = [(FIND_REQUEST, {"caller": "region/420100", "request_id": "none"}),
            (BY_NAME, {"region": b0.region, "psn_no": b0.psn_no}),
            (BY_NAME, {"region": b0.region, "psn_no": "NOBODY"}),
            (ACTIVE_BINDINGS, {"region": b0.region, "psn_no": b0.psn_no}),
            (BY_NAME, {"region": g0.region, "psn_no": g0.psn_no}),
            (BALANCES[False], {"key": ledger.share(g0)}),
            (CLOSED_FROM, {"day": DAY})]
    with SqlUnitOfWork(engine) as uow:
        statements.clear()
        together = direct.together(uow._conn, asks)
        assert len(statements) == 2 and statements[0].startswith("BEGIN") and "UNION ALL" in statements[1]
        alone = [read.rows(uow._conn, params) for read, params in asks]
    assert together == alone
    assert [[tuple(map(type, row)) for row in rows] for rows in together] == \
        [[tuple(map(type, row)) for row in rows] for rows in alone]  # an int stays an int, not a Decimal
    assert [len(rows) for rows in together] == [0, 1, 0, 2, 1, 1, 0]
    assert [r.binding_id for r in together[3]] == ["bench-0", "second"]
    assert together[1][0].moved_to is None and together[1][0].psn_no == b0.psn_no
    assert together[5][0].balance == world.FUNDING


def test_numbers_taken_in_a_combined_read_come_from_the_sequence_once_each(engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        first, _, second = direct.together(uow._conn, [(NEXT_NUMBER, {}), (BY_NAME, {"region": "x", "psn_no": "y"}),
                                                       (NEXT_NUMBER, {})])
    assert second[0].seq == first[0].seq + 1


def test_two_debits_of_one_account_queued_for_one_round_trip_both_take_effect(engine, statements) -> None:
    """In one statement only one of them would: they go as two, each still in the same round trip."""
    g0 = world.grantor(0)
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.balances([ledger.share(g0)], lock=True)
        statements.clear()
        uow.ledger.post(ledger.pay(g0, "320300", 300) + ledger.pay(g0, "320300", 200), NOW)
        uow.commit()
    assert len(statements) == 3 and statements[-1] == "COMMIT"  # debit, (debit + transfers), COMMIT
    with engine.connect() as conn:
        row = conn.execute(select(share_accounts).where(share_accounts.c.account == ledger.share(g0))).one()
    assert (row.balance, row.spent) == (world.FUNDING - 500, 500)


def started_and_waiting(engine, work, what: str) -> threading.Thread:  # type: ignore[no-untyped-def]
    """Starts ``work`` in a thread; returns once a session of the (test's own) database waits for a lock."""
    waiting = threading.Thread(target=work)
    waiting.start()
    deadline = time.monotonic() + 60
    while not waiting_on_locks(engine):
        assert time.monotonic() < deadline, f"{what} never waited for a lock"
        assert waiting.is_alive(), f"{what} did not wait for a lock"
        time.sleep(0.01)
    return waiting


def test_a_read_after_the_windows_lock_sees_a_close_committed_while_it_waited(engine) -> None:
    """The closer holds the day's lock and writes the closed window; the settle's reads (lock, then whether
    the window is closed) wait for it. Sent as one statement, the check would read from a snapshot taken
    before the wait, and put a line into the closed window."""
    seen: list[list[object]] = []
    with engine.connect() as closer:
        closer.execute(LOCK_EXCLUSIVE, {"cls": LOCK_CLASS, "day": DAY.toordinal()})
        closer.execute(insert(clearing_windows).values(day=DAY, closed_at=NOW, closed_by="op", lines=0, fen=0))

        def settle() -> None:
            with SqlUnitOfWork(engine) as uow:
                seen.append(direct.together(uow._conn, entering(uow._conn, DAY))[-1])

        waiting = started_and_waiting(engine, settle, "the settle")
        closer.commit()
    waiting.join(60)
    assert [[r.day for r in rows] for rows in seen] == [[DAY]]


def test_share_rows_locked_in_a_statement_of_reads_answer_with_what_committed_while_it_waited(engine) -> None:
    """Another transaction holds a grantor's share row and spends from it; the settlement's read ahead (the
    bindings, then the share rows FOR UPDATE, in one statement) waits for it and must answer with the balance
    it committed, not the one of the snapshot the statement started with (PostgreSQL reads a locked row
    afresh)."""
    beneficiary, grantor = world.beneficiary(0), world.grantor(0)
    found: list[object] = []
    with engine.connect() as holder:
        holder.execute(share_accounts.update().where(share_accounts.c.account == ledger.share(grantor))
                       .values(balance=share_accounts.c.balance - 700))

        def read_ahead() -> None:
            with SqlUnitOfWork(engine) as uow:
                uow.read_ahead(Ahead(bindings=beneficiary, shares=True))
                found.append(uow.ledger.balances([ledger.share(grantor)], lock=True))
                found.append(len(uow.settlements.active_bindings(beneficiary)))

        waiting = started_and_waiting(engine, read_ahead, "the read ahead")
        holder.commit()
    waiting.join(60)
    assert found == [{ledger.share(grantor): world.FUNDING - 700}, 2]


def test_a_second_locked_read_sees_a_row_committed_while_the_first_waited(engine) -> None:
    """Another transaction takes 7 from one grantor's share and opens a second grantor's; the ledger's locking
    reads of both wait for it. The second must find the share opened meanwhile (500, locked), as it would read
    alone after the wait: in the first's statement it would read from a snapshot taken before, and find none."""
    first, second = ledger.share(world.grantor(0)), ledger.share(Party(world.REGION, "NEW"))
    found: list[object] = []
    with engine.connect() as holder:
        holder.execute(share_accounts.update().where(share_accounts.c.account == first)
                       .values(balance=share_accounts.c.balance - 7))
        holder.execute(insert(share_accounts).values(account=second, balance=500, funded=500, spent=0, released=0,
                                                     refunded=0))

        def balances() -> None:
            with SqlUnitOfWork(engine) as uow:
                found.append(uow.ledger.balances([first, second], lock=True))
                found.append(sorted(uow.ledger._locked))

        waiting = started_and_waiting(engine, balances, "the ledger's read")
        holder.commit()
    waiting.join(60)
    assert found == [{first: world.FUNDING - 7, second: 500}, sorted([first, second])]


def test_a_settlements_share_rows_read_ahead_are_locked_and_not_read_again(engine, statements) -> None:
    """Read ahead with the bindings (gateway.store.settlements.ACTIVE_SHARES): both grantors' rows are locked
    until commit, and the ledger takes their balances from what was read; a grantor not read ahead (no share
    row here) is read then, alone."""
    beneficiary, first, second = world.beneficiary(0), world.grantor(0), world.grantor(1)
    unfunded = ledger.share(world.grantor(9))
    with SqlUnitOfWork(engine) as uow:
        uow.read_ahead(Ahead(bindings=beneficiary, shares=True))
        assert len(statements) == 2 and "FOR UPDATE OF share_accounts" in statements[-1]  # BEGIN, then one read
        assert "UNION ALL" in statements[-1]  # with the bindings
        with engine.connect() as other:
            for grantor in (first, second):
                with pytest.raises(OperationalError, match="could not obtain lock"):
                    other.execute(select(share_accounts).where(share_accounts.c.account == ledger.share(grantor))
                                  .with_for_update(nowait=True))
                other.rollback()
        statements.clear()
        found = uow.ledger.balances([ledger.share(second), unfunded, ledger.share(first)], lock=True)
        assert found == {ledger.share(first): world.FUNDING, ledger.share(second): world.FUNDING, unfunded: 0}
        assert len(statements) == 1 and "FOR UPDATE" in statements[0]  # the unfunded grantor's, alone
        statements.clear()
        uow.ledger.post(ledger.pay(first, "320300", 100), NOW)
        assert statements == []  # a row held locked: its debit waits for the commit's round trip


def test_a_settlements_share_rows_are_locked_in_the_order_python_sorts_them(database_url, fresh_postgres) -> None:
    """Every locking read takes share rows in one order, the one ``sorted`` gives (code points), whatever the
    database's collation: here ICU's en-US, which puts ``a1`` before ``B1`` (a database of its own, not the
    module's ``database_url``)."""
    engine = make_engine(fresh_postgres("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"))
    upgrade(engine)
    accounts = [ledger.share(Party(world.REGION, psn_no)) for psn_no in ("a1", "B1")]
    with engine.begin() as conn:
        assert conn.execute(text("SELECT unnest(CAST(:a AS text[])) AS x ORDER BY x"),
                            {"a": accounts}).scalars().all() != sorted(accounts)  # the collation differs
        for i, psn_no in enumerate(("a1", "B1")):
            conn.execute(insert(bindings).values(
                id=f"b{i}", grantor_region=world.REGION, grantor_psn_no=psn_no, beneficiary_region=world.REGION,
                beneficiary_psn_no="X1", relationship="son", status="active", policy="42@v1", created_at=NOW,
                updated_at=NOW))
            conn.execute(insert(share_accounts).values(account=ledger.share(Party(world.REGION, psn_no)),
                                                       balance=1, funded=1, released=0, spent=0, refunded=0))
    with SqlUnitOfWork(engine) as uow:
        rows = ACTIVE_SHARES.rows(uow._conn, {"region": world.REGION, "psn_no": "X1"})
    engine.dispose()
    assert [row.account for row in rows] == sorted(accounts)
