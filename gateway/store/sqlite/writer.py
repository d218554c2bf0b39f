"""The SQLite writer: a process of its own where the server's database work runs.

Why a process: a Python process runs Python on one core at a time. With the
database work of a settlement (its statements, the service and domain code
around them, its share of a commit) on the event loop, that one core was the
ceiling of the whole gateway, while the machine's other core sat half idle.
In the writer process that work runs beside the event loop, which is left to
gRPC, TLS, validation and rendering.

How: the server (gateway.store.sqlite.writer_process) hands the writer calls,
``(function, arguments)``, over a socket pair (gateway.store.sqlite.wire). The writer
runs every call that has arrived since its last commit as one batch: one
transaction, each call's unit of work in a SAVEPOINT of its own (a refused or
failed call rolls back only its savepoint), one COMMIT, then every answer of
the batch in one message. Nobody is answered before the commit that makes
their change durable. If the commit fails, every call of the batch is answered
UNAVAILABLE and none of their changes is kept, so a retry with the same
request_id is safe. The server keeps one message of calls with the writer at a
time; calls that arrive meanwhile go together in the next: group commit, with
no timer to tune. WAL checkpoints run beside the writer (gateway.store.sqlite.checkpoints).

The writer exits when the server's end of the socket closes, whether the
server stopped or was killed. It ignores SIGINT and SIGTERM, so a signal sent
to the whole process group (Ctrl-C, a service manager) does not cut a batch
short: the server drains its calls first, then closes the socket. If the
writer dies, every waiting call is answered UNAVAILABLE and the server stops,
for its supervisor to restart it. One writer per SQLite file: several gateway
processes need PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import socket
import sys
import time
from typing import Any, Callable

from sqlalchemy import Connection, Engine

from gateway.domain.errors import Refusal
from gateway.heap import freeze_startup_objects
from gateway.service.ports import Conflict, StoreUnavailable
from gateway.store.sqlite.checkpoints import Checkpointer
from gateway.store.unit_of_work import SqlUnitOfWork
from gateway.store.sqlite.wire import Call, Outcome, WriterFailure, dumps, dumps_each, frame, frames, share

log = logging.getLogger("copay.writer")


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
        self._committed()  # the batch's later calls read through this connection: they see the change

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
            if found := frames(self._buffer):
                return found

    def send(self, payload: bytes) -> None:
        self._sock.sendall(frame(payload))


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
    engine = make_engine(config["database_url"], pool_size=1, synchronous=config["synchronous"])
    writer = BatchWriter(engine, Checkpointer(engine))
    freeze_startup_objects()
    link.send(dumps(os.getpid()))
    pending = first[1:]
    try:
        while True:
            calls: list[Call] = [call for payload in pending for call in pickle.loads(payload)]
            if calls:
                seconds, outcomes = writer.run(calls)
                link.send(dumps_each(outcomes, _unpicklable, lambda kept: (seconds, kept))[0])
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
    main(int(sys.argv[1]))
