"""A unit of work's statements on the event loop's connections (gateway.store.postgres.round_trip), against a
real PostgreSQL: one write to the socket a round trip, answers in order as psycopg gives them, statements
prepared as psycopg prepares its own and within its bounds, errors raised as psycopg's, nothing run after one."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, Awaitable, Callable

import psycopg
import pytest
from sqlalchemy import make_url

from gateway.store.postgres import round_trip

Work = list[tuple[Any, Any, bool]]


def data_segments_sent(conn: psycopg.AsyncConnection) -> int:
    """TCP segments with data the connection's socket has sent (Linux's ``tcp_info.tcpi_data_segs_out``)."""
    with socket.socket(fileno=conn.fileno()) as sock:
        try:
            return struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), 156)[0]
        finally:
            sock.detach()


def on_a_connection(fresh_postgres: Callable[[], str],
                    body: Callable[[psycopg.AsyncConnection, dict[str, Any]], Awaitable[Any]],
                    **settings: Any) -> Any:
    """``body(connection, its info)`` on a new autocommit connection (as the event loop's engine keeps them)
    to a new database, with a table ``t (k int primary key, v text)``."""
    url = make_url(fresh_postgres()).set(drivername="postgresql").render_as_string(hide_password=False)

    async def main() -> Any:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        try:
            await conn.execute("CREATE TABLE t (k int PRIMARY KEY, v text)")
            for name, value in settings.items():
                setattr(conn, name, value)
            return await body(conn, {})
        finally:
            await conn.close()

    return asyncio.run(main())


async def prepared_names(conn: psycopg.AsyncConnection) -> list[str]:
    cursor = await conn.execute("SELECT name FROM pg_prepared_statements ORDER BY name", prepare=False)
    return [name for name, in await cursor.fetchall() if name.startswith("_copay_")]


LATER = b"SELECT * FROM later WHERE k = $1"
INSERT, READ = b"INSERT INTO t (k, v) VALUES ($1, $2)", b"SELECT k, v, now() > '2000-01-01' FROM t WHERE k <= $1 ORDER BY k"


def test_a_round_trip_is_one_write_and_its_answers_come_in_order(fresh_postgres: Callable[[], str]) -> None:
    async def body(conn: psycopg.AsyncConnection, info: dict[str, Any]) -> None:
        work: Work = [(b"BEGIN", [], False), (INSERT, [1, "one"], False), (INSERT, [[2, None], [3, "三"]], True),
                      (READ, [2], False), (b"UPDATE t SET v = 'x' WHERE k > $1", [0], False), (b"COMMIT", [], False)]
        before = data_segments_sent(conn)
        answers = await round_trip.run(conn, info, work)
        assert data_segments_sent(conn) - before == 1  # every statement and the Sync in one write
        assert [a.rows for a in answers] == [[], [], [], [(1, "one", True), (2, None, True)], [], []]
        assert [a.count for a in answers] == [-1, 1, 2, 2, 3, -1]
        assert conn.pgconn.pipeline_status == 0 and conn.info.transaction_status == 0  # out of the pipeline, idle
        cursor = await conn.execute("SELECT k, v FROM t ORDER BY k")
        assert await cursor.fetchall() == [(1, "x"), (2, "x"), (3, "x")]

    on_a_connection(fresh_postgres, body)


def test_statements_are_prepared_as_psycopg_prepares_its_own(fresh_postgres: Callable[[], str]) -> None:
    """After ``prepare_threshold`` runs, within ``prepared_max``, under names of their own; not at all when the
    threshold is None (an older PgBouncer in transaction pooling)."""
    async def body(conn: psycopg.AsyncConnection, info: dict[str, Any]) -> list[list[str]]:
        seen = []
        for k in range(4):
            await round_trip.run(conn, info, [(READ, [k], False), (b"SELECT $1::int", [k], False)])
            seen.append(await prepared_names(conn))
        assert [a.rows for a in await round_trip.run(conn, info, [(READ, [0], False), (b"SELECT $1::int", [7], False)])] \
            == [[], [(7,)]]  # run prepared
        await round_trip.run(conn, info, [(b"SELECT 1", [], False)] * 4)  # beyond prepared_max: never prepared
        seen.append(await prepared_names(conn))
        return seen

    assert on_a_connection(fresh_postgres, body, prepare_threshold=2, prepared_max=2) == \
        [[], [], ["_copay_0", "_copay_1"], ["_copay_0", "_copay_1"], ["_copay_0", "_copay_1"]]
    assert on_a_connection(fresh_postgres, body, prepare_threshold=None) == [[]] * 5
    assert on_a_connection(fresh_postgres, body, prepare_threshold=0, prepared_max=1) == [["_copay_0"]] * 5


def test_an_error_is_psycopgs_and_nothing_after_it_runs(fresh_postgres: Callable[[], str]) -> None:
    async def body(conn: psycopg.AsyncConnection, info: dict[str, Any]) -> None:
        await round_trip.run(conn, info, [(INSERT, [1, "one"], False)])
        with pytest.raises(psycopg.errors.UniqueViolation):
            await round_trip.run(conn, info, [(b"BEGIN", [], False), (INSERT, [2, "two"], False),
                                              (INSERT, [1, "again"], False), (INSERT, [3, "three"], False)])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        await conn.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):  # a Parse that fails: not counted as prepared
            await round_trip.run(conn, info, [(LATER, [1], False), (INSERT, [4, "four"], False)])
        assert await prepared_names(conn) == ["_copay_0", "_copay_1"]  # the INSERT's and BEGIN's, not _copay_2
        await conn.execute("CREATE TABLE later (k int)")
        assert (await round_trip.run(conn, info, [(LATER, [1], False)]))[0].count == 0  # prepared now
        await round_trip.run(conn, info, [(b"SELECT $1::text", ["ok"], False)])
        assert await prepared_names(conn) == ["_copay_0", "_copay_1", "_copay_3", "_copay_4"]  # none given twice
        assert [a.rows for a in await round_trip.run(conn, info, [(READ, [9], False)])][0][0][:2] == (1, "one")
        with pytest.raises(psycopg.ProgrammingError, match="placeholders"):  # a text that did not convert
            await round_trip.run(conn, info, [("SELECT %(k)s", {"k": 1}, False)])
        assert conn.pgconn.pipeline_status == 0

    on_a_connection(fresh_postgres, body, prepare_threshold=0)
