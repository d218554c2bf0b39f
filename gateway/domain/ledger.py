"""The mutual-aid ledger: double entry over named accounts, integer fen.

Accounts (a key each):

* ``share:{region}:{psn_no}`` a grantor's shareable balance, earmarked from the
  personal account (the 2026 "virtual limit"); never below zero.
* ``earmark:{region}``         the region's side of what it earmarked: minus
  what its grantors may still spend.
* ``position:{region}``        the region's clearing position: plus what other
  regions owe it for treatments it settled, minus what it owes.

A transfer moves ``amount`` (> 0) from ``debit`` to ``credit``; an account's
balance is its credits minus its debits. Transfers are never edited: a refund
is a transfer back. A settlement line paid by grantor G of region R for a
treatment in region T is two transfers:

    share:R:G  -> position:T   (T is owed the money)
    position:R -> earmark:R    (R owes it; the earmark is spent)

so every transfer balances, all balances sum to zero, and the positions of all
regions sum to zero: the invariants a test checks after any step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.domain.bindings import Party

MAX_FEN = 10**13  # 100 billion yuan: far above any bill, far below 2**63


class Kind(StrEnum):
    FUND = "fund"
    RELEASE = "release"
    SETTLE = "settle"
    CLEAR = "clear"
    REFUND = "refund"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Transfer:
    debit: str
    credit: str
    amount: int
    kind: Kind

    def __post_init__(self) -> None:
        if not 0 < self.amount <= MAX_FEN or self.debit == self.credit:
            raise ValueError(f"unbalanced or empty transfer: {self}")


def share(grantor: Party) -> str:
    return f"share:{grantor.region}:{grantor.psn_no}"


def earmark(region: str) -> str:
    return f"earmark:{region}"


def position(region: str) -> str:
    return f"position:{region}"


def fund(grantor: Party, amount: int) -> list[Transfer]:
    return [Transfer(earmark(grantor.region), share(grantor), amount, Kind.FUND)]


def release(grantor: Party, amount: int) -> list[Transfer]:
    """In transfers of at most MAX_FEN: refunds can take a balance a little past it."""
    return [Transfer(share(grantor), earmark(grantor.region), min(MAX_FEN, amount - start), Kind.RELEASE)
            for start in range(0, amount, MAX_FEN)]


def pay(grantor: Party, treatment_region: str, amount: int) -> list[Transfer]:
    return [Transfer(share(grantor), position(treatment_region), amount, Kind.SETTLE),
            Transfer(position(grantor.region), earmark(grantor.region), amount, Kind.CLEAR)]


def refund(grantor: Party, treatment_region: str, amount: int) -> list[Transfer]:
    return [Transfer(position(treatment_region), share(grantor), amount, Kind.REFUND),
            Transfer(earmark(grantor.region), position(grantor.region), amount, Kind.UNCLEAR)]
