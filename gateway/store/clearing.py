"""Clearing lines, windows, their totals and confirmations (gateway.domain.clearing).

The window lock: on PostgreSQL a transaction-scoped advisory lock per day, shared by the transactions
that write lines into the window, exclusive for the one that closes it; it is released at commit or
rollback, so it works through a transaction-pooling PgBouncer too. On SQLite the one writer runs one
unit of work at a time, which is the same guarantee.

A close on SQLite would hold the one writer, and every settlement behind it, while it sums the day's lines
(about 2 s a million). So the sum is taken first outside the writer (``tally``, a read snapshot: lines are
numbered in commit order there, so the snapshot holds exactly the lines up to its highest number), and the
close in the writer adds only the lines numbered after it. On PostgreSQL a close blocks only the
transactions writing into its own day, and sums under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, text

from gateway.domain.clearing import Aggregate, ClearingLine, LineKind
from gateway.store.direct import Direct, insert, together
from gateway.store.tables import clearing_confirmations as confirmations
from gateway.store.tables import clearing_lines as lines
from gateway.store.tables import clearing_totals as totals
from gateway.store.tables import clearing_windows as windows

LOCK_CLASS = 0x436C  # the advisory-lock namespace of clearing windows ("Cl"); the day's ordinal is the key
LOCK_SHARED = Direct(select(func.pg_advisory_xact_lock_shared(bindparam("cls"), bindparam("day")).label("held")),
                     alone=True)
LOCK_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(:cls, :day)")
IS_CLOSED = Direct(select(windows.c.day).where(windows.c.day == bindparam("day")))
# Windows close in order, so a day at or before a closed one is closed (or was never open: a day before the
# first window, which takes no more lines either).
CLOSED_FROM = Direct(select(windows.c.day).where(windows.c.day >= bindparam("day")).limit(1))
ADD_LINE = Direct(insert(lines, "seq"))



GROUP = (lines.c.payer_region, lines.c.payee_region, lines.c.kind)
SUMS = select(*GROUP, func.count().label("lines"), func.sum(lines.c.amount).label("fen"))


@dataclass(frozen=True)
class Tally:
    """A day's lines summed up to line ``upto`` (per payer, payee and kind: lines, fen)."""
    upto: int
    sums: dict[tuple[str, str, str], tuple[int, int]]


def entering(conn: Connection, day: date) -> list[tuple[Direct, dict[str, Any]]]:
    """The reads that enter ``day``'s window: its lock (shared; PostgreSQL), then whether a window from it on
    is closed. Sent together, the check still comes after the lock is granted (each statement reads afresh)."""
    lock = [(LOCK_SHARED, {"cls": LOCK_CLASS, "day": day.toordinal()})] if conn.dialect.name == "postgresql" else []
    return [*lock, (CLOSED_FROM, {"day": day})]


class SqlClearing:
    def __init__(self, conn: Connection, ahead: dict[tuple[Any, ...], Any] | None = None) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"
        self._ahead = {} if ahead is None else ahead

    def _lock(self, day: date) -> None:
        if self._locks:
            self._conn.execute(LOCK_EXCLUSIVE, {"cls": LOCK_CLASS, "day": day.toordinal()})

    def enter(self, day: date) -> date:
        """The window a line written now, on ``day``, goes into: ``day`` if it is open, else the next open
        one; held open (its lock, shared) until this transaction ends."""
        if (closed := self._ahead.pop(("window", day), None)) is not None and not closed:
            return day  # entered ahead (the lock is held) and open
        while True:
            if not together(self._conn, entering(self._conn, day))[-1]:
                return day
            day += timedelta(days=1)

    def record(self, day: date, found: list[ClearingLine]) -> None:
        if found:
            ADD_LINE.queue_many(self._conn, [
                {"day": day, "name": line.name, "kind": line.kind.value, "payer_region": line.payer,
                 "payee_region": line.payee, "amount": line.amount, "settlement_seq": line.settlement_seq,
                 "at": line.at} for line in found])

    def tally(self, day: date) -> Tally | None:
        """The day's lines summed so far, for its close to finish (SQLite, in a read transaction); None where
        the close sums them itself (PostgreSQL, whose numbers are not in commit order)."""
        if self._locks:
            return None
        upto = self._conn.execute(select(func.coalesce(func.max(lines.c.seq), 0))).scalar_one()
        rows = self._conn.execute(SUMS.where(lines.c.day == day, lines.c.seq <= upto).group_by(*GROUP))
        return Tally(upto, {(r.payer_region, r.payee_region, r.kind): (r.lines, r.fen) for r in rows})

    def close(self, day: date, at: datetime, actor: str, tally: Tally | None = None) -> bool:
        """Closes the window (waiting for the transactions writing into it), with the sums of its lines:
        ``tally`` and those after it, or all; False if it was closed already."""
        self._lock(day)
        if IS_CLOSED.first(self._conn, {"day": day}) is not None:
            return False
        sums = dict(tally.sums) if tally else {}
        query = SUMS.add_columns(lines.c.day).group_by(lines.c.day, *GROUP)
        # After a tally, the lines numbered after it (a range of the primary key, any day: a few), else the day's.
        query = query.where(lines.c.seq > tally.upto) if tally else query.where(lines.c.day == day)
        for r in self._conn.execute(query):
            if r.day != day:
                continue
            count, fen = sums.get((r.payer_region, r.payee_region, r.kind), (0, 0))
            sums[(r.payer_region, r.payee_region, r.kind)] = (count + r.lines, fen + r.fen)
        if sums:
            self._conn.execute(totals.insert(), [
                {"day": day, "payer_region": payer, "payee_region": payee, "kind": kind, "lines": count, "fen": fen}
                for (payer, payee, kind), (count, fen) in sums.items()])
        count = sum(c for c, _ in sums.values())
        fen = sum(-f if kind == LineKind.REFUND.value else f for (_, _, kind), (_, f) in sums.items())
        self._conn.execute(windows.insert().values(day=day, closed_at=at, closed_by=actor, lines=count, fen=fen))
        return True

    def closed(self, day: date, lock: bool = False) -> Any | None:
        """The closed window's row (closed_at, closed_by, lines, fen), or None if it is open; ``lock``: held
        until this transaction ends (confirmations of the window, one at a time)."""
        query = select(windows).where(windows.c.day == day)
        return self._conn.execute(query.with_for_update() if lock and self._locks else query).first()

    def last_closed(self) -> date | None:
        return self._conn.execute(select(func.max(windows.c.day))).scalar()

    def first_closed(self) -> date | None:
        return self._conn.execute(select(func.min(windows.c.day))).scalar()

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
