"""Calls cut short on the event loop (PostgreSQL; gateway.store.postgres.loop): a caller that goes away, a
deadline, a shutdown cancel the call's task wherever it is. A settlement cut while it waits on a grantor's
locked share row writes nothing and leaves no session in a transaction; its retry (the same request_id) pays
once. A cancellation that comes again while the connection is being rolled back on its way to the pool still
gives the pool its slot back; that rollback is not attempted where SQLAlchemy says no I/O may happen."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import func, make_url, select
from sqlalchemy.pool import PoolResetState

from gateway.bench import world
from gateway.domain import ledger
from gateway.domain.identity import IdHasher
from gateway.store.db import make_engine, make_loop_engine
from gateway.store.direct import Direct
from gateway.store.postgres.engine import _as_it_came
from gateway.store.postgres.loop import LoopRunner
from gateway.store.tables import share_accounts
from gateway.store.unit_of_work import factory
from tests.integration.on_loop import scalar, settlements, until, waiting_on_locks

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

SLEEP = Direct(select(func.pg_sleep(30).label("slept")))


def test_a_settlement_cut_while_it_waits_on_a_locked_row_writes_nothing(database_url: str, hasher: IdHasher,
                                                                         run_on_loop: Any) -> None:
    blocking = make_engine(database_url)
    world.load_pairs(blocking, 1, hasher)
    account = ledger.share(world.grantor(0))
    before = scalar(blocking, f"SELECT balance FROM share_accounts WHERE account = '{account}'")
    on_loop, runner, settle = settlements(database_url, hasher)

    def in_transaction() -> int:  # sessions of this database but the holder's (and this query's own)
        return scalar(blocking, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")

    async def main(holder: Any) -> Any:
        call = asyncio.ensure_future(settle("cut-1"))
        await until(lambda: asyncio.to_thread(lambda: waiting_on_locks(blocking) > 0),
                    "the settlement never waited on the row")
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 20)
        assert on_loop.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await asyncio.to_thread(in_transaction) == 1  # the holder alone
        await asyncio.to_thread(holder.rollback)
        assert scalar(blocking, "SELECT count(*) FROM settlements") == 0
        assert scalar(blocking, "SELECT count(*) FROM request_log") == 0
        assert scalar(blocking, f"SELECT balance FROM share_accounts WHERE account = '{account}'") == before
        first = await settle("cut-1")  # the caller's retry
        again = await settle("cut-1")
        await runner.shutdown()
        return first, again

    with blocking.connect() as holder:
        holder.execute(share_accounts.select().where(share_accounts.c.account == account).with_for_update())
        first, again = run_on_loop(main(holder))
    assert first == again and first.lines[0].amount_fen == 100
    assert scalar(blocking, "SELECT count(*) FROM settlements") == 1
    assert scalar(blocking, f"SELECT balance FROM share_accounts WHERE account = '{account}'") == before - 100
    blocking.dispose()


def test_a_second_cancellation_during_any_rollback_still_gives_the_slot_back(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelled while it waits on the database, then again at the k-th rollback on the way back to the pool
    (the unit of work's, the pool's reset, ...), for each k until none is left to cut: the pool gets its one
    slot back each time, and the next call has a connection outside any transaction."""
    on_loop = make_loop_engine(database_url, 1)
    runner = LoopRunner(1, on_loop, factory(on_loop))
    rollback = psycopg.AsyncConnection.rollback
    blocking = make_engine(database_url)

    def sleeping(uow_factory: Any) -> None:
        with uow_factory() as uow:
            uow.control.current(fresh=True)
            SLEEP.rows(uow._conn, {})  # as the gateway's own statements run (gateway.store.direct)

    def status(uow_factory: Any) -> str:
        with uow_factory() as uow:
            return str(uow._conn.exec_driver_sql("SELECT current_setting('transaction_isolation')").scalar_one())

    def sleepers() -> int:
        return scalar(blocking, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event = 'PgSleep'")

    async def cut_at(k: int) -> bool:
        """Whether there was a k-th rollback to cut."""
        seen, cutting = 0, asyncio.Event()

        async def slow_rollback(self: psycopg.AsyncConnection) -> None:
            nonlocal seen
            seen += 1
            if seen == k:
                cutting.set()
                await asyncio.sleep(30)
            await rollback(self)

        monkeypatch.setattr(psycopg.AsyncConnection, "rollback", slow_rollback)
        call = asyncio.ensure_future(runner(sleeping))
        await until(lambda: asyncio.to_thread(lambda: sleepers() > 0), "the call never waited on the database")
        call.cancel()
        started = asyncio.ensure_future(cutting.wait())
        await asyncio.wait([call, started], timeout=20, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        cut = cutting.is_set()
        if cut:
            call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 20)
        monkeypatch.setattr(psycopg.AsyncConnection, "rollback", rollback)
        assert on_loop.pool.checkedout() == 0, f"the slot was lost with the rollback number {k} cut"  # type: ignore[attr-defined]
        assert await asyncio.wait_for(runner(status), 20) == "read committed"
        await until(lambda: asyncio.to_thread(lambda: sleepers() == 0), "the cut call's statement still runs")
        return cut

    async def main() -> int:
        await runner(status)  # the pool's connection made (SQLAlchemy rolls a new one back)
        k = 1
        try:
            while await cut_at(k):
                k += 1
        finally:
            await runner.shutdown()
        return k

    assert asyncio.run(main()) >= 2  # the pool's reset was cut, at least (a unit of work leaves its rollback to it)
    blocking.dispose()


def test_a_cancelled_call_whose_connection_dies_at_the_rollback_stays_cancelled(
        database_url: str, monkeypatch: pytest.MonkeyPatch, run_on_loop: Any) -> None:
    """Cut while it waits on the database, and the connection is lost as the unit of work rolls back: the call
    ends cancelled as it was, not UNAVAILABLE (a background loop would take that for a failure and go on), and
    the pool's slot comes back."""
    on_loop = make_loop_engine(database_url, 1)
    runner = LoopRunner(1, on_loop, factory(on_loop))
    blocking = make_engine(database_url)
    rollback = psycopg.AsyncConnection.rollback

    async def lost(self: psycopg.AsyncConnection) -> None:
        await self.close()
        raise psycopg.OperationalError("the connection was lost")

    def sleeping(uow_factory: Any) -> None:
        with uow_factory() as uow:
            SLEEP.rows(uow._conn, {})

    async def main() -> None:
        call = asyncio.ensure_future(runner(sleeping))
        await until(lambda: asyncio.to_thread(lambda: scalar(
            blocking, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND wait_event = 'PgSleep'") > 0), "the call never waited on the database")
        monkeypatch.setattr(psycopg.AsyncConnection, "rollback", lost)
        call.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(call, 20)
        finally:
            monkeypatch.setattr(psycopg.AsyncConnection, "rollback", rollback)
        assert on_loop.pool.checkedout() == 0  # type: ignore[attr-defined]
        await runner.shutdown()

    run_on_loop(main())
    blocking.dispose()


@pytest.mark.parametrize("asyncio_safe, terminate_only, autocommit, reset", [
    (True, False, True, True),  # the pool's reset on the event loop: rolled back, autocommit off
    (False, True, True, False),  # a connection garbage collected outside the loop: no I/O may happen there
    (False, False, True, False),  # the same condition alone (SQLAlchemy sets both when it collects one)
    (True, True, True, False),  # a connection the pool only closes
    (True, False, False, False),  # autocommit off: SQLAlchemy's own transaction, which SQLAlchemy rolls back
])
def test_the_pools_reset_sends_nothing_where_sqlalchemy_says_no_io_may_happen(
        database_url: str, asyncio_safe: bool, terminate_only: bool, autocommit: bool, reset: bool) -> None:
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=autocommit) as raw:
        if autocommit:
            raw.execute("BEGIN")  # a unit of work's transaction, as it was when the call was cut
        raw.execute("SELECT 1")
        _as_it_came(raw, None, PoolResetState(transaction_was_reset=False, terminate_only=terminate_only,
                                              asyncio_safe=asyncio_safe))
        status = raw.info.transaction_status
        assert (status, raw.autocommit) == ((TransactionStatus.IDLE, False) if reset else
                                            (TransactionStatus.INTRANS, autocommit))
