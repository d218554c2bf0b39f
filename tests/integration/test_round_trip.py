"""A unit of work's statements on the event loop's connections (gateway.store.postgres.round_trip), against a
real PostgreSQL: one write to the socket a round trip, answers in order as psycopg gives them, statements
prepared as psycopg prepares its own and within its bounds, errors raised as psycopg's, nothing run after one."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Any, Awaitable, Callable

import psycopg
import pytest
from sqlalchemy import Integer, literal, make_url, select
from sqlalchemy.util import await_only, greenlet_spawn

from gateway.store.db import make_loop_engine
from gateway.store.direct import Direct
from gateway.store.postgres import round_trip
from tests.integration.on_loop import until

Work = list[tuple[Any, Any, bool]]


def data_segments_sent(conn: psycopg.AsyncConnection) -> int:
    """TCP segments with data the connection's socket has sent (Linux's ``tcp_info.tcpi_data_segs_out``)."""
    with socket.socket(fileno=conn.fileno()) as sock:
        try:
            return struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), 156)[0]
        finally:
            sock.detach()


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def on_a_connection(fresh_postgres: Callable[[], str],
                    body: Callable[[psycopg.AsyncConnection, round_trip.State], Awaitable[Any]],
                    threshold: int | None = 5, run: Callable[[Awaitable[Any]], Any] = asyncio.run) -> Any:
    """``body(connection, its round trips' state)`` on a new connection as the event loop's engine makes them
    (autocommit, psycopg preparing nothing) to a new database, with a table ``t (k int primary key, v text)``;
    ``run``: on which loop (the standard library's unless a test asks for each: the ``run_on_loop`` fixture)."""
    url = libpq_url(fresh_postgres())

    async def main() -> Any:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, prepare_threshold=None)
        try:
            await conn.execute("CREATE TABLE t (k int PRIMARY KEY, v text)")
            return await body(conn, round_trip.State(threshold))
        finally:
            await conn.close()

    return run(main())


async def prepared_names(conn: psycopg.AsyncConnection) -> list[str]:
    cursor = await conn.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
    return [name for name, in await cursor.fetchall() if name.startswith("_copay_")]


LATER = b"SELECT * FROM later WHERE k = $1"
INSERT = b"INSERT INTO t (k, v) VALUES ($1, $2)"
READ = b"SELECT k, v, now() > '2000-01-01' FROM t WHERE k <= $1 ORDER BY k"


def test_a_round_trip_is_one_write_and_its_answers_come_in_order(fresh_postgres: Callable[[], str],
                                                                run_on_loop: Any) -> None:
    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        work: Work = [(b"BEGIN", [], False), (INSERT, [1, "one"], False), (INSERT, [[2, None], [3, "三"]], True),
                      (READ, [2], False), (b"UPDATE t SET v = 'x' WHERE k > $1", [0], False), (b"COMMIT", [], False)]
        before = data_segments_sent(conn)
        answers = await round_trip.run(conn, state, work)
        assert data_segments_sent(conn) - before == 1  # every statement and the Sync in one write
        assert [a.rows for a in answers] == [[], [], [], [(1, "one", True), (2, None, True)], [], []]
        assert [a.count for a in answers] == [-1, 1, 2, 2, 3, -1]
        assert state.tx is not None and state.tx.pgresult is None  # the rows are not kept with the connection
        assert conn.pgconn.pipeline_status == 0 and conn.info.transaction_status == 0  # out of the pipeline, idle
        cursor = await conn.execute("SELECT k, v FROM t ORDER BY k")
        assert await cursor.fetchall() == [(1, "x"), (2, "x"), (3, "x")]

    on_a_connection(fresh_postgres, body, run=run_on_loop)


def test_statements_are_prepared_as_psycopg_prepares_its_own(fresh_postgres: Callable[[], str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``threshold`` runs, at most ``MOST`` at once (the least recently used closed), under names of
    their own; not at all when the threshold is None (an older PgBouncer in transaction pooling)."""
    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> list[list[str]]:
        seen = []
        for k in range(4):
            await round_trip.run(conn, state, [(READ, [k], False), (b"SELECT $1::int", [k], False)])
            seen.append(await prepared_names(conn))
        answers = await round_trip.run(conn, state, [(b"SELECT $1::int", [7], False), (READ, [0], False)])
        assert [a.rows for a in answers] == [[(7,)], []]  # run prepared, the READ used last
        assert [a.rows for a in await round_trip.run(conn, state, [(b"SELECT 1", [], False)] * 4)] == [[(1,)]] * 4
        # the one used longest ago made room
        seen.append(await prepared_names(conn))
        return seen

    monkeypatch.setattr(round_trip, "MOST", 2)
    assert on_a_connection(fresh_postgres, body, 2) == \
        [[], [], ["_copay_0", "_copay_1"], ["_copay_0", "_copay_1"], ["_copay_0", "_copay_2"]]  # _copay_1 closed
    assert on_a_connection(fresh_postgres, body, None) == [[]] * 5
    monkeypatch.setattr(round_trip, "MOST", 1)
    assert on_a_connection(fresh_postgres, body, 0) == [["_copay_1"], ["_copay_2"], ["_copay_3"], ["_copay_4"],
                                                       ["_copay_6"]]  # each pushes the one before out


def test_an_error_is_psycopgs_and_nothing_after_it_runs(fresh_postgres: Callable[[], str]) -> None:
    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        await round_trip.run(conn, state, [(INSERT, [1, "one"], False)])
        with pytest.raises(psycopg.errors.UniqueViolation):
            await round_trip.run(conn, state, [(b"BEGIN", [], False), (INSERT, [2, "two"], False),
                                              (INSERT, [1, "again"], False), (INSERT, [3, "three"], False)])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        await conn.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):  # a Parse that fails: not counted as prepared
            await round_trip.run(conn, state, [(LATER, [1], False), (INSERT, [4, "four"], False)])
        assert await prepared_names(conn) == ["_copay_0", "_copay_1"]  # the INSERT's and BEGIN's, not _copay_2
        await conn.execute("CREATE TABLE later (k int)")
        assert (await round_trip.run(conn, state, [(LATER, [1], False)]))[0].count == 0  # prepared now
        await round_trip.run(conn, state, [(b"SELECT $1::text", ["ok"], False)])
        assert await prepared_names(conn) == ["_copay_0", "_copay_1", "_copay_3", "_copay_4"]  # none given twice
        assert [a.rows for a in await round_trip.run(conn, state, [(READ, [9], False)])][0][0][:2] == (1, "one")
        with pytest.raises(psycopg.ProgrammingError, match="placeholders"):  # a text that did not convert
            await round_trip.run(conn, state, [("SELECT %(k)s", {"k": 1}, False)])
        assert conn.pgconn.pipeline_status == 0

    on_a_connection(fresh_postgres, body, 0)


def test_statements_the_server_forgot_are_prepared_again(fresh_postgres: Callable[[], str]) -> None:
    """A ``DEALLOCATE ALL`` from elsewhere: the next round trip that uses one fails, the one after prepares again."""
    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        await round_trip.run(conn, state, [(READ, [1], False)])
        assert await prepared_names(conn) == ["_copay_0"]
        await conn.execute("DEALLOCATE ALL")
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            await round_trip.run(conn, state, [(READ, [1], False)])
        assert (await round_trip.run(conn, state, [(READ, [1], False)]))[0].rows == []
        assert await prepared_names(conn) == ["_copay_1"]

    on_a_connection(fresh_postgres, body, 0)


def test_psycopgs_rollback_on_the_loops_engine_keeps_what_was_prepared(fresh_postgres: Callable[[], str]) -> None:
    """psycopg, were it to prepare statements on the loop's connections, would drop every prepared statement
    (``DEALLOCATE ALL``) at its rollback, as a unit of work cut short ends (gateway.store.postgres.engine)."""
    engine = make_loop_engine(fresh_postgres(), 1)
    one = Direct(select(literal(1, Integer).label("one")))

    def body() -> None:
        for _ in range(3):
            with engine.connect() as conn:
                for _ in range(8):
                    assert one.first(conn, {}).one == 1
                    conn.exec_driver_sql("SELECT 2")  # psycopg's own, more often than its threshold
                driver = conn.connection.driver_connection
                assert driver.prepare_threshold is None
                conn.exec_driver_sql("BEGIN")
                await_only(driver.rollback())
                names = conn.exec_driver_sql("SELECT name FROM pg_prepared_statements").scalars().all()
                assert names == ["_copay_0"]  # one's, after its fifth run

    async def main() -> None:
        try:
            await greenlet_spawn(body)
        finally:
            await greenlet_spawn(engine.dispose)

    asyncio.run(main())


def test_a_round_trip_cut_while_it_sends_is_cancelled_and_the_connection_kept(fresh_postgres: Callable[[], str],
                                                                            run_on_loop: Any,
                                                                            postgres_server: str) -> None:
    """Cut while its statements are still being written (the server asleep in the first, the rest larger than
    the sockets' buffers): the server's statement is cancelled, the rest sent and answered, the connection
    still usable, outside the pipeline, its transaction failed; what it prepared is as the server says."""
    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        work: Work = [(b"BEGIN", [], False), (b"SELECT pg_sleep(60)", [], False),
                      (INSERT, [1, "x" * 32_000_000], False)]
        call = asyncio.ensure_future(round_trip.run(conn, state, work))
        watcher = await psycopg.AsyncConnection.connect(libpq_url(postgres_server), autocommit=True)

        async def asleep() -> bool:
            found = await watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND "
                                          "wait_event = 'PgSleep'", (conn.info.backend_pid,))
            return await found.fetchone() == (1,)

        try:
            await until(asleep, "the round trip never reached its sleep")
        finally:
            await watcher.close()
        assert not call.done()  # still writing: the server reads nothing while it sleeps
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not conn.closed and conn.pgconn.pipeline_status == 0
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        await conn.rollback()
        assert await prepared_names(conn) == ["_copay_0", "_copay_1"]  # BEGIN's and the sleep's; the INSERT's aborted
        assert (await round_trip.run(conn, state, [(INSERT, [1, "y"], False)]))[0].count == 1  # prepared again
        assert await prepared_names(conn) == ["_copay_3"]  # the cut round trip's closed first

    on_a_connection(fresh_postgres, body, 0, run_on_loop)


def test_a_name_the_server_may_still_hold_is_closed_until_it_confirms(fresh_postgres: Callable[[], str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Room made for a statement in a round trip that then fails: its Close was not run, so the next round
    trip closes it first; a statement whose plan went stale under a migration fails once, then is prepared
    again and the stale one closed."""
    monkeypatch.setattr(round_trip, "MOST", 1)

    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        await round_trip.run(conn, state, [(INSERT, [1, "one"], False)])
        with pytest.raises(psycopg.errors.UniqueViolation):
            await round_trip.run(conn, state, [(INSERT, [1, "again"], False), (READ, [1], False)])
        assert await prepared_names(conn) == ["_copay_0"]  # room was made for READ, whose Parse did not run
        monkeypatch.setattr(round_trip, "MOST", 100)
        assert (await round_trip.run(conn, state, [(b"SELECT * FROM t", [], False)]))[0].rows == [(1, "one")]
        assert await prepared_names(conn) == ["_copay_2"]
        await conn.execute("ALTER TABLE t ADD COLUMN w int")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="cached plan"):
            await round_trip.run(conn, state, [(b"SELECT * FROM t", [], False)])
        assert (await round_trip.run(conn, state, [(b"SELECT * FROM t", [], False)]))[0].rows == [(1, "one", None)]
        assert await prepared_names(conn) == ["_copay_3"] and not state.closing

    on_a_connection(fresh_postgres, body, 0)


def test_without_a_close_message_nothing_is_closed_and_at_most_most_are_prepared(
        fresh_postgres: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A libpq older than 17 (a psycopg built against an older system libpq) cannot close a statement by name:
    no room is made, the statements past ``MOST`` are sent whole, and a name the server may still hold (a
    stale plan's) counts against ``MOST``, one it does not know does not; every round trip answers."""
    def no_close(*_: Any) -> None:
        raise AssertionError("a Close sent")

    monkeypatch.setattr(round_trip, "CLOSES", False)
    monkeypatch.setattr(round_trip, "_close", no_close)
    monkeypatch.setattr(round_trip, "MOST", 2)
    every = b"SELECT * FROM t"

    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        await round_trip.run(conn, state, [(INSERT, [1, "one"], False), (every, [], False)])
        answers = await round_trip.run(conn, state, [(READ, [1], False), (every, [], False)])
        assert [a.rows for a in answers] == [[(1, "one", True)], [(1, "one")]]  # the third sent whole
        assert await prepared_names(conn) == ["_copay_0", "_copay_1"] and READ not in [k for k, _ in state.names]
        await conn.execute("ALTER TABLE t ADD COLUMN w int")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="cached plan"):
            await round_trip.run(conn, state, [(every, [], False)])  # its plan stale: not closed, still counted
        assert list(state.closing) == [b"_copay_1"]
        for _ in range(2):
            answers = await round_trip.run(conn, state, [(READ, [1], False), (every, [], False)])
            assert [a.rows for a in answers] == [[(1, "one", True)], [(1, "one", None)]]
        assert await prepared_names(conn) == ["_copay_0", "_copay_1"]  # no room: READ and the rest sent whole
        await conn.execute("DEALLOCATE ALL")  # from elsewhere: the server knows none of them any more
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            await round_trip.run(conn, state, [(INSERT, [2, "two"], False)])
        assert list(state.closing) == [b"_copay_1"]  # the one it said it does not know takes no room
        await round_trip.run(conn, state, [(INSERT, [2, "two"], False)])
        assert await prepared_names(conn) == ["_copay_2"]

    on_a_connection(fresh_postgres, body, 0)


def test_counts_of_statements_not_yet_prepared_are_bounded(fresh_postgres: Callable[[], str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(round_trip, "MOST", 2)

    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        for k in range(3):
            await round_trip.run(conn, state, [(b"SELECT %d" % k, [], False)])
        assert [text for text, _ in state.seen] == [b"SELECT 1", b"SELECT 2"]  # the count kept longest went

    on_a_connection(fresh_postgres, body)


def test_what_the_pipeline_cannot_take_is_refused(fresh_postgres: Callable[[], str]) -> None:
    """More values than the protocol counts: refused before anything is sent, the connection kept. A COPY:
    refused (libpq would hand its result back without end), the connection closed."""
    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        many = b"SELECT " + b" + ".join(b"$%d::int" % n for n in range(1, 65_537))
        with pytest.raises(psycopg.ProgrammingError, match="at most 65535 values"):
            await round_trip.run(conn, state, [(many, [1] * 65_536, False)])
        assert not conn.closed and conn.pgconn.pipeline_status == 0
        with pytest.raises(psycopg.NotSupportedError, match="COPY"):
            await round_trip.run(conn, state, [(b"COPY t FROM STDIN", [], False)])
        assert conn.closed

    on_a_connection(fresh_postgres, body)


def test_a_round_trip_that_fails_before_its_sync_closes_the_connection_at_once(
        fresh_postgres: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while the statements are queued (here libpq refusing a Close): no Sync was queued, so no
    answer will end the pipeline (reading for one would never end): the connection is closed at once."""
    def no_close(*_: Any) -> None:
        raise psycopg.NotSupportedError("no Close message before libpq 17")

    monkeypatch.setattr(round_trip, "_close", no_close)
    monkeypatch.setattr(round_trip, "CANCEL_SECONDS", 60.0)

    async def body(conn: psycopg.AsyncConnection, state: round_trip.State) -> None:
        state.closing[b"_copay_9"] = None
        began = time.monotonic()
        with pytest.raises(psycopg.NotSupportedError):
            await round_trip.run(conn, state, [(READ, [1], False)])
        assert time.monotonic() - began < 30 and conn.closed

    on_a_connection(fresh_postgres, body)
