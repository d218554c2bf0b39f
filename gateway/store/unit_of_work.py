"""One database transaction, with the repositories bound to it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, text, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from gateway.service.ports import Ahead, Conflict, PriorAnswer, StoreUnavailable
from gateway.store.clearing import SqlClearing, entering
from gateway.store.bindings import SqlBindings
from gateway.store.control import CACHE, SqlControl
from gateway.store.db import READONLY
from gateway.store.direct import Direct, insert, queues, send_queue, together
from gateway.store.ledger import SqlLedger
from gateway.store.members import BY_NAME, SqlMembers
from gateway.store.settlements import ACTIVE_BINDINGS, NEXT_NUMBER, SqlSettlements
from gateway.store.tables import request_log
from gateway.store.traffic import SqlTraffic


BEGIN, COMMIT = Direct(text("BEGIN")), Direct(text("COMMIT"))
FIND_REQUEST = Direct(select(request_log.c.fingerprint, request_log.c.response, request_log.c.refused).where(
    request_log.c.caller == bindparam("caller"), request_log.c.request_id == bindparam("request_id")))
ADD_REQUEST = Direct(insert(request_log))


class SqlRequestLog:
    def __init__(self, conn: Connection, ahead: dict[tuple[Any, ...], Any] | None = None) -> None:
        self._conn = conn
        self._ahead = {} if ahead is None else ahead

    def find(self, caller: str, request_id: str) -> PriorAnswer | None:
        rows = self._ahead.pop(("request", caller, request_id), None)
        row = (rows[0] if rows else None) if rows is not None else FIND_REQUEST.first(
            self._conn, {"caller": caller, "request_id": request_id})
        return PriorAnswer(row.fingerprint, bytes(row.response), bool(row.refused)) if row else None

    def add(self, caller: str, request_id: str, answer: PriorAnswer) -> None:
        """Sent with the COMMIT; a copy of the request stored meanwhile fails it on the unique key (a Conflict)."""
        ADD_REQUEST.queue(self._conn, {"caller": caller, "request_id": request_id, "fingerprint": answer.fingerprint,
                                     "response": answer.response, "refused": answer.refused,
                                     "created_at": datetime.now(timezone.utc)})

    def prune(self, before: datetime, limit: int) -> int:
        """Forgets up to ``limit`` of the oldest requests stored before ``before``; returns how many."""
        oldest = select(request_log.c.caller, request_log.c.request_id).where(
            request_log.c.created_at < before).order_by(request_log.c.created_at).limit(limit)
        return self._conn.execute(request_log.delete().where(
            tuple_(request_log.c.caller, request_log.c.request_id).in_(oldest))).rowcount


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
        self._tx = conn.begin()
        if queues(conn):
            # psycopg would send BEGIN on its own and wait for it (in pipeline mode too); this one goes with the
            # first statement, and COMMIT with the last writes. Back in the pool the connection is as it was
            # (gateway.store.db).
            try:
                conn.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            except Exception:
                conn.close()
                raise
            BEGIN.queue(conn, {})
        self._bind(conn)
        return self

    def _bind(self, conn: Connection) -> None:
        self._conn = conn
        self._ahead: dict[tuple[Any, ...], Any] = {}  # answers read ahead, each taken by its first ask
        self.members = SqlMembers(conn, self._ahead)
        self.requests = SqlRequestLog(conn, self._ahead)
        self.bindings = SqlBindings(conn)
        self.control = SqlControl(conn)
        self.ledger = SqlLedger(conn)
        self.settlements = SqlSettlements(conn, self._ahead)
        self.clearing = SqlClearing(conn, self._ahead)
        self.traffic = SqlTraffic(conn)

    def read_ahead(self, ahead: Ahead) -> None:
        """Asks for all of ``ahead`` together: with the BEGIN, one round trip on PostgreSQL. On SQLite, in
        process, there is nothing to save: each ask reads when it comes."""
        if not queues(self._conn):
            return
        asks: list[tuple[tuple[Any, ...], list[tuple[Direct, dict[str, Any]]]]] = []  # an answer is its last read's
        if ahead.request:
            caller, request_id = ahead.request
            asks.append((("request", caller, request_id), [(FIND_REQUEST, {"caller": caller,
                                                                           "request_id": request_id})]))
        if member := ahead.member:
            asks.append((("member", member.region, member.psn_no),
                         [(BY_NAME, {"region": member.region, "psn_no": member.psn_no})]))
        if beneficiary := ahead.bindings:
            asks.append((("bindings", beneficiary.region, beneficiary.psn_no),
                         [(ACTIVE_BINDINGS, {"region": beneficiary.region, "psn_no": beneficiary.psn_no})]))
        if ahead.window:
            asks.append((("window", ahead.window), entering(self._conn, ahead.window)))
        if ahead.settlement:
            asks.append((("settlement",), [(NEXT_NUMBER, {})]))
        answers = iter(together(self._conn, [read for _, reads in asks for read in reads]))
        for key, reads in asks:
            rows = [next(answers) for _ in reads][-1]
            self._ahead[key] = rows[0].seq if key == ("settlement",) else rows

    def commit(self) -> None:
        if queues(self._conn):
            COMMIT.queue(self._conn, {})
            send_queue(self._conn)  # the queued writes and the COMMIT: one round trip
        self._tx.commit()  # on PostgreSQL, the transaction has ended already: the driver sends nothing
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
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()

    @property
    def locks_rows(self) -> bool:
        """Whether SELECT ... FOR UPDATE means anything (PostgreSQL); SQLite serialises writers instead."""
        return self._conn.dialect.name != "sqlite"

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        try:
            self._end()
        except DBAPIError as lost:  # the connection died before the rollback
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
