"""Clearing lines, windows, their totals and confirmations (gateway.domain.clearing).

The window lock: on PostgreSQL a transaction-scoped advisory lock per day, shared by the transactions
that write lines into the window, exclusive for the one that closes it; it is released at commit or
rollback, so it works through a transaction-pooling PgBouncer too. On SQLite the one writer runs one
unit of work at a time, which is the same guarantee.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select, text

from gateway.domain.clearing import Aggregate, ClearingLine, LineKind
from gateway.store.direct import Direct, insert
from gateway.store.tables import clearing_confirmations as confirmations
from gateway.store.tables import clearing_lines as lines
from gateway.store.tables import clearing_totals as totals
from gateway.store.tables import clearing_windows as windows

LOCK_CLASS = 0x436C  # the advisory-lock namespace of clearing windows ("Cl"); the day's ordinal is the key
LOCK_SHARED = text("SELECT pg_advisory_xact_lock_shared(:cls, :day)")
LOCK_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(:cls, :day)")
IS_CLOSED = Direct(select(windows.c.day).where(windows.c.day == bindparam("day")))
# Windows close in order, so a day at or before a closed one is closed (or was never open: a day before the
# first window, which takes no more lines either).
CLOSED_FROM = Direct(select(windows.c.day).where(windows.c.day >= bindparam("day")).limit(1))
ADD_LINE = Direct(insert(lines, "seq"))


class SqlClearing:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def _lock(self, day: date, exclusive: bool) -> None:
        if self._locks:
            self._conn.execute(LOCK_EXCLUSIVE if exclusive else LOCK_SHARED, {"cls": LOCK_CLASS,
                                                                                "day": day.toordinal()})

    def enter(self, day: date) -> date:
        """The window a line written now, on ``day``, goes into: ``day`` if it is open, else the next open
        one; held open (its lock, shared) until this transaction ends."""
        while True:
            self._lock(day, exclusive=False)
            if CLOSED_FROM.first(self._conn, {"day": day}) is None:
                return day
            day += timedelta(days=1)

    def record(self, day: date, found: list[ClearingLine]) -> None:
        if found:
            ADD_LINE.run_many(self._conn, [
                {"day": day, "name": line.name, "kind": line.kind.value, "payer_region": line.payer,
                 "payee_region": line.payee, "amount": line.amount, "settlement_seq": line.settlement_seq,
                 "at": line.at} for line in found])

    def close(self, day: date, at: datetime, actor: str) -> bool:
        """Closes the window (waiting for the transactions writing into it); False if it was closed already."""
        self._lock(day, exclusive=True)
        if IS_CLOSED.first(self._conn, {"day": day}) is not None:
            return False
        grouped = select(lines.c.day, lines.c.payer_region, lines.c.payee_region, lines.c.kind,
                         func.count().label("lines"), func.sum(lines.c.amount).label("fen")) \
            .where(lines.c.day == day).group_by(lines.c.day, lines.c.payer_region, lines.c.payee_region, lines.c.kind)
        self._conn.execute(totals.insert().from_select(
            ["day", "payer_region", "payee_region", "kind", "lines", "fen"], grouped))
        count, fen = self._conn.execute(
            select(func.coalesce(func.sum(totals.c.lines), 0),
                   func.coalesce(func.sum(case((totals.c.kind == LineKind.REFUND.value, -totals.c.fen),
                                               else_=totals.c.fen)), 0))
            .where(totals.c.day == day)).one()
        self._conn.execute(windows.insert().values(day=day, closed_at=at, closed_by=actor, lines=count, fen=fen))
        return True

    def closed(self, day: date, lock: bool = False) -> Any | None:
        """The closed window's row (closed_at, closed_by, lines, fen), or None if it is open; ``lock``: held
        until this transaction ends (confirmations of the window, one at a time)."""
        query = select(windows).where(windows.c.day == day)
        return self._conn.execute(query.with_for_update() if lock and self._locks else query).first()

    def last_closed(self) -> date | None:
        return self._conn.execute(select(func.max(windows.c.day))).scalar()

    def first_line_day(self, after: date | None) -> date | None:
        """The earliest day with a line, after ``after``: one index lookup."""
        query = select(func.min(lines.c.day))
        if after is not None:
            query = query.where(lines.c.day > after)
        return self._conn.execute(query).scalar()

    def closed_windows(self, before: date | None, limit: int) -> list[Any]:
        query = select(windows).order_by(windows.c.day.desc()).limit(limit)
        if before is not None:
            query = query.where(windows.c.day < before)
        return list(self._conn.execute(query))

    def aggregates(self, day: date, region: str | None) -> list[Aggregate]:
        """A closed window's totals, those involving ``region`` (or all)."""
        query = select(totals).where(totals.c.day == day)
        if region is not None:
            query = query.where(or_(totals.c.payer_region == region, totals.c.payee_region == region))
        return [Aggregate(r.payer_region, r.payee_region, LineKind(r.kind), r.lines, r.fen)
                for r in self._conn.execute(query)]

    def lines(self, day: date, region: str, after: str, upto: str | None, limit: int) -> list[Any]:
        """The window's lines involving ``region``, in order of name, after ``after`` (and up to ``upto``):
        one ordered index range per side (owed, owed-to), merged; a line within one region once."""
        found: dict[str, Any] = {}
        for side in (lines.c.payer_region, lines.c.payee_region):
            query = select(lines).where(lines.c.day == day, side == region, lines.c.name > after)
            if upto is not None:
                query = query.where(lines.c.name <= upto)
            for row in self._conn.execute(query.order_by(lines.c.name).limit(limit)):
                found[row.name] = row
        # The first ``limit`` names are complete: a side cut at ``limit`` rows has that many up to its last name.
        return [found[name] for name in sorted(found)[:limit]]

    def confirm(self, day: date, region: str, verdict: str, reason: str, actor: str, at: datetime) -> None:
        self._conn.execute(confirmations.insert().values(day=day, region=region, verdict=verdict, reason=reason,
                                                         actor=actor, at=at))

    def confirmations(self, day: date, region: str) -> list[Any]:
        """The region's confirmations and disputes of the window, oldest first."""
        return list(self._conn.execute(select(confirmations).where(
            confirmations.c.day == day, confirmations.c.region == region).order_by(confirmations.c.seq)))
