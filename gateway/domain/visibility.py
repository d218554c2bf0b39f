"""What a region may see of a settlement or a quote, decided before anything is shown.

A settlement concerns three kinds of region: the one that settled it (the
treatment region; the beneficiary's own region for a premium), the
beneficiary's insuring region, and the region of each grantor who paid.

* The beneficiary's region sees everything: it is the patient's spending
  record (支出明细, R15), with every grantor who paid for them.
* The treatment region sees the bill it settled, the totals (what mutual aid
  paid, the cash the patient owes, refunds) and, per line, the amount and the
  paying region, which owes it that amount in clearing; not which grantor or
  binding paid: it has no need to know the patient's family.
* A grantor's region that is neither sees the bill and its own grantors' lines
  in full (R15: the payments made under its grantors' bindings); the totals
  over all grantors would tell it what other regions' grantors paid, so they
  are left out.
* Any other region sees nothing: it gets the same refusal whether or not the
  settlement exists (AIP-211).

A quote (pre-settlement) moves nothing, so it shows least: its lines, which
would read out each grantor's balance, go only to the beneficiary's region; a
treatment region elsewhere sees the totals it needs to collect the right cash.
That sum is still the sum of the balances when they fall short, which a
treatment region must know to charge the patient; it learns it only for a
patient whose own credential it presents (R8).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.settlements import PaidLine, Settlement


@dataclass(frozen=True)
class ShownLine:
    line: PaidLine
    named: bool  # whether the grantor and the binding are shown


@dataclass(frozen=True)
class SettlementView:
    settlement: Settlement
    lines: tuple[ShownLine, ...]
    totals: bool  # whether the totals over all grantors are shown


def settlement_view(settlement: Settlement, region: str) -> SettlementView | None:
    """What ``region`` may see of ``settlement``; None if it is no party to it."""
    whole = region in (settlement.treatment_region, settlement.beneficiary.region)
    lines = tuple(ShownLine(line, region in (settlement.beneficiary.region, line.grantor.region))
                  for line in settlement.lines if whole or line.grantor.region == region)
    if not whole and not lines:
        return None
    return SettlementView(settlement, lines, totals=whole)


def quote_lines_shown(beneficiary_region: str, region: str) -> bool:
    return region == beneficiary_region
