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
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import Connection, Insert, Table, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]


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
        """A cursor on which the statement has run; the caller closes it."""
        dbapi = conn.dialect.loaded_dbapi
        driver = conn.connection.dbapi_connection
        try:
            if many:
                cursor = driver.cursor()  # type: ignore[union-attr]
                try:
                    cursor.executemany(plan.sql, [plan.parameters(p) for p in params])  # type: ignore[attr-defined]
                except BaseException:
                    cursor.close()
                    raise
                return cursor
            return driver.execute(plan.sql, plan.parameters(params))  # type: ignore[union-attr]
        except dbapi.Error as error:
            lost = conn.dialect.is_disconnect(error, driver, None)
            if lost:  # as SQLAlchemy does: neither this connection nor the pool's older ones are used again
                conn.invalidate(error)
                conn.engine.dispose(close=False)
            raise DBAPIError.instance(plan.sql, None, error, dbapi.Error, hide_parameters=True,
                                      connection_invalidated=lost, dialect=conn.dialect) from error

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
