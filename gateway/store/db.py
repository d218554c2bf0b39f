"""Engines for SQLite (WAL, busy timeout, BEGIN IMMEDIATE) and PostgreSQL.

pysqlite's own transaction handling is switched off so that SQLAlchemy's
"begin" event can issue ``BEGIN IMMEDIATE`` for writes: the write lock is taken
at the start, so two writers never both read and then fail to upgrade.
Read-only units of work issue a plain deferred ``BEGIN``. Statement parameters
are hidden from error messages, so a logged traceback carries no request values.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from gateway.store.direct import QUEUE, send_queue

READONLY = "copay_readonly"
SQLITE_BUSY_MS = 10_000
# A large history makes random-key inserts (ids, request log) miss SQLite's default 2 MiB page cache.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 1024**3


def make_engine(url: str, pool_size: int = 8, synchronous: str = "FULL", query_only: bool = False) -> Engine:
    """``synchronous`` (SQLite): FULL syncs the write-ahead log at each commit, so an acknowledged commit
    survives a power cut; NORMAL does not (see Settings.sqlite_synchronous). ``query_only`` (SQLite): the
    connections refuse to write (the server's readers beside the writer process)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        parsed, connect_args = _prepare_threshold(parsed)
        # No ping before each use (a round trip per transaction): a lost connection fails its one call
        # UNAVAILABLE (gateway.store.unit_of_work), and is dropped from the pool.
        engine = create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True,
                               connect_args=connect_args)
        # Writes queued for the next round trip (gateway.store.direct) go before any statement of SQLAlchemy's
        # own: a SAVEPOINT, a ROLLBACK TO SAVEPOINT (which then undoes them) or a query that must see them.
        event.listen(engine, "before_cursor_execute", lambda conn, *_: send_queue(conn))
        event.listen(engine.pool, "checkin", _as_it_came)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000},
                           pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"busy_timeout={SQLITE_BUSY_MS}", f"synchronous={synchronous}",
                       "foreign_keys=ON", f"cache_size=-{SQLITE_CACHE_KIB}", f"mmap_size={SQLITE_MMAP_BYTES}",
                       *(["query_only=ON"] if query_only else [])):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Straight on the driver: exec_driver_sql's machinery costs more than the BEGIN itself.
        conn.connection.dbapi_connection.execute(
            "BEGIN" if conn.get_execution_options().get(READONLY) else "BEGIN IMMEDIATE")

    return engine


def _as_it_came(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    """A connection goes back to the pool with nothing queued, no transaction, and the driver's autocommit off
    (a unit of work turns it on: gateway.store.unit_of_work), whatever happened in the unit of work."""
    record.info.pop(QUEUE, None)
    if dbapi_connection is not None and dbapi_connection.autocommit:
        try:
            dbapi_connection.rollback()  # sends nothing when there is no transaction
            dbapi_connection.autocommit = False
        except Exception:  # noqa: BLE001 - a dead connection: the pool replaces it when it is next used
            record.invalidate()


def _prepare_threshold(url: URL) -> tuple[URL, dict[str, int | None]]:
    """``?prepare_threshold=N`` in a PostgreSQL URL: psycopg prepares a statement on the server once a
    connection has run it N times (its default 5); ``none`` never (a PgBouncer older than 1.21, or one with
    ``max_prepared_statements = 0``, in transaction pooling). psycopg would take the text as it is."""
    if "prepare_threshold" not in url.query:
        return url, {}
    raw = url.query["prepare_threshold"]
    value = raw if isinstance(raw, str) else raw[-1]
    if value.lower() in ("none", "off", ""):
        threshold = None
    elif value.isdigit():
        threshold = int(value)
    else:
        raise ValueError(f"prepare_threshold={value!r} in the database URL: a whole number, or none")
    return url.difference_update_query(["prepare_threshold"]), {"prepare_threshold": threshold}


class SqliteFileLock:
    """Held by the one gateway that serves a SQLite file: a second one refuses to start.

    An advisory lock (``flock``) on ``{database}.lock``: the kernel releases it when the holder
    exits, however it exits, so a killed gateway never leaves a stale lock behind."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        self.path = Path(f"{database}.lock") if database and database != ":memory:" else None
        self._file = None

    def acquire(self) -> bool:
        if self.path is None:
            return True
        self._file = self.path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            return False
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
