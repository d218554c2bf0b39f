"""Statements sent to PostgreSQL in one round trip and one write to its socket, on the event loop.

psycopg's pipeline mode gives a round trip, not one write: each statement executed in it is flushed to the
socket on its own, and the pipeline's end sends its Sync and then a flush request apart, each a system call,
and on a database over loopback the kernel's work of delivering it as well (README, Benchmark: eight sends a
settlement for two round trips). Here a unit of work's statements are queued in libpq's buffer through
psycopg's public low-level interface (``psycopg.pq``: the connection's ``pgconn``, a ``Transformer`` for
values and rows), and the Sync that ends them sends everything in one write; the answers are read as they
come, waiting on the socket from the event loop.

The rest is as psycopg would do it on the same connection: values adapted by the connection's adapters,
rows in text loaded by its loaders, a server error raised as psycopg's exception of its SQLSTATE, the rows
counted as psycopg's ``rowcount``, a round trip cut short (a cancelled call) cancelled on the server.

Prepared statements. psycopg prepares nothing on these connections (gateway.store.postgres.engine): its
rollback would then send ``DEALLOCATE ALL``, which drops ours too. This module prepares as psycopg would: a
statement (its text and its values' types) once the connection has sent it ``threshold`` times (never when
None, as behind an older PgBouncer in transaction pooling), at most ``MOST`` at once, the least recently
used closed to make room; under names of its own, none given twice. A prepared statement outlives a failed
transaction, so it counts once its Parse succeeded. A name the server may hold and the connection no longer
uses (made room for, its Parse's answer not read in a round trip cut short, its plan stale) is closed: at
the end of the round trip that made room for another (after its last use there), else at the start of the
next, where nothing can fail it, until the server confirms; while ``MOST`` wait, nothing more is prepared. If
the server no longer knows one (a ``DEALLOCATE ALL`` or ``DISCARD ALL`` from elsewhere) or its plan is stale
(a migration changed a column's type under it), that round trip fails and the statement is prepared again
the next time. A libpq older than 17 (a psycopg built against an older system libpq) has no Close message:
then nothing is closed, at most ``MOST`` are prepared and the rest sent whole, and a name the server may
still hold (not one it said it does not know) counts against ``MOST`` until the connection ends."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, NamedTuple, Sequence

from psycopg import NotSupportedError, ProgrammingError, errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import ConnStatus, DiagnosticField, ExecStatus, Format, TransactionStatus

Key = tuple[bytes, tuple[int, ...]]  # a statement's text and its values' types: what the server prepares
TEXT, AUTO = Format.TEXT, PyFormat.AUTO
SYNC, COMMAND_OK = ExecStatus.PIPELINE_SYNC, ExecStatus.COMMAND_OK
FAILED = {ExecStatus.FATAL_ERROR, ExecStatus.BAD_RESPONSE}
COPYING = {ExecStatus.COPY_IN, ExecStatus.COPY_OUT, ExecStatus.COPY_BOTH}
OK, ACTIVE = ConnStatus.OK, TransactionStatus.ACTIVE
SQLSTATE = DiagnosticField.SQLSTATE
UNKNOWN, STALE = b"26000", b"0A000"  # no such prepared statement; "cached plan must not change result type" (and
FORGOTTEN = {UNKNOWN, STALE}  # other features not supported: the statement is then prepared again, no harm)
QUERY, PARSE, CLOSE = 0, 1, 2  # what sent a result
MOST = 100  # prepared statements a connection keeps (psycopg's own default)
CLOSES = min(pq.version(), pq.__build_version__) >= 170_000  # libpq can close one by name (a Close message)
MOST_VALUES = 65_535  # in one statement, as the protocol counts them
CANCEL_SECONDS = 5.0  # as psycopg waits for a cancelled statement
STATE = "copay_round_trips"  # in the connection's info: its State (gateway.store.postgres.engine puts it there)


class State:
    """What the round trips keep of one connection: the statements it prepared, least recently used first;
    how often it sent each statement not yet prepared; the names to close (all three bounded); its values'
    dumpers and rows' loaders, found once (a psycopg cursor keeps them so too)."""

    def __init__(self, threshold: int | None) -> None:
        self.threshold = threshold
        self.names: OrderedDict[Key, bytes] = OrderedDict()
        self.seen: dict[Key, int] = {}
        self.closing: dict[bytes, None] = {}  # names the server may hold and this connection no longer uses
        self.issued = 0
        self.tx: Transformer | None = None


