"""The SQLite writer: a process of its own where the server's database work runs.

Why a process: a Python process runs Python on one core at a time. With the
database work of a settlement (its statements, the service and domain code
around them, its share of a commit) on the event loop, that one core was the
ceiling of the whole gateway, while the machine's other core sat half idle.
In the writer process that work runs beside the event loop, which is left to
gRPC, TLS, validation and rendering.

How: the server hands the writer calls, ``(function, arguments)``, over a
socket pair. The writer runs every call that has arrived since its last commit
as one batch: one transaction, each call's unit of work in a SAVEPOINT of its
own (a refused or failed call rolls back only its savepoint), one COMMIT, then
every answer of the batch in one message. Nobody is answered before the commit
that makes their change durable. If the commit fails, every call of the batch
is answered UNAVAILABLE and none of their changes is kept, so a retry with the
same request_id is safe. Under load, calls pile up while a batch runs and the
next batch takes them all: group commit, with no timer to tune.

Functions travel by reference (module-level functions only), arguments and
answers as pickles; the objects the server shares at start (the policies in
force) are sent once and then referred to by name. Both ends are this program
and the socket pair is private to the two processes, so nothing a caller sends
is ever unpickled as code.

The writer exits when the server's end of the socket closes, whether the
server stopped or was killed. It ignores SIGINT and SIGTERM, so a signal sent
to the whole process group (Ctrl-C, a service manager) does not cut a batch
short: the server drains its calls first, then closes the socket. If the
writer dies, every waiting call is answered UNAVAILABLE and the server stops,
for its supervisor to restart it. One writer per SQLite file: several gateway
processes need PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from typing import Any, Callable, TypeVar

from sqlalchemy import Connection, Engine

from gateway.domain.errors import Refusal
from gateway.heap import freeze_startup_objects
from gateway.service.ports import Conflict, StoreUnavailable
from gateway.store.checkpoints import Checkpointer
from gateway.store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")
log = logging.getLogger("copay.writer")
HEADER = struct.Struct("!I")
STARTUP_SECONDS = 60
Call = tuple[int, Callable[..., Any], tuple[Any, ...]]
Outcome = tuple[int, bool, Any]


class WriterFailure(Exception):
    """An unexpected error in the writer; the writer logged its cause. The caller gets INTERNAL."""


# Framing and pickling, the same at both ends.

def _frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


_SHARED: dict[str, "Shared"] = {}  # this process's shared objects, by name


class Shared(dict):  # type: ignore[type-arg]
    """A dict that both processes hold from the start (the policies in force): it is pickled
    by name, not by content. ``share`` makes one."""

    def __init__(self, name: str, content: dict[Any, Any]) -> None:
        super().__init__(content)
        self.name = name

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return _shared, (self.name,)


def share(name: str, content: dict[Any, Any]) -> Shared:
    """``content`` as a Shared dict of this process, registered under ``name``."""
    _SHARED[name] = Shared(name, content)
    return _SHARED[name]


def _shared(name: str) -> Shared:
    return _SHARED[name]


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _dumps_each(items: list[T], replace: Callable[[T, Exception], T | None],
                message: Callable[[list[T]], object] = lambda items: items) -> tuple[bytes, int]:
    """``message(items)`` pickled at once (objects shared between items are written once), and how
    many items it holds: if some item cannot be pickled, ``replace`` says what goes in its place
    (None: leave it out)."""
    try:
        return _dumps(message(items)), len(items)
    except Exception:  # noqa: BLE001 - find the item at fault
        kept = []
        for item in items:
            try:
                _dumps(item)
                kept.append(item)
            except Exception as error:  # noqa: BLE001
                if (instead := replace(item, error)) is not None:
                    kept.append(instead)
        return _dumps(message(kept)), len(kept)


def _frames(buffer: bytearray) -> list[bytes]:
    """Takes every complete frame off the front of ``buffer``."""
    found = []
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + size:
            break
        found.append(bytes(buffer[HEADER.size:HEADER.size + size]))
        del buffer[:HEADER.size + size]
    return found


# The server's end.

class WriterProcess:
    """A Runner whose calls run in the writer process: ``await writer(fn, *args)`` runs
    ``fn(unit_of_work_factory, *args)`` there and returns its result once it is committed."""

    def __init__(self, database_url: str, shared: tuple[Shared, ...] = (), log_level: str = "INFO",
                 observe: Callable[[int, float], None] = lambda units, seconds: None,
                 on_lost: Callable[[], None] = lambda: None) -> None:
        self._config = {"database_url": database_url, "log_level": log_level,
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

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        with theirs:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self._process = subprocess.Popen([sys.executable, "-m", "gateway.store.writer", str(theirs.fileno())],
                                             pass_fds=(theirs.fileno(),), env=env)
        self._ready = loop.create_future()
        self._transport, _ = await loop.create_connection(lambda: _Link(self), sock=ours)
        self._transport.write(_frame(_dumps(self._config)))
        try:
            pid = await asyncio.wait_for(self._ready, STARTUP_SECONDS)
        except BaseException:
            self._process.kill()
            raise
        log.info("database writer started", extra={"fields": {"pid": pid}})

    @property
    def pid(self) -> int:
        return self._process.pid

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
        payload, sent = _dumps_each(calls, self._unsendable)
        if sent:
            self._transport.write(_frame(payload))
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
        for payload in _frames(self._buffer):
            self._writer._received(payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self._writer._lost()


# The writer's end.

class BatchWriter:
    """Runs a batch of calls in one transaction, each call's units of work in savepoints."""

    def __init__(self, engine: Engine, checkpoints: Checkpointer | None = None) -> None:
        self._engine = engine
        self._checkpoints = checkpoints
        self._conn: Connection | None = None

    def _connect(self) -> Connection:
        conn = self._engine.connect()
        if self._checkpoints is not None:  # it checkpoints; commits do not
            conn.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
        return conn

    def run(self, calls: list[Call]) -> tuple[float, list[Outcome]]:
        """The outcomes of ``calls`` and the seconds their commit took; nothing is answered
        as done unless the commit that holds it succeeded."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            tx = self._conn.begin()
        except Exception as error:  # noqa: BLE001 - e.g. the file is locked by another process
            return 0.0, self._all_lost(calls, error, "could not begin a transaction")
        self._driver = self._conn.connection.dbapi_connection
        outcomes = []
        for call_id, fn, args in calls:
            try:
                outcomes.append((call_id, True, fn(self.unit_of_work, *args)))
            except Exception as error:  # noqa: BLE001 - every failure goes back to its caller
                outcomes.append((call_id, False, _portable(error, fn)))
            if not self._driver.in_transaction:  # type: ignore[union-attr]
                # SQLite rolled the whole transaction back (I/O error, disk full): the batch is lost.
                return 0.0, self._all_lost(calls, None, "the transaction was rolled back under the batch")
        started = time.perf_counter()
        try:
            tx.commit()
        except Exception as error:  # noqa: BLE001
            return 0.0, self._all_lost(calls, error, "commit failed")
        return time.perf_counter() - started, outcomes

    def tidy(self) -> None:
        """Between batches, after the last one is answered: help the log restart when it is due."""
        if self._checkpoints is not None and self._conn is not None:
            self._checkpoints.catch_up(self._conn.connection.dbapi_connection)

    def _all_lost(self, calls: list[Call], error: Exception | None, what: str) -> list[Outcome]:
        log.error("%s; the batch's %d calls are answered UNAVAILABLE and none of their changes is kept", what,
                  len(calls), exc_info=error)
        if self._conn is not None:  # its state is unknown: throw it away, start afresh
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
        lost = StoreUnavailable("the database could not commit; nothing of this call was kept, "
                                "retry with the same request_id")
        return [(call_id, False, lost) for call_id, _, _ in calls]

    def unit_of_work(self, readonly: bool = False) -> "SavepointUnitOfWork":
        """The UnitOfWorkFactory that the batch's calls get (reads and writes alike)."""
        assert self._conn is not None
        return SavepointUnitOfWork(self._conn)

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
        if self._conn is not None:
            self._conn.close()


