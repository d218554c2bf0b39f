"""Engines for SQLite (WAL, busy timeout, BEGIN IMMEDIATE) and PostgreSQL.

pysqlite's own transaction handling is switched off so that SQLAlchemy's
"begin" event can issue ``BEGIN IMMEDIATE`` for writes: the write lock is taken
at the start, so two writers never both read and then fail to upgrade.
Read-only units of work issue a plain deferred ``BEGIN``. Statement parameters
are hidden from error messages, so a logged traceback carries no request values.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

READONLY = "copay_readonly"
SQLITE_BUSY_MS = 10_000
# A large history makes random-key inserts (ids, request log) miss SQLite's default 2 MiB page cache.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 1024**3


def make_engine(url: str, pool_size: int = 8) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                             hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000},
                           pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"busy_timeout={SQLITE_BUSY_MS}", "synchronous=NORMAL",
                       "foreign_keys=ON", f"cache_size=-{SQLITE_CACHE_KIB}", f"mmap_size={SQLITE_MMAP_BYTES}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Straight on the driver: exec_driver_sql's machinery costs more than the BEGIN itself.
        conn.connection.dbapi_connection.execute(
            "BEGIN" if conn.get_execution_options().get(READONLY) else "BEGIN IMMEDIATE")

    return engine
