"""Operators' state for tests that drive the store in-process (e2e tests go through AdminService)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import Engine

from gateway.domain.rollout import PairLimits
from gateway.service.once import in_transaction
from gateway.store import unit_of_work


def set_pair(engine: Engine, one: str, other: str, is_open: bool, limits: PairLimits | None = None,
             both_ways: bool = True) -> None:
    """Switches the pair (both directions by default) as an operator would, with an audit entry."""

    def work(uow) -> None:  # type: ignore[no-untyped-def]
        control = uow.control.lock()
        now = datetime.now(timezone.utc)
        for a, b in ((one, other), (other, one))[: 2 if both_ways else 1]:
            pair = control.pair(a, b)
            uow.control.put_pair(replace(pair, open=is_open, limits=limits or pair.limits), now, "operator/test")
        uow.control.append_audit(now, "operator/test", "test.pair", f"provincePairs/{one}-{other}", "test", None,
                                 {"open": is_open})

    in_transaction(unit_of_work.factory(engine), work)
