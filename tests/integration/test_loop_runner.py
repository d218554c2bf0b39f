"""Units of work on the event loop (PostgreSQL; gateway.store.postgres.loop): one that waits on the database
gives the loop back, so the loop keeps running and another one proceeds, and nothing they share blocks the
loop's thread across a database read (the operators' state cache, read by every call)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.util import await_only

from gateway.service.once import in_transaction
from gateway.store import control
from gateway.store.control import CACHE
from gateway.store.db import make_engine, make_loop_engine
from gateway.store.postgres.loop import LoopRunner
from gateway.store.unit_of_work import factory

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def operators_version(uow_factory: Any) -> int:
    return in_transaction(uow_factory, lambda uow: uow.control.current().version, readonly=True)


def test_calls_waiting_on_the_database_give_the_loop_back_and_both_finish(database_url: str) -> None:
    """An operator's transaction holds the control table; two calls then read the operators' state (the cache
    has just been forgotten, as after a change). Both wait on the database while the loop goes on (it polls
    for them), and both answer once the lock goes. A lock held across the read would stop the loop's thread
    for good at the second call: the loop runs in a thread of its own here, so that this fails, not hangs."""
    blocking = make_engine(database_url)
    on_loop = make_loop_engine(database_url, 4)
    runner = LoopRunner(4, on_loop, factory(on_loop))
    results: list[Any] = []

    def waiting() -> int:
        with blocking.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_locks WHERE relation = 'control'::regclass "
                                     "AND NOT granted")).scalar_one()

    async def main(holder: Any) -> list[int]:
        calls = [asyncio.ensure_future(runner(operators_version)) for _ in range(2)]
        deadline = time.monotonic() + 20
        while await asyncio.to_thread(waiting) < 2:  # the loop runs while both calls wait
            assert time.monotonic() < deadline, "the calls never both waited on the database"
            await asyncio.sleep(0.01)
        assert not any(call.done() for call in calls)
        await asyncio.to_thread(holder.commit)
        try:
            return list(await asyncio.wait_for(asyncio.gather(*calls), 20))
        finally:
            await runner.shutdown()

    with blocking.connect() as holder:
        holder.execute(text("LOCK TABLE control IN ACCESS EXCLUSIVE MODE"))
        CACHE.forget()
        loop_thread = threading.Thread(target=lambda: results.append(asyncio.run(main(holder))), daemon=True)
        loop_thread.start()
        loop_thread.join(45)
        stuck = loop_thread.is_alive()
        if stuck:
            holder.rollback()
    blocking.dispose()
    assert not stuck, "the event loop's thread stopped while a call waited on the database"
    with make_engine(database_url).connect() as conn:
        version = conn.execute(text("SELECT version FROM control")).scalar_one()
    assert results == [[version, version]]


@pytest.mark.parametrize("what", ["loaded", "the load fails", "a waiter is cut", "the loader is cut"])
def test_units_of_work_that_find_a_new_version_load_it_once(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                            what: str) -> None:
    """After an operators' change, the calls in flight on the loop all find the new version: one loads the
    state, the others wait for it and get the same state. The load goes on only once all four have come to the
    cache. A waiter cut leaves the others their state; a load that fails or is cut leaves each to load its own."""
    on_loop = make_loop_engine(database_url, 4)
    runner = LoopRunner(4, on_loop, factory(on_loop))
    blocking = make_engine(database_url)
    loaders: list[Any] = []
    entered: list[Any] = []
    release = threading.Event()  # set from the loop; read by the loader, on the loop, between polls
    real_load, real_enter = control.load, control.ControlCache._load

    def held_load(conn: Any) -> Any:
        loaders.append(asyncio.current_task())
        while not release.is_set():
            await_only(asyncio.sleep(0.01))
        if what == "the load fails" and len(loaders) == 1:
            raise RuntimeError("the first load fails")
        return real_load(conn)

    def entering(self: Any, conn: Any, key: Any) -> Any:
        entered.append(asyncio.current_task())
        return real_enter(self, conn, key)

    def bump() -> int:
        with blocking.begin() as conn:
            return conn.execute(text("UPDATE control SET version = version + 1 RETURNING version")).scalar_one()

    async def main() -> tuple[int, list[Any], list[Any]]:
        version = await asyncio.to_thread(bump)
        calls = [asyncio.ensure_future(runner(operators_version)) for _ in range(4)]
        deadline = time.monotonic() + 20
        while len(entered) < 4:  # every call has read the new version and come to the cache
            assert time.monotonic() < deadline, "the calls never all came to the cache"
            await asyncio.sleep(0.01)
        assert len(loaders) == 1
        cut = {"a waiter is cut": next(c for c in calls if c is not loaders[0]),
               "the loader is cut": loaders[0]}.get(what)
        if cut is not None:
            cut.cancel()
            await asyncio.wait([cut], timeout=20)
        release.set()
        answers = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 20)
        await runner.shutdown()
        return version, [cut if a is cut else a for a in answers], [calls.index(t) for t in loaders]

    cache = control.ControlCache()  # this process's, as if it had just started
    monkeypatch.setattr(control, "CACHE", cache)
    monkeypatch.setattr(control, "load", held_load)
    monkeypatch.setattr(control.ControlCache, "_load", entering)
    version, answers, loads = asyncio.run(main())
    blocking.dispose()
    outcome = sorted(type(a).__name__ if isinstance(a, BaseException) else str(a) for a in answers)
    if what == "loaded":
        assert outcome == [str(version)] * 4 and len(loads) == 1
    elif what == "a waiter is cut":
        assert outcome == sorted(["CancelledError", *[str(version)] * 3]) and len(loads) == 1
    else:  # the first load's own call fails; the three others each load
        failed = "RuntimeError" if what == "the load fails" else "CancelledError"
        assert outcome == sorted([failed, *[str(version)] * 3]) and len(loads) == 4, (outcome, loads)
    assert cache._loading == {}


def test_a_unit_of_work_waits_on_the_driver_only_for_its_round_trips(database_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The event loop's connections stay in autocommit (gateway.store.postgres.engine): a unit of work that
    commits, one that fails, and one that only reads neither switch the driver's mode nor ask it for a commit
    or a rollback with nothing to send; a failed one's open transaction is rolled back once, by the pool."""
    import psycopg

    asked: list[str] = []
    for name in ("set_autocommit", "commit", "rollback"):
        original = getattr(psycopg.AsyncConnection, name)

        def counted(self, *args, _name=name, _original=original):  # type: ignore[no-untyped-def]
            asked.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(psycopg.AsyncConnection, name, counted)
    on_loop = make_loop_engine(database_url, 1)
    runner = LoopRunner(1, on_loop, factory(on_loop))

    def committed(uow_factory: Any) -> None:
        with uow_factory() as uow:
            uow.requests.find("region/420100", "none")
            uow.commit()

    def read_only(uow_factory: Any) -> None:
        in_transaction(uow_factory, lambda uow: uow.requests.find("region/420100", "none"), readonly=True)

    def failed(uow_factory: Any) -> None:
        with uow_factory() as uow:
            uow.requests.find("region/420100", "none")
            raise LookupError("refused")

    async def main() -> list[list[str]]:
        await runner(operators_version)  # the pool's connection made (SQLAlchemy rolls a new one back)
        seen = []
        for work in (committed, read_only, failed):
            asked.clear()
            try:
                await runner(work)
            except LookupError:
                pass
            seen.append(list(asked))
        await runner.shutdown()
        return seen

    assert asyncio.run(main()) == [[], [], ["rollback"]]
