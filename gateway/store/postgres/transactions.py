"""A unit of work's transaction on PostgreSQL, with no round trip of its own.

psycopg would send BEGIN alone and wait for it (in pipeline mode too). Inside a unit of work the driver is
in autocommit and the unit queues its own ``BEGIN``, which goes with the first statement, and ``COMMIT``,
which goes with the last writes. SQLAlchemy is not told of the transaction (gateway.store.unit_of_work): it
would ask the driver for a commit with nothing to do. Back in the pool the connection is as it was
(gateway.store.postgres.engine)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from gateway.store.direct import Direct, send_queue

# READ COMMITTED whatever the server's default: a statement after a lock must see what committed while it waited
# (gateway.store.postgres.combine; the clearing window's check after its lock).
BEGIN, COMMIT = Direct(text("BEGIN ISOLATION LEVEL READ COMMITTED")), Direct(text("COMMIT"))


def begin(conn: Connection) -> None:
    """The driver in autocommit (the event loop's connections are already), and BEGIN queued. If the switch
    fails (a connection found closed) the connection is not used again: it is invalidated, given back, and the
    driver's error raised."""
    dbapi = conn.connection.dbapi_connection
    if not dbapi.autocommit:  # type: ignore[union-attr]
        try:
            dbapi.autocommit = True  # type: ignore[union-attr]
        except Exception:
            conn.invalidate()
            conn.close()
            raise
    BEGIN.queue(conn, {})


def commit(conn: Connection) -> None:
    """The queued writes and the COMMIT: one round trip."""
    COMMIT.queue(conn, {})
    send_queue(conn)
