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
COMMIT too), all in one round trip (pipeline mode: gateway.store.postgres.round_trip on
the event loop, psycopg's in threads). Reads known in
advance go together too (``together``). On the way, queued writes that may go
as one statement do (one ``WITH``), and so do reads asked together (one ``UNION
ALL``): the driver's cost is per statement (gateway.store.postgres.combine).
A queued write's error (a unique key, a CHECK) is raised where the queue is
sent, as the same SQLAlchemy exception, so the unit of work fails as it would
have; what is still queued when the connection goes back to the pool is dropped
(gateway.store.postgres.engine). On SQLite, in process, ``queue`` runs at once.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, Mapping, Sequence

from psycopg import RawCursor
from sqlalchemy import Connection, Delete, Insert, Select, Table, Update, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import CompileError, DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.util import find_tables
from sqlalchemy.util import await_only

from gateway.store.postgres import combine, placeholders, queue, round_trip
from gateway.store.postgres.queue import queues

Processor = Callable[[Any], Any]
Statement = tuple[Any, Any, bool]  # a _Plan or a combine.Combined (its .sql, .raw), its values, many or not
Sent = tuple[str | bytes, Any, bool]  # the same as the driver takes it: a text (bytes: in $n), values, many


def send_queue(conn: Connection) -> None:
    """Sends the queued writes now, in one round trip (before a statement that does not go through Direct)."""
    if queue.pending(conn):
        _send(conn, [])


def insert(table: Table, *generated: str) -> Insert:
    """``INSERT`` naming every column but the ``generated`` ones, each bound by its own name."""
    return table.insert().values({c.key: bindparam(c.key) for c in table.columns if c.key not in generated})


class _Plan:
    """One statement compiled for one dialect."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, alone: bool = False) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.has_out_parameters or any(b.expanding for b in compiled.binds.values()):
            raise ValueError("Direct runs fixed-shape statements only")
        self.sql = str(compiled)
        postgres = dialect.name == "postgresql"
        self.raw = placeholders.convert(self.sql) if postgres else None
        self.defaults = {name: value for name, value in compiled.params.items() if value is not None}
        # The values in order: of the $n on PostgreSQL, else of the dialect's own positional style (None: named)
        self.order: Sequence[str] | None = self.raw.names if self.raw is not None else compiled.positiontup
        self._dbapi = dialect.dbapi or type(dialect).import_dbapi()
        self.binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.binds[name] = processor
        columns = list(getattr(statement, "exported_columns", ()))
        self.row = namedtuple("Row", [c.key for c in columns]) if columns else None  # type: ignore[misc]
        self.results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.plain = not any(self.results)
        self.shape = _shape(statement, dialect, self.sql, alone, columns, self.raw) if postgres else None

    def parameters(self, given: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """The values as the driver takes them: in ``order`` (a missing one is the driver's error, as it
        says it), or by name."""
        try:
            values = {**self.defaults, **given} if self.defaults or self.binds else given
            for name, processor in self.binds.items():
                values[name] = processor(values[name])  # type: ignore[index]
            return values if self.order is None else [values[name] for name in self.order]
        except KeyError as missing:
            error = self._dbapi.ProgrammingError(f"query parameter missing: {missing.args[0]}")
            raise DBAPIError.instance(self.sql, None, error, self._dbapi.Error, hide_parameters=True) from None

    def convert(self, raw: Sequence[Any]) -> Any:
        if self.plain:
            return self.row._make(raw)  # type: ignore[union-attr]
        return self.row._make(p(v) if p else v for p, v in zip(self.results, raw))  # type: ignore[union-attr]


def _shape(statement: ClauseElement, dialect: Dialect, sql: str, alone: bool, columns: list[Any],
           raw: placeholders.Raw | None) -> combine.Shape:
    writes = (statement.table.name, isinstance(statement, Insert)) \
        if _plain_write(statement) else None  # type: ignore[attr-defined]
    alone = alone or not isinstance(statement, Select)
    locks = not alone and statement._for_update_arg is not None  # type: ignore[attr-defined]
    try:
        types = [] if alone else [c.type.compile(dialect=dialect) for c in columns]
    except CompileError:  # a column of no SQL type (a function's void): the read goes as it is
        alone, types = True, []
    return combine.Shape(sql, writes, alone, types, locks, raw)


def _plain_write(statement: ClauseElement) -> bool:
    """An INSERT of values (no SELECT, no ON CONFLICT), or an UPDATE or DELETE reading no other table."""
    if isinstance(statement, Insert):
        return statement.select is None and getattr(statement, "_post_values_clause", None) is None
    if isinstance(statement, (Update, Delete)):
        return {t.name for t in find_tables(statement, include_crud=True)} == {statement.table.name}
    return False


class Direct:
    """A Core statement, compiled once per dialect and run on the raw DBAPI connection. ``alone``: a read
    that takes a lock other than ``FOR UPDATE`` (gateway.store.postgres.combine)."""

    def __init__(self, statement: ClauseElement, alone: bool = False) -> None:
        self.statement = statement
        self._alone = alone
        self._plans: dict[str, _Plan] = {}

    def _plan(self, conn: Connection) -> _Plan:
        name = conn.dialect.name
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plans[name] = _Plan(self.statement, conn.dialect, self._alone)
        return plan

    def _execute(self, conn: Connection, plan: _Plan, params: Any, many: bool = False) -> Answer:
        """Runs the statement (after the queued writes)."""
        values = [plan.parameters(p) for p in params] if many else plan.parameters(params)
        return _send(conn, [(plan, values, many)])[0]

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        plan = self._plan(conn)
        return [plan.convert(raw) for raw in self._execute(conn, plan, params).rows]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Executes a DML statement; returns the number of rows it matched."""
        return self._execute(conn, self._plan(conn), params).count

    def run_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        self._execute(conn, self._plan(conn), params, many=True)

    def queue(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """A write whose row count nobody reads: sent with the next round trip (PostgreSQL), or now."""
        self._queue(conn, params, False)

    def queue_many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        self._queue(conn, params, True)

    def _queue(self, conn: Connection, params: Any, many: bool) -> None:
        if queues(conn):
            queue.add(conn, (self._plan(conn), params, many))
        else:
            self._execute(conn, self._plan(conn), params, many)


def together(conn: Connection, reads: Sequence[tuple[Direct, Mapping[str, Any]]]) -> list[list[Any]]:
    """The rows of each read, sent together with the queued writes: one round trip on PostgreSQL, where
    reads that take no lock also go as one statement (gateway.store.postgres.combine). Each read sees what
    the ones before it did (a lock taken first holds for the reads after it, which see what committed
    while it waited)."""
    if not queues(conn):
        return [read.rows(conn, params) for read, params in reads]
    plans = [read._plan(conn) for read, _ in reads]
    values = [plan.parameters(params) for plan, (_, params) in zip(plans, reads)]
    groups = combine.read_groups([plan.shape for plan in plans])  # type: ignore[misc]
    batch: list[Statement] = []
    for group in groups:
        if len(group) == 1:
            batch.append((plans[group[0]], values[group[0]], False))
        else:
            combined = combine.reads([plans[i].shape for i in group])  # type: ignore[misc]
            batch.append((combined, combine.Combined.parameters([values[i] for i in group]), False))
    answers: list[list[Any]] = []
    for group, answer in zip(groups, _send(conn, batch)):
        if len(group) == 1:
            answers.append([plans[group[0]].convert(raw) for raw in answer.rows])
        else:
            answers += combine.split(answer.rows, [plans[i].shape for i in group],  # type: ignore[misc]
                                     [plans[i].convert for i in group])
    return answers


Answer = round_trip.Answer


def _answer(cursor: Any) -> Answer:
    return Answer(cursor.fetchall() if cursor.description is not None else [], cursor.rowcount)


def _run(driver: Any, work: list[Sent]) -> list[Answer]:
    """On a blocking connection (SQLite; PostgreSQL in threads); on PostgreSQL several statements go in
    psycopg's pipeline (SQLite gets one at a time)."""
    cursors: list[Any] = []
    try:
        if len(work) == 1:
            cursors.append(_start(driver, *work[0]))
        else:
            with driver.pipeline():
                for sql, values, many in work:
                    cursors.append(_start(driver, sql, values, many))
        return [_answer(cursor) for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _start(driver: Any, sql: str | bytes, values: Any, many: bool) -> Any:
    cursor = RawCursor(driver) if isinstance(sql, bytes) else driver.cursor()
    try:
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
    except BaseException:
        cursor.close()
        raise
    return cursor


def _for_driver(work: list[Statement]) -> list[Sent]:
    """Each statement as the driver takes it: on PostgreSQL in ``$n`` placeholders, where its text converts
    (gateway.store.postgres.placeholders: its values are in their order already); else its text as it is."""
    return [(source.sql if source.raw is None else source.raw.sql, values, many) for source, values, many in work]


def _queued(conn: Connection) -> list[Statement]:
    """The queued writes, as statements to send: on PostgreSQL each group that may go as one statement
    does (gateway.store.postgres.combine)."""
    items = queue.taken(conn)
    if not items:
        return []
    singles = [(plan, values) for plan, params, many in items for values in (params if many else [params])]
    statements: list[Statement] = []
    for group in combine.write_groups([(plan.shape, (plan, values)) for plan, values in singles]):
        if len(group) == 1:
            plan, values = group[0][1]
            statements.append((plan, plan.parameters(values), False))
        else:
            combined = combine.writes(group)
            statements.append((combined, combine.Combined.parameters(
                [plan.parameters(values) for _, (plan, values) in group]), False))
    return statements


def _send(conn: Connection, batch: list[Statement]) -> list[Answer]:
    """Runs the queued writes, then ``batch`` (statements with their driver's parameters), in order: one
    round trip on PostgreSQL when there are several (pipeline mode). Returns the answers of ``batch``."""
    queued = _queued(conn)
    work = queued + batch
    dbapi = conn.dialect.loaded_dbapi
    driver = conn.connection.driver_connection
    try:
        sent = _for_driver(work)
        answers = await_only(round_trip.run(driver, conn.info[round_trip.STATE], sent)) if conn.dialect.is_async else \
            _run(driver, sent)
    except dbapi.Error as error:
        lost = conn.dialect.is_disconnect(error, driver, None)
        if lost:  # as SQLAlchemy does: neither this connection nor the pool's older ones are used again
            conn.invalidate(error)
            conn.engine.dispose(close=False)
        sql = "; ".join(source.sql for source, _, _ in work)
        raise DBAPIError.instance(sql, None, error, dbapi.Error, hide_parameters=True,
                                  connection_invalidated=lost, dialect=conn.dialect) from error
    return answers[len(queued):]