class Answer(NamedTuple):
    rows: list[Any]  # empty for a statement that returns none
    count: int  # rows matched or returned, as psycopg's rowcount (-1: the server gives no count)


async def run(driver: Any, state: State, work: Sequence[tuple[bytes | str, Any, bool]]) -> list[Answer]:
    """Runs each statement (a ``$n`` text, its values in order, many rows of them or one) in one round trip,
    in order; returns their answers, or raises the first error (the statements after it are not run)."""
    tx = state.tx = state.tx or Transformer.from_context(driver)
    queries: list[tuple[Key, Sequence[Any], Sequence[Any]]] = []  # what to send, its values and their formats
    per_statement: list[int] = []
    for sql, values, many in work:
        if not isinstance(sql, bytes):
            raise ProgrammingError("on the event loop a statement runs in $n placeholders only; this one's text did "
                                   "not convert (gateway.store.postgres.placeholders)")
        rows = values if many else (values,)
        for row in rows:
            if len(row) > MOST_VALUES:
                raise ProgrammingError(f"a statement takes at most {MOST_VALUES} values; got {len(row)}")
            params = tx.dump_sequence(row, [AUTO] * len(row))
            queries.append(((sql, tx.types or ()), params, tx.formats or ()))
        per_statement.append(len(rows))
    pgconn = driver.pgconn
    sent: list[tuple[int, Key | None, bytes | None]] = []  # what made each result: its kind, key and name
    pgconn.enter_pipeline_mode()
    synced = False
    try:
        earlier = list(state.closing) if CLOSES else []  # first, where nothing before them can fail them
        for name in earlier:
            _close(pgconn, name, sent)
        for key, params, formats in queries:
            name = _name(pgconn, state, key, sent)
            if name is None:
                pgconn.send_query_params(key[0], params, param_types=key[1], param_formats=formats,
                                         result_format=TEXT)
            else:
                pgconn.send_query_prepared(name, params, param_formats=formats, result_format=TEXT)
            sent.append((QUERY, key, name))
        for name in list(state.closing)[len(earlier):] if CLOSES else []:  # made room for others here: closed
            _close(pgconn, name, sent)  # after their last use
        pgconn.pipeline_sync()
        synced = True
        await _flush(pgconn, driver.fileno())
        results = await _results(pgconn, driver.fileno())
    except BaseException:
        for kind, key, name in sent:  # the server may have these: forgotten here, closed by a later round trip
            if kind == PARSE and state.names.get(key) == name:  # type: ignore[arg-type]
                del state.names[key]  # type: ignore[arg-type]
                state.closing[name] = None  # type: ignore[index]
        await _abandon(driver, synced)
        raise
    pgconn.exit_pipeline_mode()
    try:
        return _answers(driver, tx, state, sent, results, per_statement)
    finally:
        tx.set_pgresult(None)  # the last rows are not kept with the connection


def _close(pgconn: Any, name: bytes, sent: list[tuple[int, Key | None, bytes | None]]) -> None:
    pgconn.send_close_prepared(name)
    sent.append((CLOSE, None, name))


def _name(pgconn: Any, state: State, key: Key, sent: list[tuple[int, Key | None, bytes | None]]) -> bytes | None:
    """The prepared statement to run ``key`` as (its Parse queued now, if it is time), or None to send it
    whole. A Parse queued goes in ``sent``."""
    names, threshold = state.names, state.threshold
    if (name := names.get(key)) is not None:
        names.move_to_end(key)
        return name
    if threshold is None or len(state.closing) >= MOST:  # none, or too many the server may still hold
        return None
    if not CLOSES and len(names) + len(state.closing) >= MOST:  # no room can be made
        return None
    seen = state.seen.get(key, 0)
    if seen < threshold:
        if not seen and len(state.seen) >= MOST:  # the count kept longest goes
            del state.seen[next(iter(state.seen))]
        state.seen[key] = seen + 1
        return None
    state.seen.pop(key, None)
    if len(names) >= MOST:  # the one used least recently makes room
        state.closing[names.popitem(last=False)[1]] = None
    name = names[key] = b"_copay_%d" % state.issued  # taken back if its Parse fails
    state.issued += 1
    pgconn.send_prepare(name, key[0], param_types=key[1])
    sent.append((PARSE, key, name))
    return name


