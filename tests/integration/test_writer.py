"""The SQLite writer process: calls that arrive together share one commit, each in a savepoint;
nobody is answered before the commit; failures reach their own caller; a dead writer answers
every waiting call UNAVAILABLE. A real writer process on a real SQLite file."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.domain import ledger
from gateway.domain.errors import Category, FieldViolation, Refusal
from gateway.service.ports import StoreUnavailable
from gateway.store.sqlite.checkpoints import Checkpointer
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.unit_of_work import SqlUnitOfWork
from gateway.store.sqlite.wire import WriterFailure, share
from gateway.store.sqlite.writer import BatchWriter
from gateway.store.sqlite.writer_process import WriterProcess
from tests.integration import writer_work as work
from tests.integration.writer_work import fund, grantor


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'writer.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def stored_balances(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with SqlUnitOfWork(engine, readonly=True) as uow:
            return {key: row["balance"] for key, row in uow.ledger.stored_accounts().items()}
    finally:
        engine.dispose()


def run(url: str, scenario, **options):  # type: ignore[no-untyped-def]
    """Runs ``scenario(writer)`` against a started writer process, then shuts it down."""
    async def main():  # type: ignore[no-untyped-def]
        writer = WriterProcess(url, **options)
        await writer.start()
        try:
            return writer, await scenario(writer)
        finally:
            await writer.shutdown()
    return asyncio.run(main())


def test_calls_made_together_share_one_commit_and_a_refusal_undoes_only_its_own_writes(url: str) -> None:
    async def scenario(writer: WriterProcess) -> list[object]:
        return await asyncio.gather(writer(fund, 1, 100), writer(fund, 2, 200, "refuse"), writer(fund, 3, 300),
                                    return_exceptions=True)

    writer, (first, refused, third) = run(url, scenario)
    assert (first, third) == (1, 3)
    assert isinstance(refused, Refusal)  # crossed the process boundary whole
    assert (refused.category, refused.reason, refused.rule, refused.metadata, refused.violations) == (
        Category.FAILED_PRECONDITION, "TEST_REFUSAL", "R6", {"grantor": "2"}, (FieldViolation("amount", "too much"),))
    assert (writer.batches, writer.units) == (1, 3)
    assert writer.exit_code == 0
    assert stored_balances(url) == {ledger.share(grantor(1)): 100, ledger.share(grantor(3)): 300}


def test_a_failed_commit_answers_every_call_of_its_batch_unavailable_and_keeps_none_of_them(url: str) -> None:
    async def scenario(writer: WriterProcess) -> tuple[list[object], object]:
        batch = await asyncio.gather(writer(fund, 1, 100), writer(work.break_the_commit), return_exceptions=True)
        return batch, await writer(fund, 2, 200)  # the writer goes on with a fresh connection

    _, (batch, after) = run(url, scenario)
    assert [type(outcome) for outcome in batch] == [StoreUnavailable, StoreUnavailable]
    assert "retry with the same request_id" in str(batch[0])
    assert after == 2
    assert stored_balances(url) == {ledger.share(grantor(2)): 200}


def test_an_unexpected_error_reaches_only_its_caller_without_its_details_and_the_rest_commit(
        url: str, capfd: pytest.CaptureFixture[str]) -> None:
    async def scenario(writer: WriterProcess) -> list[object]:
        return await asyncio.gather(writer(fund, 1, 100, "fail"), writer(fund, 2, 200), return_exceptions=True)

    _, (failed, ok) = run(url, scenario)
    assert isinstance(failed, WriterFailure) and "a bug" not in str(failed) and ok == 2
    assert "a bug in a unit of work" in capfd.readouterr().err  # the writer logged the cause
    assert stored_balances(url) == {ledger.share(grantor(2)): 200}


def test_a_caller_that_goes_away_still_has_its_work_committed(url: str) -> None:
    async def scenario(writer: WriterProcess) -> int:
        leaving = asyncio.create_task(writer(fund, 1, 100, "sleep"))
        await asyncio.sleep(0.1)  # sent, and running in the writer
        leaving.cancel()
        return await writer(fund, 2, 200)

    _, answer = run(url, scenario)
    assert answer == 2
    assert stored_balances(url) == {ledger.share(grantor(1)): 100, ledger.share(grantor(2)): 200}


def test_a_dead_writer_answers_waiting_calls_unavailable_and_tells_its_owner(url: str) -> None:
    lost = []

    async def scenario(writer: WriterProcess) -> tuple[list[object], object]:
        waiting = await asyncio.gather(writer(fund, 1, 100), writer(work.die), return_exceptions=True)
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.05)
        try:
            await writer(fund, 2, 200)
        except StoreUnavailable as later:
            return waiting, later
        return waiting, None

    writer, (waiting, later) = run(url, scenario, on_lost=lambda: lost.append(True))
    assert [type(outcome) for outcome in waiting] == [StoreUnavailable, StoreUnavailable]
    assert isinstance(later, StoreUnavailable)
    assert lost == [True] and writer.exit_code == 3
    assert stored_balances(url) == {}


def test_shared_objects_reach_the_writer_once_and_travel_by_name(url: str) -> None:
    limits = share("limits", {"420100": 5})

    async def scenario(writer: WriterProcess) -> object:
        limits["420100"] = 6  # after start: the writer keeps what it was given then
        return await writer(work.echo_shared, limits)

    _, (name, content) = run(url, scenario, shared=(limits,))
    assert (name, content) == ("limits", {"420100": 5})


def test_background_checkpoints_keep_the_log_bounded_under_continuous_writes(url: str) -> None:
    engine: Engine = make_engine(url, pool_size=1)
    checkpoints = Checkpointer(engine, interval=0.002, restart_pages=50)
    writer = BatchWriter(engine, checkpoints)
    try:
        for n in range(400):
            _, outcomes = writer.run([(i, fund, (n * 10 + i, 100)) for i in range(10)])
            assert all(ok for _, ok, _ in outcomes)
            writer.tidy()
        log_bytes = os.path.getsize(url.removeprefix("sqlite:///") + "-wal")
    finally:
        writer.close()
        engine.dispose()
    assert checkpoints.passes > 0 and checkpoints.catch_ups > 0
    assert log_bytes < 2 * 1024 * 1024  # never restarted, this log grows to 8 MB; SQLite's own checkpoints: 4 MB
    assert len(stored_balances(url)) == 4000
