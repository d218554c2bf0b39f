"""The server's end of the SQLite writer process (see gateway.store.sqlite.writer):
a Runner that starts the writer, sends it calls and hands back its answers."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import subprocess
import sys
from typing import Any, Callable, TypeVar

from gateway.service.ports import StoreUnavailable
from gateway.store.sqlite.wire import Call, Shared, dumps, dumps_each, frame, frames

T = TypeVar("T")
log = logging.getLogger("copay.writer")
STARTUP_SECONDS = 60


class WriterProcess:
    """A Runner whose calls run in the writer process: ``await writer(fn, *args)`` runs
    ``fn(unit_of_work_factory, *args)`` there and returns its result once it is committed."""

    def __init__(self, database_url: str, shared: tuple[Shared, ...] = (), log_level: str = "INFO",
                 observe: Callable[[int, float], None] = lambda units, seconds: None,
                 on_lost: Callable[[], None] = lambda: None, synchronous: str = "FULL") -> None:
        self._config = {"database_url": database_url, "log_level": log_level, "synchronous": synchronous,
                        "shared": {s.name: dict(s) for s in shared}}
        self._observe = observe  # (units of work in the batch, seconds its commit took)
        self._on_lost = on_lost  # the writer died: the server should stop
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._outbox: list[Call] = []  # calls not sent yet
        self._busy = False  # a message of calls is with the writer, not answered yet
        self._next_id = 0
        self._closing = False
        self._gone = False  # the socket is closed: no call can be sent
        self._ready: asyncio.Future[int] | None = None
        self.batches = self.units = 0  # totals since start
        self.exit_code: int | None = None

    @property
    def alive(self) -> bool:
        """Whether calls can be sent to the writer: its socket is open and the server is not closing it.
        False as soon as the server sees the socket close (the writer exited or was killed). Any thread may ask."""
        return self._ready is not None and self._ready.done() and not (self._gone or self._closing)

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        with theirs:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self._process = subprocess.Popen([sys.executable, "-m", "gateway.store.sqlite.writer",
                                              str(theirs.fileno())], pass_fds=(theirs.fileno(),), env=env)
        self._ready = loop.create_future()
        self._transport, _ = await loop.create_connection(lambda: _Link(self), sock=ours)
        self._transport.write(frame(dumps(self._config)))
        try:
            pid = await asyncio.wait_for(self._ready, STARTUP_SECONDS)
        except StoreUnavailable:
            raise SystemExit("the database writer exited while starting; its error is logged above") from None
        except BaseException:
            self._process.kill()
            raise
        log.info("database writer started", extra={"fields": {"pid": pid}})

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        if self._gone or self._closing:
            raise StoreUnavailable("the database writer has stopped; retry with the same request_id")
        self._next_id += 1
        call_id = self._next_id
        future: asyncio.Future[T] = self._loop.create_future()
        self._waiting[call_id] = future
        self._outbox.append((call_id, fn, args))
        if len(self._outbox) == 1 and not self._busy:  # the calls made in this turn of the loop go together
            self._loop.call_soon(self._send)
        try:
            return await future
        finally:
            self._waiting.pop(call_id, None)

    def _send(self) -> None:
        """Sends every call waiting to go as one message, unless the writer is busy with the last
        one: calls that arrive meanwhile go together when it answers. Fewer, larger batches cost
        both processes less than one message, and one wake-up of the writer, per call."""
        if self._busy or self._gone or not self._outbox:
            return  # (if gone, _lost has answered them)
        calls, self._outbox = self._outbox, []
        payload, sent = dumps_each(calls, self._unsendable)
        if sent:
            self._transport.write(frame(payload))
            self._busy = True

    def _unsendable(self, call: Call, error: Exception) -> None:
        future = self._waiting.get(call[0])
        if future is not None and not future.done():
            future.set_exception(error)

    def _received(self, payload: bytes) -> None:
        message = pickle.loads(payload)
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(message)
            return
        seconds, outcomes = message
        self.batches += 1
        self.units += len(outcomes)
        self._observe(len(outcomes), seconds)
        for call_id, ok, value in outcomes:
            future = self._waiting.get(call_id)
            if future is None or future.done():
                continue  # its caller has gone away; the work stands
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._busy = False
        self._send()

    def _lost(self) -> None:
        self._gone = True
        gone = StoreUnavailable("the database writer stopped; retry with the same request_id")
        for future in [*self._waiting.values(), *([self._ready] if self._ready else [])]:
            if not future.done():
                future.set_exception(gone)
        if not self._closing:
            self._loop.create_task(self._died())

    async def _died(self) -> None:
        self.exit_code = await self._loop.run_in_executor(None, self._process.wait)
        log.error("database writer exited; the gateway stops", extra={"fields": {"exit_code": self.exit_code}})
        self._on_lost()

    async def shutdown(self) -> None:
        """Closes the socket (the server has drained its calls); the writer then exits."""
        self._closing = True
        if not self._gone:
            self._transport.close()
        self.exit_code = await self._loop.run_in_executor(None, self._process.wait)


class _Link(asyncio.Protocol):
    def __init__(self, writer: WriterProcess) -> None:
        self._writer = writer
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        for payload in frames(self._buffer):
            self._writer._received(payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self._writer._lost()
