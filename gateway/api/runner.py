"""Where servicers run blocking database work.

PostgreSQL: a thread pool, so the event loop keeps serving while a query
waits on the network. SQLite: inline on the event loop. SQLite has one writer,
and a statement is microseconds of CPU, less than the hop to a thread and back;
the catch is that a lock held by another process (busy timeout) stalls the
loop, so the embedded default is meant for one gateway process.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

T = TypeVar("T")


class Runner:
    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="db") if threads else None

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        if self._pool is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
