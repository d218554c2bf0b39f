"""The SQLite writer rolls back only the call of a batch that was refused or failed: each call's
unit of work runs in a SAVEPOINT of its own (gateway.store.sqlite.writer, SavepointUnitOfWork), and the
writes of the calls before and after it are committed with the batch, wherever the refused call
stands in it. Most cases run a BatchWriter in this process, so that each batch is exactly the calls
given; one sends a batch through a real writer process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.domain import ledger
from gateway.domain.errors import Refusal
from gateway.service.ports import Conflict, PriorAnswer, UnitOfWorkFactory
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.tables import request_log, share_accounts, transfers
from gateway.store.unit_of_work import SqlUnitOfWork
from gateway.store.sqlite.writer import BatchWriter
from gateway.store.sqlite.writer_process import WriterProcess
from tests.integration.writer_work import NOW, fund, grantor

CALLER = "region/420100"
TAKEN = "taken"  # a request id already in the request log when the batch runs


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A migrated SQLite file whose request log already holds (CALLER, TAKEN)."""
    url = f"sqlite:///{tmp_path / 'writer.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with SqlUnitOfWork(engine) as uow:
            uow.requests.add(CALLER, TAKEN, PriorAnswer("before", b""))
            uow.commit()
    finally:
        engine.dispose()
    return url


def fund_and_log(uow_factory: UnitOfWorkFactory, n: int, amount: int, request_id: str) -> int:
    """Funds grantor ``n`` and logs ``request_id``, in one unit of work. A request id already
    logged makes the INSERT fail on the primary key (IntegrityError), which the unit of work
    turns into a Conflict, after the funding was written."""
    with uow_factory() as uow:
        uow.ledger.post(ledger.fund(grantor(n), amount), NOW)
        uow.requests.add(CALLER, request_id, PriorAnswer(f"fund-{n}", b""))
        uow.commit()
    return n


def stored(url: str) -> tuple[dict[str, int], int, set[str]]:
    """Share balances, the number of transfers, and the logged request ids, from a new engine."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            balances = {row.account: row.balance for row in conn.execute(select(share_accounts))}
            count = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
            logged = {row.request_id for row in conn.execute(select(request_log.c.request_id))}
        return balances, count, logged
    finally:
        engine.dispose()


def run_batch(url: str, calls: list[tuple[Any, ...]]) -> list[tuple[int, bool, Any]]:
    """Runs ``calls``, ``(function, *arguments)`` each, as one batch of an in-process BatchWriter."""
    engine = make_engine(url, pool_size=1)
    writer = BatchWriter(engine)
    try:
        _, outcomes = writer.run([(i, fn, tuple(args)) for i, (fn, *args) in enumerate(calls)])
        return outcomes
    finally:
        writer.close()
        engine.dispose()


POSITIONS = {"first": 0, "middle": 2, "last": 4}


@pytest.mark.parametrize("refused", POSITIONS.values(), ids=POSITIONS.keys())
def test_a_call_refused_after_writing_loses_its_writes_and_the_rest_of_the_batch_commits(url, refused):
    """Five calls, each funding its own grantor; one writes, then raises a Refusal."""
    calls = [(fund, n, 100 * n, "refuse" if i == refused else "commit") for i, n in enumerate(range(1, 6))]
    outcomes = run_batch(url, calls)
    assert [(call_id, ok) for call_id, ok, _ in outcomes] == [(i, i != refused) for i in range(5)]
    assert isinstance(outcomes[refused][2], Refusal) and outcomes[refused][2].reason == "TEST_REFUSAL"
    assert [result for _, ok, result in outcomes if ok] == [n for i, n in enumerate(range(1, 6)) if i != refused]
    balances, count, _ = stored(url)
    assert balances == {ledger.share(grantor(n)): 100 * n for i, n in enumerate(range(1, 6)) if i != refused}
    assert count == 4


@pytest.mark.parametrize("failed", POSITIONS.values(), ids=POSITIONS.keys())
def test_a_call_that_hits_a_duplicate_key_after_writing_loses_only_its_own_writes(url, failed):
    """Five calls, each funding its own grantor and logging its own request id; one reuses a logged
    id, so its INSERT fails after its funding was written: that call is answered Conflict (safe to
    retry) and keeps nothing, not even its funding; the other four are committed whole."""
    calls = [(fund_and_log, n, 100 * n, TAKEN if i == failed else f"r{n}") for i, n in enumerate(range(1, 6))]
    outcomes = run_batch(url, calls)
    assert [(call_id, ok) for call_id, ok, _ in outcomes] == [(i, i != failed) for i in range(5)]
    assert isinstance(outcomes[failed][2], Conflict)
    kept = [n for i, n in enumerate(range(1, 6)) if i != failed]
    balances, count, logged = stored(url)
    assert balances == {ledger.share(grantor(n)): 100 * n for n in kept}
    assert count == 4
    assert logged == {TAKEN} | {f"r{n}" for n in kept}


def test_a_duplicate_within_the_batch_fails_the_later_call_only(url):
    """Two calls of one batch log the same request id: the first is committed, the second, which
    follows it, is answered Conflict and its funding is gone; the call after both commits."""
    outcomes = run_batch(url, [(fund_and_log, 1, 100, "same"), (fund_and_log, 2, 200, "same"),
                               (fund_and_log, 3, 300, "r3")])
    assert [(ok, type(result)) for _, ok, result in outcomes] == [(True, int), (False, Conflict), (True, int)]
    assert stored(url) == ({ledger.share(grantor(1)): 100, ledger.share(grantor(3)): 300}, 2, {TAKEN, "same", "r3"})


def test_through_the_writer_process_a_failed_middle_call_loses_only_its_writes(url):
    """The same through a real writer process: calls made together form one batch, and the
    Conflict of the middle one reaches its caller across the process boundary."""
    async def main() -> tuple[WriterProcess, list[object]]:
        writer = WriterProcess(url)
        await writer.start()
        try:
            return writer, await asyncio.gather(
                writer(fund_and_log, 1, 100, "r1"), writer(fund_and_log, 2, 200, TAKEN),
                writer(fund, 3, 300, "refuse"), writer(fund_and_log, 4, 400, "r4"), return_exceptions=True)
        finally:
            await writer.shutdown()

    writer, outcomes = asyncio.run(main())
    assert outcomes[0] == 1 and outcomes[3] == 4
    assert isinstance(outcomes[1], Conflict) and isinstance(outcomes[2], Refusal)
    assert (writer.batches, writer.units) == (1, 4)
    assert stored(url) == ({ledger.share(grantor(1)): 100, ledger.share(grantor(4)): 400}, 2, {TAKEN, "r1", "r4"})
