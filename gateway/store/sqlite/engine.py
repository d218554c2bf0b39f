"""The SQLite engine: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for writes.

pysqlite's own transaction handling is switched off so that SQLAlchemy's "begin" event can issue
``BEGIN IMMEDIATE`` for writes: the write lock is taken at the start, so two writers never both read and
then fail to upgrade. Read-only units of work issue a plain deferred ``BEGIN``. Statement parameters are
hidden from error messages, so a logged traceback carries no request values.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL

READONLY = "copay_readonly"  # an execution option: the unit of work only reads (a deferred BEGIN)
SQLITE_BUSY_MS = 10_000
# A large history makes random-key inserts (ids, request log) miss SQLite's default 2 MiB page cache.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 1024**3


def make(url: URL, pool_size: int, synchronous: str, query_only: bool) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
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
