"""Cross-province traffic per province pair and minute, for the operator console: settlements allowed and
refused (by reason) at a pair (R5). Each gateway process counts what it answered (``Counts``, on the event
loop) and adds it to the database every few seconds (``record``), so the console of any process shows all
of them; what a process counted in its last few seconds before a crash is lost (the figures are for
watching a rollout, not for money: the money is in the ledger)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from gateway.service.once import in_transaction
from gateway.service.ports import UnitOfWorkFactory

KEEP = timedelta(hours=2)  # minutes older than this are deleted when counts are added
WINDOW_MINUTES = 60  # what the console shows
ALLOWED = "allowed"

Key = tuple[datetime, str, str, str]  # (minute, grantor province, other province, outcome)


def minute_of(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(second=0, microsecond=0)


class Counts:
    """One process's counts not yet in the database."""

    def __init__(self) -> None:
        self._counts: dict[Key, int] = {}

    def add(self, grantor_province: str, other_province: str, outcome: str, at: datetime | None = None) -> None:
        key = (minute_of(at or datetime.now(timezone.utc)), grantor_province, other_province, outcome)
        self._counts[key] = self._counts.get(key, 0) + 1

    def take(self) -> dict[Key, int]:
        counts, self._counts = self._counts, {}
        return counts

    def put_back(self, counts: dict[Key, int], now: datetime | None = None) -> None:
        """After a failed write: kept for the next one, except minutes too old to be kept anyway (a bound)."""
        oldest = minute_of(now or datetime.now(timezone.utc)) - KEEP
        for key, count in counts.items():
            if key[0] >= oldest:
                self._counts[key] = self._counts.get(key, 0) + count


def record(uow_factory: UnitOfWorkFactory, counts: dict[Key, int], now: datetime | None = None) -> None:
    def work(uow) -> None:  # type: ignore[no-untyped-def]
        uow.traffic.add(counts)
        uow.traffic.forget(minute_of(now or datetime.now(timezone.utc)) - KEEP)
    in_transaction(uow_factory, work)


@dataclass
class PairTraffic:
    grantor_province: str
    other_province: str
    allowed: list[int] = field(default_factory=lambda: [0] * WINDOW_MINUTES)
    refused: dict[str, list[int]] = field(default_factory=dict)  # reason -> per minute


@dataclass(frozen=True)
class LastHour:
    start: datetime  # the first minute shown; the last is the current one
    pairs: list[PairTraffic]


def last_hour(uow_factory: UnitOfWorkFactory, now: datetime | None = None) -> LastHour:
    start = minute_of(now or datetime.now(timezone.utc)) - timedelta(minutes=WINDOW_MINUTES - 1)
    rows = in_transaction(uow_factory, lambda uow: uow.traffic.since(start), readonly=True)
    pairs: dict[tuple[str, str], PairTraffic] = {}
    for minute, grantor, other, outcome, count in rows:
        index = int((minute - start).total_seconds()) // 60
        if not 0 <= index < WINDOW_MINUTES:
            continue  # a process whose clock runs ahead
        pair = pairs.setdefault((grantor, other), PairTraffic(grantor, other))
        series = pair.allowed if outcome == ALLOWED else pair.refused.setdefault(outcome, [0] * WINDOW_MINUTES)
        series[index] += count
    return LastHour(start, [pairs[k] for k in sorted(pairs)])
