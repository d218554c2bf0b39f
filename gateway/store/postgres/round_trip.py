"""Statements sent to PostgreSQL in one round trip and one write to its socket, on the event loop.

psycopg's pipeline mode gives a round trip, not one write: each statement executed in it is flushed to the
socket on its own, and the pipeline's end sends its Sync and then a flush request apart, each a system call,
and on a database over loopback the kernel's work of delivering it as well (README, Benchmark: eight sends a
settlement for two round trips). Here a unit of work's statements are queued in libpq's buffer through
psycopg's public low-level interface (``psycopg.pq``: the connection's ``pgconn``, its ``Transformer`` for
values and rows), and the Sync that ends them sends everything in one write; the answers are read as they
come, waiting on the socket from the event loop.

The rest is as psycopg would do it on the same connection: values adapted by the connection's adapters,
rows in text loaded by its loaders, a server error raised as psycopg's exception of its SQLSTATE, the rows
counted as psycopg's ``rowcount``. Statements are prepared on the server as psycopg prepares its own: once a
connection has sent one ``prepare_threshold`` times (never when it is None, as behind an older PgBouncer in
transaction pooling), at most ``prepared_max`` of them; under names of our own, so the two never meet.
Prepared statements outlive a failed transaction, so one counts as prepared once its Parse succeeded; a
name is never given twice (a Parse whose answer was not read, in a round trip cut short, may have succeeded).

A round trip cut short (a cancelled call) is cancelled on the server, as psycopg cancels its own statements."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple, Sequence

from psycopg import ProgrammingError, errors
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import ConnStatus, ExecStatus, Format, TransactionStatus

Key = tuple[bytes, tuple[int, ...]]  # a statement's text and its values' types: what the server prepares
TEXT, AUTO = Format.TEXT, PyFormat.AUTO
SYNC, FATAL, COMMAND_OK = ExecStatus.PIPELINE_SYNC, ExecStatus.FATAL_ERROR, ExecStatus.COMMAND_OK
OK, ACTIVE = ConnStatus.OK, TransactionStatus.ACTIVE
CANCEL_SECONDS = 5.0  # as psycopg waits for a cancelled statement
STATE = "copay_prepared"  # in the connection's info: its _Prepared


class _Prepared:
    """What one connection has prepared, and how often it sent each statement not yet prepared (both bounded)."""

    def __init__(self) -> None:
        self.names: dict[Key, bytes] = {}
        self.seen: dict[Key, int] = {}
        self.issued = 0  # names given to a Parse, whatever became of it: none is given twice


class Answer(NamedTuple):
    rows: list[Any]  # empty for a statement that returns none
    count: int  # rows matched or returned, as psycopg's rowcount (-1: the server gives no count)


async def run(driver: Any, info: dict[str, Any], work: Sequence[tuple[bytes | str, Any, bool]]) -> list[Answer]:
    """Runs each statement (a ``$n`` text, its values in order, many rows of them or one) in one round trip,
    in order; returns their answers, or raises the first error (the statements after it are not run)."""
    prepared: _Prepared = info.get(STATE) or info.setdefault(STATE, _Prepared())
    threshold, most = driver.prepare_threshold, driver.prepared_max
    tx = Transformer.from_context(driver)
    queries: list[tuple[Key, Sequence[Any], Sequence[Any]]] = []  # what to send, its values and their formats
    per_statement: list[int] = []
    for sql, values, many in work:
        if not isinstance(sql, bytes):
            raise ProgrammingError("on the event loop a statement runs in $n placeholders only; this one's text did "
                                   "not convert (gateway.store.postgres.placeholders)")
        rows = values if many else (values,)
        for row in rows:
            params = tx.dump_sequence(row, [AUTO] * len(row))
            queries.append(((sql, tx.types or ()), params, tx.formats or ()))
        per_statement.append(len(rows))
    pgconn = driver.pgconn
    fresh: dict[Key, bytes] = {}  # prepared in this round trip, with the index of its Parse's results
    parses: list[tuple[int, Key, bytes]] = []
    pgconn.enter_pipeline_mode()
    synced = False
    try:
        sent = 0
        for key, params, formats in queries:
            name = prepared.names.get(key) or fresh.get(key)
            if name is None and threshold is not None and prepared.issued < most:
                if (seen := prepared.seen.get(key, 0)) >= threshold:
                    name = fresh[key] = b"_copay_%d" % prepared.issued
                    prepared.issued += 1
                    pgconn.send_prepare(name, key[0], param_types=key[1])
                    parses.append((sent, key, name))
                    sent += 1
                elif seen or len(prepared.seen) < most:
                    prepared.seen[key] = seen + 1
            if name is None:
                pgconn.send_query_params(key[0], params, param_types=key[1], param_formats=formats,
                                         result_format=TEXT)
            else:
                pgconn.send_query_prepared(name, params, param_formats=formats, result_format=TEXT)
            sent += 1
        pgconn.pipeline_sync()
        synced = True
        await _flush(pgconn, driver.fileno())
        results = await _results(pgconn, driver.fileno())
    except BaseException:
        await _abandon(driver, synced)
        raise
    pgconn.exit_pipeline_mode()
    for index, key, name in parses:
        if results[index][0].status == COMMAND_OK:
            prepared.names[key] = name
            prepared.seen.pop(key, None)
    for result in (r for each in results for r in each):
        if result.status == FATAL:
            raise errors.error_from_result(result, encoding=driver.info.encoding)
    answers: list[Answer] = []
    parsed = {index for index, _, _ in parses}
    outcomes = iter(each for index, each in enumerate(results) if index not in parsed)
    for count in per_statement:
        rows, matched = [], 0
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
        else:
            current.append(result)


async def _abandon(driver: Any, synced: bool) -> None:
    """A round trip cut short (its call cancelled, the connection lost). As psycopg does with its own
    statements: the server is asked to cancel what it runs, and the answers are read up to the Sync, so the
    connection is left as it was (its transaction failed, for the unit of work to roll back); if that is not
    done within 5 s, is cut short again, or the Sync was never sent, the connection is closed instead (the
    pool then drops it)."""
    pgconn = driver.pgconn
    if pgconn.status != OK:  # lost already
        return
    try:
        if not synced:
            raise ConnectionAbortedError
        if pgconn.transaction_status == ACTIVE:
            await driver.cancel_safe(timeout=CANCEL_SECONDS)
        await asyncio.wait_for(_results(pgconn, driver.fileno()), CANCEL_SECONDS)
        pgconn.exit_pipeline_mode()
    except BaseException:
        pgconn.finish()


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
