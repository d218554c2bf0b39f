"""The two guards that keep a share balance from going below zero, each tested on its own,
against real SQLite and PostgreSQL databases.

1. The ledger's conditional debit (``UPDATE share_accounts ... WHERE balance >= :amount``,
   gateway.store.ledger): ``SqlLedger.post`` itself refuses an overdraft with a Conflict that
   names the account whose balance moved, without any statement failing, so the transaction
   stays usable and the refusal says what happened.
2. The schema's ``CHECK (balance >= 0)`` on ``share_accounts``: whatever SQL reaches the table,
   the database refuses a negative balance.

With only the guard removed, the CHECK would still stop the overdraft, but as a failed statement:
``post`` would raise IntegrityError instead of Conflict, the unit of work would end in a Conflict
that names a constraint instead of the account, and on PostgreSQL the transaction would be aborted.
The tests of the guard assert that ``post`` refuses the overdraft itself; the tests of the CHECK
send SQL that goes around the ledger. State is always read back from a fresh engine (a new
connection) after the unit of work has ended.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
from sqlalchemy import CheckConstraint, Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from gateway.domain import ledger
from gateway.domain.bindings import Party
from gateway.domain.ledger import Transfer
from gateway.service.ports import Conflict
from gateway.store.db import make_engine
from gateway.store.tables import share_accounts, transfers
from gateway.store.unit_of_work import SqlUnitOfWork
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
G1, G2 = Party("420100", "G0001"), Party("420100", "G0002")
OVERDRAFTS: dict[str, Callable[[Party, int], list[Transfer]]] = {
    "release": ledger.release,
    "pay": lambda grantor, amount: ledger.pay(grantor, "320300", amount),
}


def committed(engine: Engine, entries: list[Transfer]) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(entries, NOW)
        uow.commit()


def snapshot(database_url: str) -> tuple[dict[str, dict[str, Any]], int]:
    """Every share account row (balance and running totals) and the number of transfers,
    read on a connection of a new engine."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            accounts = {row.account: row._asdict() for row in conn.execute(select(share_accounts))}
            count = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        return accounts, count
    finally:
        engine.dispose()


def moved(grantor: Party) -> str:
    """The message of the Conflict with which the ledger refuses a debit of ``grantor``'s share."""
    return f"^{re.escape(f'balance of {ledger.share(grantor)} moved')}$"


@pytest.mark.parametrize("overdraft", OVERDRAFTS.values(), ids=OVERDRAFTS.keys())
def test_an_overdraft_fails_as_a_conflict_naming_the_account_and_changes_nothing(engine, database_url, overdraft):
    """A debit of one fen more than the balance: the unit of work ends in a Conflict (safe to
    retry: the caller read a balance that has since moved) whose message names the share account,
    as the ledger's guard words it; the balance, the running totals and the transfers are as before.
    Without the guard the CHECK would fail the statement instead, and the Conflict would name the
    constraint; without both, the debit would go through."""
    committed(engine, ledger.fund(G1, 100))
    before = snapshot(database_url)
    with pytest.raises(Conflict, match=moved(G1)):
        with SqlUnitOfWork(engine) as uow:
            uow.ledger.post(overdraft(G1, 101), NOW)
            uow.commit()
    assert snapshot(database_url) == before
    assert before[0][ledger.share(G1)]["balance"] == 100


def test_post_refuses_an_overdraft_itself_and_the_transaction_goes_on_to_debit_exactly_the_balance(
        engine, database_url):
    """``post`` raises the port's Conflict itself (Ledger.post's contract), not a driver error:
    no statement failed, so the same transaction can still read the balance, debit exactly all of
    it (the guard is ``>=``: a balance may reach zero) and commit. Without the guard the CHECK
    would fail the UPDATE (IntegrityError out of ``post``; on PostgreSQL the transaction aborted)."""
    committed(engine, ledger.fund(G1, 100))
    _, count = snapshot(database_url)
    with SqlUnitOfWork(engine) as uow:
        with pytest.raises(Conflict, match=moved(G1)):
            uow.ledger.post(ledger.release(G1, 101), NOW)
        assert uow.ledger.balances([ledger.share(G1)]) == {ledger.share(G1): 100}
        uow.ledger.post(ledger.release(G1, 100), NOW)
        uow.commit()
    accounts, after = snapshot(database_url)
    assert accounts == {ledger.share(G1): {"account": ledger.share(G1), "balance": 0, "funded": 100,
                                           "released": 100, "spent": 0, "refunded": 0}}
    assert after == count + 1


def test_an_overdraft_in_a_later_line_undoes_the_debits_of_the_lines_before_it(engine, database_url):
    """A payment split between two grantors, the second of whom has too little: the Conflict names
    the second grantor's account, and the first grantor's debit, already made in the same
    transaction, is gone with the rest of the unit of work."""
    committed(engine, ledger.fund(G1, 100) + ledger.fund(G2, 50))
    before = snapshot(database_url)
    with pytest.raises(Conflict, match=moved(G2)):
        with SqlUnitOfWork(engine) as uow:
            uow.ledger.post(ledger.pay(G1, "320300", 60) + ledger.pay(G2, "320300", 60), NOW)
            uow.commit()
    assert snapshot(database_url) == before


NEGATIVE = {
    "set to -1": "UPDATE share_accounts SET balance = -1 WHERE account = :account",
    "unguarded debit": "UPDATE share_accounts SET balance = balance - 101, spent = spent + 101 "
                       "WHERE account = :account",
    "opened negative": "INSERT INTO share_accounts (account, balance, funded, released, spent, refunded) "
                       "VALUES ('share:420100:G0009', -1, 0, 0, 0, 0)",
}


@pytest.mark.parametrize("statement", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_the_database_refuses_a_negative_share_balance_whatever_sql_asks_for_it(engine, database_url, statement):
    """SQL that goes around the ledger, the way a hand-written fix or a future bug would: the
    CHECK constraint fails it with IntegrityError on both engines, and nothing changes."""
    committed(engine, ledger.fund(G1, 100))
    before = snapshot(database_url)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(text(statement), {"account": ledger.share(G1)})
    assert snapshot(database_url) == before


def test_the_declared_schema_and_the_migrations_both_hold_the_non_negative_check(engine):
    """Alembic's comparison of the migrated schema with gateway.store.tables (the schema test in
    test_members_store) ignores CHECK constraints, so it would not notice one missing on either side."""
    declared = {str(c.sqltext) for c in share_accounts.constraints if isinstance(c, CheckConstraint)}
    with engine.connect() as conn:
        migrated = {c["sqltext"] for c in inspect(conn).get_check_constraints("share_accounts")}
    assert declared == migrated == {"balance >= 0"}


def test_only_a_race_ends_a_unit_of_work_as_a_conflict_a_defect_stays_an_error(engine):
    """A unique key that a concurrent transaction got to first, or a CHECK (a balance), is a Conflict (the
    caller retries and reads the new state); a NOT NULL violation is a defect, raised as it is (INTERNAL)."""
    from gateway.store.tables import request_log
    row = {"caller": "region/420100", "request_id": "r1", "fingerprint": "f" * 64, "response": b"", "refused": False,
           "created_at": NOW}
    with SqlUnitOfWork(engine) as uow:
        uow._conn.execute(request_log.insert().values(row))
        uow.commit()
    with pytest.raises(Conflict):
        with SqlUnitOfWork(engine) as uow:
            uow._conn.execute(request_log.insert().values(row))
    with pytest.raises(IntegrityError):
        with SqlUnitOfWork(engine) as uow:
            uow._conn.execute(request_log.insert().values({**row, "request_id": "r2", "fingerprint": None}))
