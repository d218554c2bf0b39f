"""Units of work on the event loop itself (PostgreSQL): the gateway's calls run their database work here.

In threads, each wait on the database's socket let go of the interpreter's lock and took it back, and under
load the event loop's thread held it most of the time: every take was a sleep and a wake-up, about 50 thread
switches a settlement, more CPU than the statements themselves (README, Benchmark). Here the work runs in a
greenlet on the loop's thread (SQLAlchemy's bridge: the repositories and the service stay ordinary code), each
wait on the database gives the loop back to the other calls, and no lock changes hands.

Nothing in this work may block the thread: a ``threading.Lock`` held across a database read would stop the
loop for good (gateway.store.control holds its lock only to compare and set). Long reads (a clearing window's
sums and detail) run in threads of their own (``ThreadPoolRunner`` on a blocking engine), so a large result
set is not converted on the loop."""

from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

from sqlalchemy import Engine
from sqlalchemy.util import greenlet_spawn

from gateway.service.ports import UnitOfWorkFactory

T = TypeVar("T")


class LoopRunner:
    """At most ``slots`` units of work at once (the pool's size: none waits for a connection)."""

    def __init__(self, slots: int, engine: Engine, uow: UnitOfWorkFactory) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._engine = engine
        self._uow = uow

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        async with self._slots:
            return await greenlet_spawn(fn, self._uow, *args)

    async def shutdown(self) -> None:
        await greenlet_spawn(self._engine.dispose)
