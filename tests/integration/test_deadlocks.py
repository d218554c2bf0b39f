"""A deadlock on PostgreSQL (SQLSTATE 40P01) is a Conflict (gateway.store.unit_of_work): the settlement the
database picks as its victim is rolled back whole and run again, and pays once. Share rows are locked in one
order (gateway.store.ledger), so settlements do not deadlock one another; a binding changed between the two
reads of a settlement's first round trip, or another program holding rows, can still close a cycle."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
from sqlalchemy import insert, make_url, text

from gateway.bench import world
from gateway.domain import ledger
from gateway.domain.identity import IdHasher
from gateway.store import unit_of_work
from gateway.store.db import make_engine
from gateway.store.tables import bindings, share_accounts
from tests.integration.on_loop import scalar, settlements, waiting_on_locks

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def test_the_victim_of_a_deadlock_is_run_again_and_pays_once(database_url: str, hasher: IdHasher,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Another session holds the share row that sorts second; the settlement locks the first and waits on it;
    that session then asks for the first. The settlement's sessions look for a deadlock after 2 s, the other
    after 60 s, so the settlement is the victim: it is run again, waits until the other commits, and pays."""
    blocking = make_engine(database_url)
    world.load_pairs(blocking, 2, hasher)
    with blocking.begin() as conn:  # beneficiary 0 gets a second grantor: its settlements lock two share rows
        conn.execute(insert(bindings).values(
            id="second", grantor_region=world.REGION, grantor_psn_no=world.grantor(1).psn_no,
            beneficiary_region=world.REGION, beneficiary_psn_no=world.beneficiary(0).psn_no, relationship="son",
            status="active", policy="42@v1", created_at=NOW, updated_at=NOW))
        conn.execute(text(f'ALTER DATABASE "{make_url(database_url).database}" SET deadlock_timeout = \'2s\''))
    first, second = sorted(ledger.share(world.grantor(i)) for i in (0, 1))
    total = f"SELECT sum(balance) FROM share_accounts WHERE account IN ('{first}', '{second}')"
    before = scalar(blocking, total)
    conflicts: list[str | None] = []
    is_lock_conflict = unit_of_work._is_lock_conflict

    def spied(exc: BaseException | None) -> bool:
        found = is_lock_conflict(exc)
        if found:
            conflicts.append(getattr(getattr(exc, "orig", None), "sqlstate", None))
        return found

    monkeypatch.setattr(unit_of_work, "_is_lock_conflict", spied)
    _, runner, settle = settlements(database_url, hasher)

    async def until(check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 20
        while not await asyncio.to_thread(check):
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.01)

    async def main(holder: Any) -> tuple[Any, Any]:
        call = asyncio.ensure_future(settle("deadlock-1"))
        await until(lambda: waiting_on_locks(blocking) == 1, "the settlement never waited on the second row")
        took = threading.Thread(target=lambda: holder.execute(
            share_accounts.select().where(share_accounts.c.account == first).with_for_update()))
        took.start()  # a cycle: it waits on the settlement, which waits on it
        await until(lambda: not took.is_alive(), "the other session never got the first row")
        await until(lambda: bool(conflicts), "the settlement's deadlock was not a Conflict")
        assert conflicts == ["40P01"]  # the settlement was the victim
        await until(lambda: waiting_on_locks(blocking) == 1, "the settlement was not run again")
        assert not call.done()  # run again, it waits on the rows the other session holds
        await asyncio.to_thread(holder.commit)
        paid = await asyncio.wait_for(call, 20)
        again = await settle("deadlock-1")
        await runner.shutdown()
        return paid, again

    with blocking.connect() as holder:
        holder.execute(text("SET deadlock_timeout = '60s'"))
        holder.execute(share_accounts.select().where(share_accounts.c.account == second).with_for_update())
        paid, again = asyncio.run(main(holder))
    assert paid == again and paid.lines[0].amount_fen == 100
    assert conflicts == ["40P01"]
    assert scalar(blocking, "SELECT count(*) FROM settlements") == 1
    assert scalar(blocking, "SELECT count(*) FROM request_log") == 1
    assert scalar(blocking, total) == before - 100
    blocking.dispose()
