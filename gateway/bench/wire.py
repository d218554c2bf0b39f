"""Statements and round trips per call, counted on the wire between a gateway and PostgreSQL.

A TCP proxy in the benchmark's process, in front of the database: the gateway's
connections go through it (without TLS, so that it can read the protocol). It
counts the statements the gateway sends (the frontend's Query and Execute
messages: BEGIN and COMMIT count, whether sent alone or in a pipeline) and the
round trips: each time the server answers after the gateway has sent, the
gateway has waited for the database once.
"""

from __future__ import annotations

import asyncio
import struct

from sqlalchemy.engine import make_url

STATEMENTS = {ord("Q"), ord("E")}  # a simple query; an extended query's Execute


class CountingProxy:
    """In front of the database that ``url`` names: by address, or by its Unix socket's folder (``?host=/…``,
    as libpq takes it)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        folder, port = parsed.query.get("host"), parsed.port or 5432
        self._socket = f"{folder}/.s.PGSQL.{port}" if isinstance(folder, str) and folder.startswith("/") else None
        self._target = (parsed.host or "127.0.0.1", port)
        self._url = parsed.difference_update_query(["host", "hostaddr", "port"])
        self.statements = self.round_trips = 0
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        """Listens; returns the database URL that goes through the proxy."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        query = {**self._url.query, "sslmode": "disable", "gssencmode": "disable"}
        return self._url.set(host="127.0.0.1", port=port, query=query).render_as_string(hide_password=False)

    def reset(self) -> None:
        self.statements = self.round_trips = 0

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await (asyncio.open_unix_connection(self._socket) if self._socket else
                                           asyncio.open_connection(*self._target))
        except OSError:
            client_out.close()
            return
        sent = [False]  # the gateway sent something the server has not answered yet
        await asyncio.gather(self._upstream(client_in, server_out, sent),
                             self._downstream(server_in, client_out, sent), return_exceptions=True)
        for writer in (client_out, server_out):
            writer.close()

    async def _upstream(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, sent: list[bool]) -> None:
        """Gateway to server: the startup message (no type byte), then typed messages, counted."""
        buffer, started = b"", False
        while data := await source.read(65536):
            sink.write(data)
            sent[0] = True
            buffer += data
            while True:
                if not started:
                    if len(buffer) < 4 or len(buffer) < (size := struct.unpack("!i", buffer[:4])[0]):
                        break
                    buffer, started = buffer[size:], True
                    continue
                if len(buffer) < 5 or len(buffer) < 1 + (size := struct.unpack("!i", buffer[1:5])[0]):
                    break
                self.statements += buffer[0] in STATEMENTS
                buffer = buffer[1 + size:]
            await sink.drain()
        sink.close()

    async def _downstream(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, sent: list[bool]) -> None:
        while data := await source.read(65536):
            if sent[0]:
                self.round_trips += 1
                sent[0] = False
            sink.write(data)
            await sink.drain()
        sink.close()
