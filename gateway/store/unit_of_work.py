"""One database transaction, with the repositories bound to it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from gateway.service.ports import Ahead, Conflict, StoreUnavailable
from gateway.store.bindings import SqlBindings
from gateway.store.clearing import SqlClearing
from gateway.store.control import CACHE, SqlControl
from gateway.store.ledger import SqlLedger
from gateway.store.members import SqlMembers
from gateway.store.postgres import ahead as postgres_ahead
from gateway.store.postgres import transactions
from gateway.store.postgres.queue import queues
from gateway.store.requests import SqlRequestLog
from gateway.store.settlements import SqlSettlements
from gateway.store.sqlite.engine import READONLY  # set on every read-only unit; SQLite alone acts on it
from gateway.store.traffic import SqlTraffic


class SqlUnitOfWork:
    """A transaction of its own: a pooled connection, BEGIN, COMMIT or ROLLBACK."""

    def __init__(self, engine: Engine, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly

    def __enter__(self) -> "SqlUnitOfWork":
        try:
            conn = self._engine.connect()
        except OperationalError as error:  # down, restarting, failing over, or refusing connections
            raise StoreUnavailable("the database cannot be reached; retry with the same request_id") from error
        if self._readonly:
            conn = conn.execution_options(**{READONLY: True})
        if queues(conn):  # PostgreSQL: BEGIN and COMMIT are the unit's own (gateway.store.postgres.transactions)
            self._tx = None
            try:
                transactions.begin(conn)
            except conn.dialect.loaded_dbapi.Error as error:
                raise StoreUnavailable("a connection to the database could not be used; retry with the same "
                                       "request_id") from error
        else:
            self._tx = conn.begin()
        self._bind(conn)
        return self

    def _bind(self, conn: Connection) -> None:
        self._conn = conn
        self._ahead: dict[tuple[Any, ...], Any] = {}  # answers read ahead, each taken by its first ask
        self.members = SqlMembers(conn, self._ahead)
        self.requests = SqlRequestLog(conn, self._ahead)
        self.bindings = SqlBindings(conn)
        self.control = SqlControl(conn)
        self.ledger = SqlLedger(conn, self._ahead)
        self.settlements = SqlSettlements(conn, self._ahead)
        self.clearing = SqlClearing(conn, self._ahead)
        self.traffic = SqlTraffic(conn)

    def read_ahead(self, ahead: Ahead) -> None:
        """Asks for all of ``ahead`` together: with the BEGIN, one round trip on PostgreSQL. On SQLite, in
        process, there is nothing to save: each ask reads when it comes."""
        if queues(self._conn):
            self._ahead.update(postgres_ahead.read_ahead(self._conn, ahead))

    def commit(self) -> None:
        if self._tx is not None:
            self._tx.commit()
        else:  # a transaction SQLAlchemy began for a statement of its own ends at close, with nothing to send
            transactions.commit(self._conn)
        self._committed()

    def savepoint(self):  # type: ignore[no-untyped-def]
        """A context in which a failure rolls back only what was done in it (a bulk import's row)."""
        return self._conn.begin_nested()

    def _committed(self) -> None:
        if self.control.changed:  # this process sees its own change at once; the others within a second
            CACHE.forget()

    def _end(self) -> None:
        """Rolls back what was not committed and gives the connection back."""
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()  # on PostgreSQL, SQLAlchemy's or the pool's reset rolls back what is left open

    @property
    def locks_rows(self) -> bool:
        """Whether SELECT ... FOR UPDATE means anything (PostgreSQL); SQLite serialises writers instead."""
        return self._conn.dialect.name != "sqlite"

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        try:
            self._end()
        except DBAPIError as lost:  # the connection died before the rollback
            if exc is not None and not isinstance(exc, Exception):
                return  # a cancellation (or exit) goes on as it came; the connection is invalidated or given back
            if not lost.connection_invalidated:
                raise
            exc = lost
        if _is_race(exc) or _is_lock_conflict(exc):
            raise Conflict(str(exc.orig) if hasattr(exc, "orig") else str(exc)) from exc
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            # The database went away (a restart, a failover, a proxy's timeout). If the loss came at COMMIT the
            # transaction may have committed; either way a retry with the same request_id gets the one answer.
            # Connections are not pinged before use (a round trip for every transaction): the first call on a
            # dead one is answered UNAVAILABLE, and the pool is renewed.
            raise StoreUnavailable("the connection to the database was lost; retry with the same request_id") \
                from exc


def _is_race(exc: BaseException | None) -> bool:
    """A unique key or a CHECK (a balance) that a concurrent transaction got to first: retrying reads the
    new state. Any other integrity error (NOT NULL, a foreign key) is a defect, not a race."""
    if not isinstance(exc, IntegrityError):
        return False
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("23505", "23514") or str(exc.orig).startswith(("UNIQUE constraint failed",
                                                                     "CHECK constraint failed"))


def _is_lock_conflict(exc: BaseException | None) -> bool:
    """SQLite 'database is locked' past the busy timeout; PostgreSQL deadlock or serialization failure."""
    if not isinstance(exc, OperationalError):
        return False
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(exc.orig)


def factory(engine: Engine):  # type: ignore[no-untyped-def]
    """The UnitOfWorkFactory for ``engine``."""
    return lambda readonly=False: SqlUnitOfWork(engine, readonly)
