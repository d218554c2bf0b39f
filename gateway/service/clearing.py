"""Clearing windows: recording lines, closing, statements, confirmations, reconciliation (gateway.domain.clearing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from gateway.domain.clearing import (ClearingLine, Figures, Statement, differing, has_ended, statement, window_end,
                                     window_of)
from gateway.domain.errors import Category, Refusal
from gateway.service.once import RequestKey, in_transaction, run_once
from gateway.service.ports import UnitOfWork, UnitOfWorkFactory

SYSTEM = "copay-gateway"  # the actor of an automatic close
MAX_CLOSE = 400  # windows closed in one call: a gateway that was down for longer catches up in a few


def record(uow: UnitOfWork, at: datetime | None, lines: list[ClearingLine]) -> None:
    """Writes a settlement's or refund's lines into the window open now (``at``: the time a test fixes)."""
    if lines:
        day = uow.clearing.enter(window_of(at or datetime.now(timezone.utc)))
        uow.clearing.record(day, lines)


@dataclass(frozen=True)
class Window:
    day: date
    closed_at: datetime | None = None
    closed_by: str = ""
    lines: int = 0
    fen: int = 0


def _window(row: Any) -> Window:
    return Window(row.day, row.closed_at, row.closed_by, row.lines, row.fen)


def _pending(uow: UnitOfWork, through: date) -> list[date]:
    """The open windows up to ``through``, oldest first: the closed windows are always a run of days (from the
    first day with a line, or the first closed), so these are the days after the last closed one; and, first,
    the days before the first closed one if a line is there. That can happen once: a line written, by a process
    whose clock ran a day behind, into a day before the first window while that window was being closed (with
    no closed window yet, its transaction could not see one). Those days have all ended and close whatever
    ``through`` says, counted back from the first window, so the closed days stay one run even when MAX_CLOSE
    cuts them short."""
    last, first = uow.clearing.last_closed(), uow.clearing.first_closed()
    early = uow.clearing.first_line_day(None)
    days: list[date] = []
    if first is not None and early is not None and early < first:
        day = first - timedelta(days=1)
        while day >= early and len(days) < MAX_CLOSE:
            days.append(day)
            day -= timedelta(days=1)
        days.reverse()
    day = last + timedelta(days=1) if last is not None else min(early or through, through)
    while day <= through and len(days) < MAX_CLOSE:
        days.append(day)
        day += timedelta(days=1)
    return days


def tallies(uow_factory: UnitOfWorkFactory, through: date, now: datetime | None = None) -> dict[date, Any]:
    """The sums so far of the windows a close through ``through`` would close, taken in a read transaction
    before it, so that the close itself adds only the lines after them (where the store can: see
    gateway.store.clearing); empty if ``through`` has not ended."""
    if not has_ended(through, now or datetime.now(timezone.utc)):
        return {}

    def work(uow: UnitOfWork) -> dict[date, Any]:
        return {day: tally for day in _pending(uow, through) if (tally := uow.clearing.tally(day)) is not None}

    return in_transaction(uow_factory, work, readonly=True)


def close_in(uow: UnitOfWork, through: date, actor: str, reason: str, now: datetime,
             tallies: dict[date, Any] | None = None) -> list[Window]:
    """Closes the window of ``through`` once its day has ended, and every earlier one still open (windows
    close in order, so the closed ones are always a run of days), in this unit of work; returns the windows
    it closed, each with an audit entry. Several processes may close at once: each window closes once."""
    if not has_ended(through, now):
        raise Refusal(Category.FAILED_PRECONDITION, "WINDOW_NOT_ENDED", f"the window {through} closes after its "
                      f"day ends, at {window_end(through).isoformat()}", metadata={"window": through.isoformat()})
    closed = []
    for day in _pending(uow, through):
        if uow.clearing.close(day, now, actor, (tallies or {}).get(day)):
            window = _window(uow.clearing.closed(day))
            uow.control.append_audit(now, actor, "clearing.window_closed", f"clearingWindows/{day}", reason, None,
                                     {"lines": window.lines, "net_paid_fen": window.fen})
            closed.append(window)
    return closed


def close(uow_factory: UnitOfWorkFactory, through: date, actor: str, now: datetime | None = None,
          reason: str = "the day has ended", tallies: dict[date, Any] | None = None) -> list[Window]:
    return in_transaction(uow_factory, lambda uow: close_in(uow, through, actor, reason,
                                                            now or datetime.now(timezone.utc), tallies))


def last_due(grace: timedelta, now: datetime | None = None) -> date:
    """The last window the gateway closes itself: its day ended more than ``grace`` ago."""
    return window_of((now or datetime.now(timezone.utc)) - grace) - timedelta(days=1)


def close_due(uow_factory: UnitOfWorkFactory, grace: timedelta, now: datetime | None = None,
              tallies: dict[date, Any] | None = None) -> list[Window]:
    """Closes every window whose day ended more than ``grace`` ago (the gateway's own close)."""
    now = now or datetime.now(timezone.utc)
    return close(uow_factory, last_due(grace, now), SYSTEM, now, tallies=tallies)


def windows(uow_factory: UnitOfWorkFactory, before: date | None, limit: int,
            now: datetime | None = None) -> list[Window]:
    """The windows, newest first, before ``before``: today's and the open ones with lines, then the closed ones."""
    today = window_of(now or datetime.now(timezone.utc))

    def work(uow: UnitOfWork) -> list[Window]:
        last = uow.clearing.last_closed()
        open_days, day = {today}, uow.clearing.first_line_day(last)
        while day is not None and day < today:
            open_days.add(day)
            day = uow.clearing.first_line_day(day)
        found = [Window(d) for d in sorted(open_days, reverse=True) if (before is None or d < before)
                 and uow.clearing.closed(d) is None]  # not closed since this listing began
        if len(found) < limit:
            found += [_window(row) for row in uow.clearing.closed_windows(before, limit - len(found))]
        return found[:limit]

    return in_transaction(uow_factory, work, readonly=True)


@dataclass(frozen=True)
class Confirmation:
    verdict: str
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class StatementView:
    statement: Statement
    window: Window
    history: tuple[Confirmation, ...]


def _closed(uow: UnitOfWork, day: date) -> Window:
    row = uow.clearing.closed(day)
    if row is None:
        raise Refusal(Category.FAILED_PRECONDITION, "WINDOW_OPEN", f"the window {day} is still open: its statement "
                      "exists once it is closed", metadata={"window": day.isoformat()})
    return _window(row)


def _view(uow: UnitOfWork, region: str, day: date) -> StatementView:
    window = _closed(uow, day)
    history = tuple(Confirmation(r.verdict, r.reason, r.actor, r.at) for r in uow.clearing.confirmations(day, region))
    return StatementView(statement(region, day, uow.clearing.aggregates(day, region)), window, history)


def get_statement(uow_factory: UnitOfWorkFactory, region: str, day: date) -> StatementView:
    return in_transaction(uow_factory, lambda uow: _view(uow, region, day), readonly=True)


def all_statements(uow_factory: UnitOfWorkFactory, day: date) -> list[Statement]:
    """Every region's statement of a closed window (the regions that have lines in it)."""
    def work(uow: UnitOfWork) -> list[Statement]:
        _closed(uow, day)
        aggregates = uow.clearing.aggregates(day, None)
        regions = sorted({a.payer for a in aggregates} | {a.payee for a in aggregates})
        return [statement(r, day, aggregates) for r in regions]

    return in_transaction(uow_factory, work, readonly=True)


def lines_page(uow_factory: UnitOfWorkFactory, region: str, day: date, after: str, size: int) -> tuple[list[Any], bool]:
    def work(uow: UnitOfWork) -> list[Any]:
        _closed(uow, day)
        return uow.clearing.lines(day, region, after, None, size + 1)

    rows = in_transaction(uow_factory, work, readonly=True)
    return rows[:size], len(rows) > size


def confirm(uow: UnitOfWork, region: str, day: date, verdict: str, reason: str, actor: str,
            now: datetime) -> StatementView:
    """A region confirms its statement (like 3261) or disputes it with a reason; a confirmed statement stays
    confirmed. Both go into the audit log."""
    uow.clearing.closed(day, lock=True)  # two answers for one statement at once: one after the other
    view = _view(uow, region, day)
    if any(c.verdict == "confirmed" for c in view.history):
        raise Refusal(Category.FAILED_PRECONDITION, "STATEMENT_CONFIRMED", f"region {region} confirmed its "
                      f"statement of {day} already", metadata={"window": day.isoformat()})
    uow.clearing.confirm(day, region, verdict, reason, actor, now)
    uow.control.append_audit(now, actor, f"clearing.{verdict}", f"regions/{region}/clearingStatements/{day}",
                             reason, None, {"net_fen": view.statement.totals.net_fen,
                                            "lines": view.window.lines})
    return _view(uow, region, day)


def reconcile_totals(uow_factory: UnitOfWorkFactory, region: str, day: date,
                     theirs: Figures) -> tuple[Figures, list[tuple[str, int, int]]]:
    """The gateway's totals for the region, and (figure, gateway's, region's) where the region's differ (3201)."""
    ours = get_statement(uow_factory, region, day).statement.totals
    return ours, differing(ours, theirs)


def gateway_lines(uow_factory: UnitOfWorkFactory, region: str, day: date, after: str, upto: str | None,
                  limit: int) -> list[tuple[str, int]]:
    """(name, fen) of the window's lines of the region with names after ``after`` (up to ``upto``), in order."""
    def work(uow: UnitOfWork) -> list[tuple[str, int]]:
        _closed(uow, day)
        return [(r.name, r.amount) for r in uow.clearing.lines(day, region, after, upto, limit)]

    return in_transaction(uow_factory, work, readonly=True)


def close_once(uow_factory: UnitOfWorkFactory, through: date, actor: str, reason: str, key: RequestKey,
               render: Callable[[Window], bytes], tallies: dict[date, Any] | None = None) -> bytes:
    """An operator's close (exactly once per request): the window of ``through`` as it is afterwards."""
    def work(uow: UnitOfWork) -> Window:
        close_in(uow, through, actor, reason, datetime.now(timezone.utc), tallies)
        if (row := uow.clearing.closed(through)) is None:
            raise Refusal(Category.FAILED_PRECONDITION, "WINDOW_NOT_CLOSABLE", f"the window {through} cannot close: "
                          "windows close in order, from the first day with a line, at most "
                          f"{MAX_CLOSE} at once", metadata={"window": through.isoformat()})
        return _window(row)

    return run_once(uow_factory, key, work, render)


def confirm_once(uow_factory: UnitOfWorkFactory, region: str, day: date, verdict: str, reason: str, actor: str,
                 key: RequestKey, render: Callable[[StatementView], bytes]) -> bytes:
    return run_once(uow_factory, key, lambda uow: confirm(uow, region, day, verdict, reason, actor,
                                                          datetime.now(timezone.utc)), render)


CSV_HEADER = ("name", "kind", "payer_region", "payee_region", "amount_fen", "time")


def statement_csv(uow: UnitOfWork, region: str, day: date, page: int = 1000) -> Iterator[tuple[Any, ...]]:
    """The region's statement of a closed window as CSV rows: its lines in order of name, a page at a time,
    then one summary row per counterparty (``counterparty:{admdvs}``, its figures) and the totals."""
    view = _view(uow, region, day)
    yield CSV_HEADER
    after = ""
    while rows := uow.clearing.lines(day, region, after, None, page):
        for r in rows:
            yield r.name, r.kind, r.payer_region, r.payee_region, r.amount, r.at.isoformat()
        after = rows[-1].name
    names = [name for name, _ in Figures().items()]
    yield ("summary", *names, "net_fen")
    for other, figures in [*view.statement.counterparties.items(), ("all", view.statement.totals)]:
        yield (f"counterparty:{other}" if other != "all" else "totals", *(v for _, v in figures.items()),
               figures.net_fen)
