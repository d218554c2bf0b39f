"""Units of work that the writer-process tests send to the writer: module-level functions,
since the writer imports the functions it is sent by name."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

from sqlalchemy import text

from gateway.domain import ledger
from gateway.domain.bindings import Party
from gateway.domain.errors import Category, FieldViolation, Refusal
from gateway.service.ports import UnitOfWorkFactory

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def grantor(n: int) -> Party:
    return Party("420100", f"G{n:04d}")


def fund(uow_factory: UnitOfWorkFactory, n: int, amount: int, then: str = "commit") -> int:
    """Funds grantor ``n``, then commits, or refuses, fails or sleeps a little before committing."""
    with uow_factory() as uow:
        uow.ledger.post(ledger.fund(grantor(n), amount), NOW)
        if then == "refuse":
            raise Refusal(Category.FAILED_PRECONDITION, "TEST_REFUSAL", "refused after writing", rule="R6",
                          metadata={"grantor": str(n)}, violations=(FieldViolation("amount", "too much"),))
        if then == "fail":
            raise ValueError("a bug in a unit of work")
        if then == "sleep":
            time.sleep(0.3)
        uow.commit()
    return n


def break_the_commit(uow_factory: UnitOfWorkFactory) -> None:
    """Writes a row whose foreign key is checked only at COMMIT, and dangles: the batch's commit fails."""
    with uow_factory() as uow:
        uow._conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        uow._conn.execute(text("INSERT INTO refunds (id, settlement_seq, amount, actor, at) "
                               "VALUES ('r-dangling', 999999, 1, 'test', '2026-11-23 00:00:00')"))
        uow.commit()


def die(uow_factory: UnitOfWorkFactory) -> None:
    os._exit(3)


def echo_shared(uow_factory: UnitOfWorkFactory, shared: dict[str, int]) -> tuple[str, dict[str, int]]:
    return getattr(shared, "name", ""), dict(shared)