class SavepointUnitOfWork(SqlUnitOfWork):
    """A unit of work inside the batch's open transaction: SAVEPOINT, RELEASE or ROLLBACK TO."""

    def __init__(self, conn: Connection) -> None:
        self._batch_conn = conn

    def __enter__(self) -> "SavepointUnitOfWork":
        self._driver = self._batch_conn.connection.dbapi_connection
        self._driver.execute("SAVEPOINT uow")  # type: ignore[union-attr]
        self._open = True
        self._bind(self._batch_conn)
        return self

    def commit(self) -> None:
        self._driver.execute("RELEASE SAVEPOINT uow")  # type: ignore[union-attr]
        self._open = False

    def _end(self) -> None:
        if self._open:
            self._driver.execute("ROLLBACK TO SAVEPOINT uow")  # type: ignore[union-attr]
            self._driver.execute("RELEASE SAVEPOINT uow")  # type: ignore[union-attr]


def _portable(error: Exception, fn: Callable[..., Any]) -> Exception:
    """What the caller gets: refusals and the store's own errors as they are; anything else is
    logged here, with its traceback, and answered as a WriterFailure."""
    if isinstance(error, (Refusal, Conflict, StoreUnavailable)):
        return error
    log.error("unexpected error in the database writer", exc_info=error,
              extra={"fields": {"function": f"{fn.__module__}.{fn.__qualname__}"}})
    return WriterFailure(f"{type(error).__name__} in the database writer; the gateway logged the cause")


def _unpicklable(outcome: Outcome, error: Exception) -> Outcome:
    log.error("an answer could not be pickled", exc_info=error)
    return outcome[0], False, WriterFailure("the database writer could not send its answer; the gateway logged why")


class _Socket:
    """The writer's blocking end of the socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def receive(self) -> list[bytes] | None:
        """Every complete message that has arrived, waiting for at least one; None at end of stream."""
        while True:
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                return None
            self._buffer += chunk
            if found := _frames(self._buffer):
                return found

    def send(self, payload: bytes) -> None:
        self._sock.sendall(_frame(payload))


def main(fd: int) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    from gateway.observability import logs
    from gateway.store.db import make_engine

    link = _Socket(socket.socket(fileno=fd))
    first = link.receive()
    if first is None:
        return
    config = pickle.loads(first[0])
    logs.configure(config["log_level"])
    for name, content in config["shared"].items():
        share(name, content)
    engine = make_engine(config["database_url"], pool_size=1)
    writer = BatchWriter(engine, Checkpointer(engine))
    freeze_startup_objects()
    link.send(_dumps(os.getpid()))
    pending = first[1:]
    try:
        while True:
            calls: list[Call] = [call for payload in pending for call in pickle.loads(payload)]
            if calls:
                seconds, outcomes = writer.run(calls)
                link.send(_dumps_each(outcomes, _unpicklable, lambda kept: (seconds, kept))[0])
                writer.tidy()
            received = link.receive()
            if received is None:
                break
            pending = received
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server is gone; what was committed stands
    finally:
        writer.close()
        engine.dispose()


if __name__ == "__main__":
    # Run the module as imported, not as __main__, so that the pickles naming it find the same objects.
    from gateway.store import writer

    writer.main(int(sys.argv[1]))