def _answers(driver: Any, tx: Transformer, state: State, sent: list[tuple[int, Key | None, bytes | None]],
             results: list[list[Any]], per_statement: list[int]) -> list[Answer]:
    for (kind, key, name), each in zip(sent, results):
        if kind == PARSE and each[0].status != COMMAND_OK and state.names.get(key) == name:  # type: ignore[arg-type]
            del state.names[key]  # type: ignore[arg-type]
        elif kind == CLOSE and each[0].status == COMMAND_OK:
            state.closing.pop(name, None)  # type: ignore[arg-type]
    for (kind, key, name), each in zip(sent, results):
        for result in each:
            if result.status in FAILED:
                code = result.error_field(SQLSTATE)
                if kind == QUERY and name is not None and code in FORGOTTEN \
                        and state.names.get(key) == name:  # type: ignore[arg-type]
                    del state.names[key]  # type: ignore[arg-type]  # prepared again next time
                    if CLOSES or code != UNKNOWN:  # one the server does not know takes no room there
                        state.closing[name] = None
                raise errors.error_from_result(result, encoding=driver.info.encoding)
    outcomes = iter(each for (kind, _, _), each in zip(sent, results) if kind == QUERY)
    answers: list[Answer] = []
    for count in per_statement:
        rows: list[Any] = []
        matched = 0
        for _ in range(count):
            for result in next(outcomes):
                if result.ntuples:
                    tx.set_pgresult(result)
                    rows += tx.load_rows(0, result.ntuples, tuple)
                tuples = result.command_tuples
                matched = matched + tuples if tuples is not None and matched >= 0 else -1
        answers.append(Answer(rows, matched))
    return answers


async def _flush(pgconn: Any, fd: int) -> None:
    """Until libpq's buffer is all on the socket; what the server answers meanwhile is read in, so that
    neither side waits for the other."""
    while pgconn.flush():
        await _ready(fd, write=True)
        pgconn.consume_input()


async def _results(pgconn: Any, fd: int) -> list[list[Any]]:
    """Each query's results (libpq ends each with None), up to the Sync's."""
    results: list[list[Any]] = []
    current: list[Any] = []
    while True:
        if pgconn.is_busy():
            await _ready(fd)
            pgconn.consume_input()
        elif (result := pgconn.get_result()) is None:
            results.append(current)
            current = []
        elif result.status == SYNC:
            return results
        elif result.status in COPYING:  # libpq would give it again and again
            raise NotSupportedError("COPY cannot be used in pipeline mode")
        else:
            current.append(result)


async def _abandon(driver: Any, synced: bool) -> None:
    """A round trip cut short (its call cancelled, the connection lost). As psycopg does with its own
    statements: the server is asked to cancel what it runs, and the rest is sent and the answers read up to
    the Sync, so the connection is left as it was (its transaction failed, for the unit of work to roll
    back); if that is not done within 5 s, is cut short again, or the Sync was never queued, the connection
    is closed instead (the pool then drops it)."""
    pgconn = driver.pgconn
    if pgconn.status != OK:  # lost already
        return
    try:
        if not synced:
            raise ConnectionAbortedError
        if pgconn.transaction_status == ACTIVE:
            await driver.cancel_safe(timeout=CANCEL_SECONDS)
        await asyncio.wait_for(_drain(pgconn, driver.fileno()), CANCEL_SECONDS)
        pgconn.exit_pipeline_mode()
    except BaseException:
        pgconn.finish()


async def _drain(pgconn: Any, fd: int) -> None:
    await _flush(pgconn, fd)
    await _results(pgconn, fd)


async def _ready(fd: int, write: bool = False) -> None:
    """Until the socket can be read (or written, if ``write``)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    if write:
        loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
        if write:
            loop.remove_writer(fd)
