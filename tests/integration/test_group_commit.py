"""The server's SQLite writer: one commit for a batch of units of work, each in a savepoint,
and no answer before the commit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from gateway.domain import ledger
from gateway.domain.bindings import Party
from gateway.domain.errors import Category, Refusal
from gateway.store.db import make_engine
from gateway.store.group_commit import GroupCommit
from gateway.store.migrate import upgrade
from gateway.store.unit_of_work import SqlUnitOfWork

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'group.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def grantor(n: int) -> Party:
    return Party("420100", f"G{n:04d}")


def fund(group: GroupCommit, n: int, amount: int, refuse: bool = False):  # type: ignore[no-untyped-def]
    """What a servicer hands the group: a function that opens a unit of work."""
    def work() -> int:
        with group.unit_of_work() as uow:
            uow.ledger.post(ledger.fund(grantor(n), amount), NOW)
            if refuse:
                raise Refusal(Category.FAILED_PRECONDITION, "TEST_REFUSAL", "refused after writing")
            uow.commit()
        return n
    return group(work)


def stored_balances(engine: Engine) -> dict[str, int]:
    with SqlUnitOfWork(engine, readonly=True) as uow:
        return {key: row["balance"] for key, row in uow.ledger.stored_accounts().items()}


def test_concurrent_calls_share_one_commit_and_a_refusal_undoes_only_its_own_writes(engine: Engine) -> None:
    async def scenario() -> list[object]:
        group = GroupCommit(engine, in_flight=lambda: 3, delay=0.05)
        try:
            return await asyncio.gather(fund(group, 1, 100), fund(group, 2, 200, refuse=True), fund(group, 3, 300),
                                        return_exceptions=True)
        finally:
            assert (group.batches, group.units) == (1, 3)
            group.shutdown()

    first, refused, third = asyncio.run(scenario())
    assert (first, third) == (1, 3)
    assert isinstance(refused, Refusal) and refused.reason == "TEST_REFUSAL"
    assert stored_balances(engine) == {ledger.share(grantor(1)): 100, ledger.share(grantor(3)): 300}


def test_no_caller_is_answered_before_the_commit_and_a_failed_commit_fails_every_caller(engine: Engine) -> None:
    @event.listens_for(engine, "commit")
    def fail(conn):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    async def scenario() -> list[object]:
        group = GroupCommit(engine, in_flight=lambda: 2, delay=0.05)
        try:
            return await asyncio.gather(fund(group, 1, 100), fund(group, 2, 200), return_exceptions=True)
        finally:
            group.shutdown()

    outcomes = asyncio.run(scenario())
    event.remove(engine, "commit", fail)
    assert [type(o) for o in outcomes] == [OSError, OSError]
    assert stored_balances(engine) == {}


def test_a_lone_call_commits_at_once_without_waiting_for_others(engine: Engine) -> None:
    async def scenario() -> float:
        group = GroupCommit(engine, in_flight=lambda: 1, delay=30)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await fund(group, 1, 100)
        group.shutdown()
        return loop.time() - started

    assert asyncio.run(scenario()) < 5
    assert stored_balances(engine) == {ledger.share(grantor(1)): 100}


def test_a_wait_that_gathered_nobody_turns_waiting_off(engine: Engine) -> None:
    async def scenario() -> list[float]:
        group = GroupCommit(engine, in_flight=lambda: 2, delay=0.3)
        loop = asyncio.get_running_loop()
        took = []
        for n in range(3):  # one caller in sequence: only the first call waits
            started = loop.time()
            await fund(group, n, 100)
            took.append(loop.time() - started)
        group.shutdown()
        return took

    first, second, third = asyncio.run(scenario())
    assert first >= 0.3 and second < 0.3 and third < 0.3


def test_a_caller_that_goes_away_still_has_its_work_committed_and_others_are_answered(engine: Engine) -> None:
    async def scenario() -> int:
        group = GroupCommit(engine, in_flight=lambda: 2, delay=0.05)
        leaving = asyncio.create_task(fund(group, 1, 100))
        staying = asyncio.create_task(fund(group, 2, 200))
        await asyncio.sleep(0)  # both have written and wait for the commit
        leaving.cancel()
        answer = await staying
        group.shutdown()
        return answer

    assert asyncio.run(scenario()) == 2
    assert stored_balances(engine) == {ledger.share(grantor(1)): 100, ledger.share(grantor(2)): 200}
