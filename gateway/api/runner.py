"""Where servicers run blocking database work.

SQLite: ``gateway.store.group_commit.GroupCommit``, inline on the event loop,
calls committed in groups. PostgreSQL: ``ThreadPoolRunner``, so the
event loop keeps serving while a query waits on the network, each unit of
work a transaction of its own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Protocol, TypeVar

T = TypeVar("T")


class Runner(Protocol):
    async def __call__(self, fn: Callable[..., T], *args: object) -> T: ...
    def shutdown(self) -> None: ...


class ThreadPoolRunner:
    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="db")

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
