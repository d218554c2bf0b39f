"""Writes whose answer nobody reads wait in the connection's queue (``Connection.info``) and go with the next
thing that needs an answer, in one round trip (gateway.store.direct sends them; the engine sends them before
any statement of SQLAlchemy's own, and drops what is left when the connection goes back to the pool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

QUEUE = "copay_queued_writes"  # in Connection.info: [(plan, parameters, many)] not sent yet


def queues(conn: Connection) -> bool:
    """Whether writes wait for the next round trip on this connection (PostgreSQL), or run at once."""
    return conn.dialect.name == "postgresql"


def add(conn: Connection, item: tuple[Any, Any, bool]) -> None:
    conn.info.setdefault(QUEUE, []).append(item)


def taken(conn: Connection) -> list[tuple[Any, Any, bool]]:
    """What is queued, now the caller's to send."""
    return conn.info.pop(QUEUE, None) or []


def pending(conn: Connection) -> bool:
    return bool(conn.info.get(QUEUE))


def drop(info: dict[str, Any]) -> None:
    """Forgets what is queued (a connection going back to the pool: its ``ConnectionPoolEntry.info``)."""
    info.pop(QUEUE, None)
