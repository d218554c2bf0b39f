"""Group commit: the server's SQLite writer.

SQLite has one writer at a time, and what a settlement costs there is mostly
the commit (one WAL append each), not its statements. So the server runs
every unit of work that starts during one turn of the event loop inside one
transaction, each in a SAVEPOINT of its own: a unit of work that fails or is
refused rolls back to its savepoint and leaves the others' changes alone. The
transaction commits once, at the end of that turn, and only then does any
caller in the batch get its answer (or its refusal: it may rest on what the
batch wrote). If the commit fails, every caller in the batch gets the error;
none was answered, and each may retry with the same request_id. A crash loses
only unanswered work.

Units of work run inline on the event loop, one after the other, so they
never interleave within the batch. One gateway process per SQLite file: a
write lock held by another process stalls the loop for up to the busy timeout.
PostgreSQL does not use this; it runs each unit of work as a transaction of
its own on a thread pool (``gateway.api.runner``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction

from gateway.store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")


class GroupCommit:
    def __init__(self, engine: Engine, observe: Callable[[int, float], None] = lambda units, seconds: None) -> None:
        self._engine = engine
        self._observe = observe  # (units of work in the batch, seconds its commit took)
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._batch: asyncio.Future[None] | None = None
        self._units = 0
        self.batches = self.units = 0  # totals since start

    def connection(self) -> Connection:
        """The batch's connection, in its open transaction; the first caller of a turn begins it."""
        if self._conn is None:
            self._conn = self._engine.connect()
        if self._batch is None:
            self._tx = self._conn.begin()
            loop = asyncio.get_running_loop()
            self._batch = loop.create_future()
            loop.call_soon(self._commit)
        return self._conn

    def _commit(self) -> None:
        batch, tx, units, self._batch, self._tx, self._units = self._batch, self._tx, self._units, None, None, 0
        assert batch is not None and tx is not None
        started = time.perf_counter()
        try:
            tx.commit()
        except Exception as error:  # the batch is lost as a whole; its callers were not answered yet
            if tx.is_active:
                tx.rollback()
            batch.set_exception(error)
        else:
            batch.set_result(None)
        self.batches += 1
        self.units += units
        self._observe(units, time.perf_counter() - started)

    def unit_of_work(self, readonly: bool = False) -> "SavepointUnitOfWork":
        """The UnitOfWorkFactory for the server's units of work."""
        return SavepointUnitOfWork(self)

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        """Runs ``fn`` (which opens units of work) and answers once its batch is committed."""
        try:
            result = fn(*args)
        except Exception:
            await self._durable()
            raise
        await self._durable()
        return result

    async def _durable(self) -> None:
        if self._batch is not None:
            await asyncio.shield(self._batch)

    def shutdown(self) -> None:
        if self._conn is not None:
            if self._batch is not None:
                self._commit()
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
        self._group._units += 1
        return self

    def commit(self) -> None:
        self._driver.execute("RELEASE SAVEPOINT uow")  # type: ignore[union-attr]
        self._open = False

    def _end(self) -> None:
        if self._open:
            self._driver.execute("ROLLBACK TO SAVEPOINT uow")  # type: ignore[union-attr]
            self._driver.execute("RELEASE SAVEPOINT uow")  # type: ignore[union-attr]
