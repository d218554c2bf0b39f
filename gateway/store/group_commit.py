"""Group commit: the server's SQLite writer.

SQLite has one writer at a time, and the largest single cost of a settlement
there is its commit (a WAL append), not its statements. So the server runs
units of work inside a shared transaction, each in a SAVEPOINT of its own: a
unit of work that fails or is refused rolls back to its savepoint and leaves
the others' changes alone. The transaction commits once for the batch, and
only then does any caller in it get an answer (or a refusal: it may rest on
what the batch wrote). If the commit fails, every caller in the batch gets the
error; none was answered, and each may retry with the same request_id. A crash
loses only unanswered work.

When does a batch commit? Under load (other calls in progress, or the last
commit less than ``COMMIT_DELAY`` ago) it waits ``COMMIT_DELAY`` so that more
units of work join; otherwise at once, at the end of the event loop's turn.
gRPC hands the server one call at a time, so without the wait a batch is
almost always one settlement. A wait that gathered nobody (one integrator
calling in sequence) turns waiting off for ``GATHER_BACKOFF``, so such a
caller is delayed on one call in many, by a few milliseconds. The idea is
PostgreSQL's ``commit_delay`` / ``commit_siblings``.

Units of work run inline on the event loop, one after the other, so they never
interleave. WAL checkpoints stay SQLite's own (inside the commit that crosses
1000 pages): the log restarts from its beginning only after a checkpoint the
writer completes itself; a checkpointer thread beside a writer that is nearly
always in a transaction would let the log grow without bound.

One gateway process per SQLite file: a write lock held by another process
stalls the loop for up to the busy timeout. PostgreSQL does not use this; each
unit of work is a transaction of its own on a thread pool (``gateway.api.runner``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction

from gateway.store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")
log = logging.getLogger("copay.store")
COMMIT_DELAY = 0.004
GATHER_BACKOFF = 0.1


class _Batch:
    def __init__(self, tx: RootTransaction, loop: asyncio.AbstractEventLoop) -> None:
        self.tx = tx
        self.loop = loop
        self.units = 0
        self.waiters: list[asyncio.Future[None]] = []
        self.timer: asyncio.TimerHandle | None = None  # set while the batch waits for company


class GroupCommit:
    def __init__(self, engine: Engine, observe: Callable[[int, float], None] = lambda units, seconds: None,
                 in_flight: Callable[[], int] = lambda: 1, delay: float = COMMIT_DELAY) -> None:
        self._engine = engine
        self._observe = observe  # (units of work in the batch, seconds its commit took)
        self._in_flight = in_flight  # calls the server is handling now, this one included
        self._delay = delay
        self._conn: Connection | None = None
        self._batch: _Batch | None = None
        self._last_commit = 0.0
        self._gather_from = 0.0
        self.batches = self.units = 0  # totals since start

    def connection(self) -> Connection:
        """The batch's connection, in its open transaction; the first unit of work of a batch begins it."""
        if self._conn is None:
            self._conn = self._engine.connect()
        if self._batch is None:
            loop = asyncio.get_running_loop()
            batch = self._batch = _Batch(self._conn.begin(), loop)
            now = time.perf_counter()
            if now >= self._gather_from and (self._in_flight() > 1 or now - self._last_commit < self._delay):
                batch.timer = loop.call_later(self._delay, self._commit, batch)
        self._batch.units += 1
        return self._conn

    def _commit(self, batch: _Batch) -> None:
        if self._batch is not batch:
            return  # committed already
        self._batch = None
        started = time.perf_counter()
        error: Exception | None = None
        try:
            batch.tx.commit()
        except Exception as failed:  # the batch is lost as a whole; its callers were not answered yet
            error = failed
            log.error("group commit failed; its %d units of work are lost and their callers told so", batch.units)
            self._discard_connection()
        for waiter in batch.waiters:
            if waiter.done():  # its caller has gone (cancelled)
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)
        self._last_commit = time.perf_counter()
        if batch.timer is not None and len(batch.waiters) < 2:  # waiting gathered nobody: stop for a while
            self._gather_from = self._last_commit + GATHER_BACKOFF
        self.batches += 1
        self.units += batch.units
        self._observe(batch.units, time.perf_counter() - started)

    def _discard_connection(self) -> None:
        """After a failed commit the connection's state is unknown: throw it away, start afresh."""
        if self._conn is not None:
            self._conn.invalidate()
            self._conn.close()
            self._conn = None

    def unit_of_work(self, readonly: bool = False) -> "SavepointUnitOfWork":
        """The UnitOfWorkFactory for the server's units of work (reads and writes alike)."""
        return SavepointUnitOfWork(self)

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        """Runs ``fn`` (which opens units of work) and answers once what it wrote is committed."""
        try:
            result = fn(*args)
        except Exception:
            await self._durable()
            raise
        await self._durable()
        return result

    async def _durable(self) -> None:
        batch = self._batch
        if batch is None:
            return
        waiter = batch.loop.create_future()
        batch.waiters.append(waiter)
        if batch.timer is None:  # not gathering: commit as soon as this turn of the loop is done
            batch.loop.call_soon(self._commit, batch)
        await waiter

    def shutdown(self) -> None:
        if self._batch is not None:
            self._commit(self._batch)
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class SavepointUnitOfWork(SqlUnitOfWork):
    """A unit of work inside the group's open transaction: SAVEPOINT, RELEASE or ROLLBACK TO."""

    def __init__(self, group: GroupCommit) -> None:
        self._group = group

    def __enter__(self) -> "SavepointUnitOfWork":
        conn = self._group.connection()
        self._driver = conn.connection.dbapi_connection
        self._driver.execute("SAVEPOINT uow")  # type: ignore[union-attr]
        self._open = True
        self._bind(conn)
        return self

    def commit(self) -> None:
        self._driver.execute("RELEASE SAVEPOINT uow")  # type: ignore[union-attr]
        self._open = False

    def _end(self) -> None:
        if self._open:
            self._driver.execute("ROLLBACK TO SAVEPOINT uow")  # type: ignore[union-attr]
            self._driver.execute("RELEASE SAVEPOINT uow")  # type: ignore[union-attr]
