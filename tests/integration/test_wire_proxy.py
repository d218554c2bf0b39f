"""The benchmark's counting proxy (gateway.bench.wire) in front of PostgreSQL, reached by address or by its
Unix socket: statements and round trips counted, answers passed through unchanged."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text

from gateway.bench.wire import CountingProxy


def socket_folder(postgres_server: str) -> str:
    engine = create_engine(postgres_server)
    try:
        with engine.connect() as conn:
            folders = conn.execute(text("SHOW unix_socket_directories")).scalar_one()
    finally:
        engine.dispose()
    return next((f.strip() for f in folders.split(",") if f.strip().startswith("/")), "")


@pytest.mark.parametrize("reached_by", ["address", "socket"])
def test_the_proxy_counts_statements_and_round_trips(reached_by: str, postgres_server: str) -> None:
    url = make_url(postgres_server)
    if reached_by == "socket":
        folder = socket_folder(postgres_server)
        if not folder:
            pytest.skip("the server listens on no Unix socket")
        url = url.set(host=None).update_query_dict({"host": folder})

    async def main() -> tuple[list[int], int, int]:
        proxy = CountingProxy(url.render_as_string(hide_password=False))
        through = make_url(await proxy.start())
        try:
            assert through.host == "127.0.0.1" and "host" not in through.query
            conn = await psycopg.AsyncConnection.connect(
                host=through.host, port=through.port, user=through.username, password=through.password,
                dbname=through.database, sslmode="disable", autocommit=True)
            server_address = (await (await conn.execute("SELECT inet_server_addr()")).fetchone())[0]
            assert (server_address is None) == (reached_by == "socket")  # None: the server's end is its socket
            proxy.reset()
            answers = [(await (await conn.execute("SELECT %s::int + 1", (n,))).fetchone())[0] for n in (1, 2)]
            async with conn.pipeline():
                first = await conn.execute("SELECT 10")
                second = await conn.execute("SELECT 20")
            answers += [(await first.fetchone())[0], (await second.fetchone())[0]]
            counted = (proxy.statements, proxy.round_trips)
            await conn.close()
        finally:
            await proxy.stop()
        return answers, *counted

    answers, statements, round_trips = asyncio.run(main())
    assert answers == [2, 3, 10, 20]
    assert statements == 4 and round_trips == 3  # two statements alone, then two in one pipeline
