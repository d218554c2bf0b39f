"""The PostgreSQL engine: a pool of psycopg connections, each put back as it came."""

from __future__ import annotations

from typing import Callable

from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.store.direct import send_queue
from gateway.store.postgres import queue, round_trip

IDLE = TransactionStatus.IDLE
PSYCOPG_THRESHOLD = 5  # psycopg's prepare_threshold when none is given


def make(url: URL, pool_size: int) -> Engine:
    """Parameters are hidden from error messages, so a logged traceback carries no request values."""
    url, connect_args = _prepare_threshold(url)
    # No ping before each use (a round trip per transaction): a lost connection fails its one call
    # UNAVAILABLE (gateway.store.unit_of_work), and is dropped from the pool.
    return _configured(create_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True,
                                     connect_args=connect_args))


def make_on_loop(url: URL, pool_size: int) -> Engine:
    """The same with asynchronous psycopg connections, for units of work run on the event loop
    (gateway.store.postgres.loop): the engine returned is used as any other, from inside that runner only.

    Its connections are in autocommit for good: only units of work use them, and each sends its own BEGIN and
    COMMIT (gateway.store.postgres.transactions). So a unit of work does not switch the driver's mode twice,
    nor have SQLAlchemy ask the driver for a commit or a rollback that has nothing left to do: each of those
    is a wait on the loop, with a lock of the driver's, for no round trip (README, Benchmark). The pool's own
    rollback is off; ``_ended`` rolls back what a unit of work left open. Nothing else may use this engine:
    ``engine.begin()`` on it would commit each statement alone.

    Statements are prepared on the server by gateway.store.postgres.round_trip, as ``prepare_threshold``
    says, and not by psycopg, whose rollback would drop them all (``DEALLOCATE ALL``) along with its own."""
    url, connect_args = _prepare_threshold(url)
    threshold = connect_args.get("prepare_threshold", PSYCOPG_THRESHOLD)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True,
                                 connect_args={"prepare_threshold": None, "autocommit": True},
                                 pool_reset_on_return=None).sync_engine
    event.listen(engine, "connect", lambda _, record: record.info.__setitem__(round_trip.STATE,
                                                                              round_trip.State(threshold)))
    return _configured(engine, _ended)


def _configured(engine: Engine, reset: Callable[..., None] | None = None) -> Engine:
    # Writes queued for the next round trip go before any statement of SQLAlchemy's own: a SAVEPOINT, a
    # ROLLBACK TO SAVEPOINT (which then undoes them) or a query that must see them.
    event.listen(engine, "before_cursor_execute", lambda conn, *_: send_queue(conn))
    event.listen(engine.pool, "reset", reset or _as_it_came)
    event.listen(engine.pool, "checkin", lambda _, record: queue.drop(record.info))
    return engine


def _as_it_came(dbapi_connection, record, state) -> None:  # type: ignore[no-untyped-def]
    """A connection goes back to the pool with no transaction and the driver's autocommit off (a unit of work
    turns it on: gateway.store.postgres.transactions), whatever happened in the unit of work; what it left
    queued is dropped at checkin. In the pool's reset, not at checkin: a failure here has the connection
    invalidated, and a cancellation (a call cut twice, on the event loop) still gives the pool its slot back,
    which a cancelled checkin listener would not (tests/integration/test_cancelled_calls.py). Nothing is sent
    where SQLAlchemy says no I/O may happen (a connection garbage collected outside the event loop)."""
    if state.asyncio_safe and not state.terminate_only and dbapi_connection.autocommit:
        dbapi_connection.rollback()  # sends nothing when there is no transaction
        dbapi_connection.autocommit = False


def _ended(dbapi_connection, record, state) -> None:  # type: ignore[no-untyped-def]
    """A connection of the event loop's engine goes back to the pool with no transaction (a unit of work cut
    short leaves one), in autocommit still; nothing is sent when none is open, nor where SQLAlchemy says no I/O
    may happen. As ``_as_it_came``, in the pool's reset: a failure has the connection invalidated."""
    if state.asyncio_safe and not state.terminate_only and dbapi_connection.info.transaction_status != IDLE:
        dbapi_connection.rollback()


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
