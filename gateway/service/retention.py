"""How long the request log keeps answers for retries (AIP-155).

A request's answer is kept ``retention_days`` after it was given (default 30,
at least 1): a retry within that window gets the first answer; a retry after
it runs as a new request. So the window must be longer than any caller keeps
retrying. The gateway forgets older answers every hour, in batches of one
short transaction each, and ``copay-gateway prune`` does the same on demand.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway.service.once import in_transaction
from gateway.service.ports import UnitOfWorkFactory

BATCH = 1000


def cutoff(retention_days: float, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)


def forget_batch(uow_factory: UnitOfWorkFactory, before: datetime, limit: int = BATCH) -> int:
    """Forgets up to ``limit`` answers given before ``before``; returns how many."""
    return in_transaction(uow_factory, lambda uow: uow.requests.prune(before, limit))


def forget(uow_factory: UnitOfWorkFactory, before: datetime) -> int:
    """Forgets every answer given before ``before``, a batch at a time; returns how many."""
    total = 0
    while (done := forget_batch(uow_factory, before)) > 0:
        total += done
        if done < BATCH:
            break
    return total
