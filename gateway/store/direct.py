"""Hot-path statements, run straight on the driver's connection.

SQLAlchemy Core still builds and compiles every statement; what ``Direct``
skips is ``Connection.execute``'s per-call machinery (events, execution
context, result wrapping): about 50 µs a statement, which was most of what a
settlement cost (see README, Benchmark). Each statement is compiled once per
dialect; its bind and result type processors (SQLite keeps datetimes as text)
are applied here exactly as SQLAlchemy would apply them. The statement runs on
the same DBAPI connection, inside the same transaction, as everything else the
unit of work does.

Only statements with a fixed shape qualify: no expanding ``IN`` lists.
Driver errors are raised as SQLAlchemy's (IntegrityError, OperationalError),
parameters hidden, so callers handle one family of exceptions; a lost connection
is invalidated and flagged (``connection_invalidated``) as SQLAlchemy would.

Round trips (PostgreSQL). A write whose answer nobody reads (``queue``) is not
sent at once: it waits in the connection's queue (gateway.store.postgres.queue)
and goes with the next thing that needs an answer (a read, a statement through
SQLAlchemy, or the COMMIT: gateway.store.postgres.transactions queues BEGIN and
COMMIT too), all in one round trip (psycopg's pipeline mode). Reads known in
advance go together too (``together``). A queued write's error (a unique key, a
CHECK) is raised where the queue is sent, as the same SQLAlchemy exception, so
the unit of work fails as it would have; what is still queued when the
connection goes back to the pool is dropped (gateway.store.postgres.engine). On
SQLite, in process, ``queue`` runs at once.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import Connection, Insert, Table, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from gateway.store.postgres import queue
from gateway.store.postgres.queue import queues

Processor = Callable[[Any], Any]


def send_queue(conn: Connection) -> None:
    """Sends the queued writes now, in one round trip (before a statement that does not go through Direct)."""
    if queue.pending(conn):
        _send(conn, [])


def insert(table: Table, *generated: str) -> Insert:
    """``INSERT`` naming every column but the ``generated`` ones, each bound by its own name."""
    return table.insert().values({c.key: bindparam(c.key) for c in table.columns if c.key not in generated})


class _Plan:
    """One statement compiled for one dialect."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.has_out_parameters or any(b.expanding for b in compiled.binds.values()):
            raise ValueError("Direct runs fixed-shape statements only")
        self.sql = str(compiled)
        self.defaults = {name: value for name, value in compiled.params.items() if value is not None}
        self.order: Sequence[str] | None = compiled.positiontup  # None for named paramstyles
        self.binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.binds[name] = processor
        columns = list(getattr(statement, "exported_columns", ()))
        self.row = namedtuple("Row", [c.key for c in columns]) if columns else None  # type: ignore[misc]
        self.results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.plain = not any(self.results)

    def parameters(self, given: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        values = {**self.defaults, **given} if self.defaults or self.binds else given
        for name, processor in self.binds.items():
            values[name] = processor(values[name])  # type: ignore[index]
        return values if self.order is None else [values[name] for name in self.order]

    def convert(self, raw: Sequence[Any]) -> Any:
        if self.plain:
            return self.row._make(raw)  # type: ignore[union-attr]
        return self.row._make(p(v) if p else v for p, v in zip(self.results, raw))  # type: ignore[union-attr]


class Direct:
    """A Core statement, compiled once per dialect and run on the raw DBAPI connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, conn: Connection) -> _Plan:
        name = conn.dialect.name
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plans[name] = _Plan(self.statement, conn.dialect)
        return plan

    def _execute(self, conn: Connection, plan: _Plan, params: Any, many: bool = False) -> Any:
        """A cursor on which the statement has run (after the queued writes); the caller closes it."""
        return _send(conn, [(plan, params, many)])[0]

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        plan = self._plan(conn)
        cursor = self._execute(conn, plan, params)
        try:
            return [plan.convert(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Executes a DML statement; returns the number of rows it matched."""
        cursor = self._execute(conn, self._plan(conn), params)
        count = cursor.rowcount
        cursor.close()
        return count

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        self._execute(conn, self._plan(conn), params, many=True).close()

    def queue(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """A write whose row count nobody reads: sent with the next round trip (PostgreSQL), or now."""
        self._queue(conn, params, False)

    def queue_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        self._queue(conn, params, True)

    def _queue(self, conn: Connection, params: Any, many: bool) -> None:
        if queues(conn):
            queue.add(conn, (self._plan(conn), params, many))
        else:
            self._execute(conn, self._plan(conn), params, many).close()


def together(conn: Connection, reads: Sequence[tuple[Direct, Mapping[str, Any]]]) -> list[list[Any]]:
    """The rows of each read, sent together with the queued writes: one round trip on PostgreSQL. Each
    statement sees what the ones before it did (a lock taken first holds for the reads after it)."""
    if not queues(conn):
        return [read.rows(conn, params) for read, params in reads]
    plans = [(read._plan(conn), params) for read, params in reads]
    cursors = _send(conn, [(plan, params, False) for plan, params in plans])
    try:
        return [[plan.convert(raw) for raw in cursor.fetchall()] for (plan, _), cursor in zip(plans, cursors)]
    finally:
        for cursor in cursors:
            cursor.close()


def _start(driver: Any, plan: _Plan, params: Any, many: bool) -> Any:
    if many:
        cursor = driver.cursor()
        try:
            cursor.executemany(plan.sql, [plan.parameters(p) for p in params])
        except BaseException:
            cursor.close()
            raise
        return cursor
    return driver.execute(plan.sql, plan.parameters(params))


def _send(conn: Connection, batch: list[tuple[_Plan, Any, bool]]) -> list[Any]:
    """Runs the queued writes, then ``batch``, in order: one round trip on PostgreSQL when there are several
    (pipeline mode). Returns the cursors of ``batch``, their results in hand."""
    queued = queue.taken(conn)
    work = queued + batch
    dbapi = conn.dialect.loaded_dbapi
    driver = conn.connection.dbapi_connection
    cursors: list[Any] = []
    try:
        if len(work) == 1:
            cursors.append(_start(driver, *work[0]))
        else:
            with driver.pipeline():  # type: ignore[union-attr]
                for plan, params, many in work:
                    cursors.append(_start(driver, plan, params, many))
    except dbapi.Error as error:
        for cursor in cursors:
            cursor.close()
        lost = conn.dialect.is_disconnect(error, driver, None)
        if lost:  # as SQLAlchemy does: neither this connection nor the pool's older ones are used again
            conn.invalidate(error)
            conn.engine.dispose(close=False)
        sql = "; ".join(plan.sql for plan, _, _ in work)
        raise DBAPIError.instance(sql, None, error, dbapi.Error, hide_parameters=True,
                                  connection_invalidated=lost, dialect=conn.dialect) from error
    for cursor in cursors[:len(queued)]:
        cursor.close()
    return cursors[len(queued):]
