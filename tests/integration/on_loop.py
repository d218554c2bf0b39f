"""Settlements as the gateway runs them on PostgreSQL (the servicer over the event loop's runner, without
gRPC), and what a test reads of the database beside them."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from sqlalchemy import Engine, text

from gateway import policies
from gateway._proto.copay.v1 import settlements_pb2 as spb
from gateway.api.settlements import SettlementsServicer
from gateway.bench import world
from gateway.bench.run import claim
from gateway.domain.identity import IdHasher
from gateway.security.principal import Kind, Principal
from gateway.store.db import make_loop_engine
from gateway.store.postgres.loop import LoopRunner
from gateway.store.unit_of_work import factory

CALLER = Principal(Kind.REGION, world.REGION)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Until ``check()`` holds, 20 s at most (then fails, saying ``what``)."""
    deadline = time.monotonic() + 20
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


def waiting_on_locks(engine: Engine) -> int:
    """Sessions of the engine's database waiting for a lock."""
    return scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND wait_event_type = 'Lock'")


def settlements(database_url: str, hasher: IdHasher,
                slots: int = 2) -> tuple[Engine, LoopRunner, Callable[[str], Awaitable[Any]]]:
    """The event loop's engine, its runner, and ``settle(request_id)``: beneficiary 0's claim of 100 fen
    (gateway.bench.world), settled by the servicer as region 320300 (its answer, or its refusal raised)."""
    on_loop = make_loop_engine(database_url, slots)
    runner = LoopRunner(slots, on_loop, factory(on_loop))
    servicer = SettlementsServicer(runner, hasher, policies.load())

    def settle(request_id: str) -> Awaitable[Any]:
        return servicer.Settle.__wrapped__(servicer, spb.SettleRequest(request_id=request_id, claim=claim(0)),
                                           None, CALLER)

    return on_loop, runner, settle
