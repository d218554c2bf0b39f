"""Clearing between regions: what each region's grantors paid in other regions, by day.

A settlement line paid by a grantor of region P for a treatment in region T means P owes T the amount;
a refund of it means T owes it back. Each such movement is a *clearing line*, and each clearing line
belongs to exactly one *window*: a calendar day in Asia/Shanghai.

Windows, and why a line can never slip between two of them or land in a closed one:

* A line is written in the same transaction as the settlement or refund it clears, into the window of
  the day on the clock read inside that transaction, and only while that window is open: the
  transaction holds the window's lock (shared) from before it reads whether the window is closed
  until its commit. A window that is closed already sends the line to the next day's window.
* Closing a window takes the same lock exclusively: it waits for every transaction that is writing
  into the window to commit, and any that comes later finds the window closed. So a closed window
  holds exactly the lines committed into it, and a line is in the window whose lock its commit held.
  (PostgreSQL: transaction-scoped advisory locks; SQLite: its one writer runs one thing at a time.)
* A window closes once its day has ended: by an operator, or by the gateway itself when the day ended
  more than the grace period ago (``COPAY_CLEARING_GRACE_MINUTES``). Closing freezes it: its totals are
  computed once, at the close, and never change.

A region's *statement* of a closed window: per counterparty region, the count and sum of the lines it
owes (payable: its grantors paid there), of the refunds of those, of the lines it is owed (receivable:
treatments it settled), of their refunds, and the net (receivable minus payable, refunds taken off). A
line within one region (grantor and treatment in the same region) is both payable and receivable to the
region itself: it nets to zero, and it is there so that the statement counts every line the region has.
The nets of all regions sum to zero, and over all windows they equal the ledger's clearing positions.

Reconciliation (like the national 3201/3202): a region sends its own totals and gets MATCH or the
figures that differ; or it sends its own detail list, in order of line name (byte order), and gets
back exactly the lines only the gateway has, the lines only it has, and the amounts that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Iterable, Iterator

from gateway.domain.clock import CHINA, china_day


class LineKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True)
class ClearingLine:
    """One movement between two regions: ``payer`` owes ``payee`` (a payment) or is owed back (a refund)."""
    name: str  # regions/{T}/settlements/{id}/lines/{n}, or .../refunds/{k}/lines/{n}
    kind: LineKind
    payer: str  # the grantor's region
    payee: str  # the treatment region
    amount: int
    at: datetime
    settlement_seq: int = 0


def payment_line(treatment_region: str, settlement_id: str, position: int) -> str:
    return f"regions/{treatment_region}/settlements/{settlement_id}/lines/{position}"


def refund_line(treatment_region: str, settlement_id: str, refund_number: int, position: int) -> str:
    """``refund_number``: the settlement's first refund is 1, in the order they were made."""
    return f"regions/{treatment_region}/settlements/{settlement_id}/refunds/{refund_number}/lines/{position}"


def window_of(at: datetime) -> date:
    return china_day(at)


def window_end(window: date) -> datetime:
    """When the window's day ends (midnight in Asia/Shanghai)."""
    return datetime.combine(window + timedelta(days=1), datetime.min.time(), CHINA)


def has_ended(window: date, now: datetime) -> bool:
    return now >= window_end(window)


@dataclass(frozen=True)
class Aggregate:
    """The count and sum of one window's lines from one payer to one payee, of one kind."""
    payer: str
    payee: str
    kind: LineKind
    count: int
    fen: int


@dataclass
class Figures:
    """A region's figures against one counterparty (or against all of them: its totals)."""
    payable_count: int = 0
    payable_fen: int = 0
    payable_refund_count: int = 0
    payable_refund_fen: int = 0
    receivable_count: int = 0
    receivable_fen: int = 0
    receivable_refund_count: int = 0
    receivable_refund_fen: int = 0

    @property
    def net_fen(self) -> int:
        """What the region is owed (positive) or owes (negative)."""
        return (self.receivable_fen - self.receivable_refund_fen) - (self.payable_fen - self.payable_refund_fen)

    def add(self, other: "Figures") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def items(self) -> Iterator[tuple[str, int]]:
        return ((f.name, getattr(self, f.name)) for f in fields(self))


@dataclass
class Statement:
    region: str
    window: date
    counterparties: dict[str, Figures] = field(default_factory=dict)

    @property
    def totals(self) -> Figures:
        total = Figures()
        for figures in self.counterparties.values():
            total.add(figures)
        return total


def statement(region: str, window: date, aggregates: Iterable[Aggregate]) -> Statement:
    """Region's statement from the window's aggregates (those that involve it)."""
    result = Statement(region, window)
    for a in aggregates:
        refund = a.kind is LineKind.REFUND
        if a.payer == region:
            f = result.counterparties.setdefault(a.payee, Figures())
            if refund:
                f.payable_refund_count += a.count
                f.payable_refund_fen += a.fen
            else:
                f.payable_count += a.count
                f.payable_fen += a.fen
        if a.payee == region:
            f = result.counterparties.setdefault(a.payer, Figures())
            if refund:
                f.receivable_refund_count += a.count
                f.receivable_refund_fen += a.fen
            else:
                f.receivable_count += a.count
                f.receivable_fen += a.fen
    result.counterparties = dict(sorted(result.counterparties.items()))
    return result


def differing(gateway: Figures, region: Figures) -> list[tuple[str, int, int]]:
    """(figure, the gateway's, the region's) for each figure that differs (3201)."""
    theirs = dict(region.items())
    return [(name, ours, theirs[name]) for name, ours in gateway.items() if ours != theirs[name]]


@dataclass
class LineDifferences:
    """What a detail reconciliation found (3202); each list capped at ``cap`` entries, the counts exact."""
    cap: int
    only_at_gateway: list[tuple[str, int]] = field(default_factory=list)
    only_at_region: list[tuple[str, int]] = field(default_factory=list)
    amounts_differ: list[tuple[str, int, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"only_at_gateway": 0, "only_at_region": 0,
                                                            "amounts_differ": 0, "matched": 0})

    def note(self, kind: str, entry: tuple) -> None:  # type: ignore[type-arg]
        self.counts[kind] += 1
        found = getattr(self, kind)
        if len(found) < self.cap:
            found.append(entry)

    @property
    def clean(self) -> bool:
        return not (self.counts["only_at_gateway"] or self.counts["only_at_region"] or self.counts["amounts_differ"])


def merge(gateway: Iterable[tuple[str, int]], region: Iterable[tuple[str, int]], found: LineDifferences) -> None:
    """Compares two lists of (line name, fen), each in ascending order of name, and notes every difference."""
    ours, theirs = iter(gateway), iter(region)
    a, b = next(ours, None), next(theirs, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            found.note("only_at_gateway", a)
            a = next(ours, None)
        elif a is None or b[0] < a[0]:
            found.note("only_at_region", b)
            b = next(theirs, None)
        else:
            if a[1] == b[1]:
                found.counts["matched"] += 1
            else:
                found.note("amounts_differ", (a[0], a[1], b[1]))
            a, b = next(ours, None), next(theirs, None)
