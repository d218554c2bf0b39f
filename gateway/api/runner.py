"""Where servicers run database work: ``await db(fn, *args)`` runs
``fn(unit_of_work_factory, *args)`` somewhere the event loop does not wait on
and returns its result once its changes are committed.

SQLite: ``gateway.store.sqlite.writer_process.WriterProcess``: the work runs in a
process of its own (gateway.store.sqlite.writer), which commits calls in batches.
PostgreSQL: ``gateway.store.postgres.loop.LoopRunner``: the work runs on the
event loop itself and gives it back whenever it waits on the database, each
unit of work a transaction of its own.

Long reads (a clearing window's sums and detail, the audit chain's check) run
beside the calls, in a ``ThreadPoolRunner``'s threads, on both engines.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Protocol, TypeVar

from gateway.service.ports import UnitOfWorkFactory

T = TypeVar("T")


class Runner(Protocol):
    async def __call__(self, fn: Callable[..., T], *args: object) -> T: ...
    async def shutdown(self) -> None: ...


class ThreadPoolRunner:
    """``nice``: the threads' scheduling priority, lowered (Linux: each thread has its own), so that long
    reads give way to the event loop and the SQLite writer when the CPUs are busy."""

    def __init__(self, threads: int, uow: UnitOfWorkFactory, nice: int = 0) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="db", initializer=_lower_priority,
                                        initargs=(nice,))
        self._uow = uow

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, self._uow, *args)

    async def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _lower_priority(nice: int) -> None:
    if nice and hasattr(os, "setpriority"):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
