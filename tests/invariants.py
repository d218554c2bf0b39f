"""The ledger's invariants, checkable at any moment against a real database."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from gateway.store.ledger import SqlLedger
from gateway.store.tables import refunds, settlement_lines, transfers


def check_ledger(engine: Engine) -> dict[str, int]:
    """Asserts every invariant; returns the share balances."""
    with engine.connect() as conn:
        ledger = SqlLedger(conn)
        derived, stored = ledger.derived_balances(), ledger.stored_accounts()
        totals = ledger.derived_totals()
        bad = conn.execute(select(func.count()).select_from(transfers).where(
            (transfers.c.amount <= 0) | (transfers.c.debit == transfers.c.credit))).scalar_one()
        refunded = conn.execute(select(func.coalesce(func.sum(settlement_lines.c.refunded), 0))).scalar_one()
        refund_total = conn.execute(select(func.coalesce(func.sum(refunds.c.amount), 0))).scalar_one()
        over = conn.execute(select(func.count()).select_from(settlement_lines).where(
            settlement_lines.c.refunded > settlement_lines.c.amount)).scalar_one()
    assert bad == 0, "every transfer moves a positive amount between two accounts"
    assert sum(derived.values()) == 0, "all balances sum to zero"
    assert sum(v for k, v in derived.items() if k.startswith("position:")) == 0, "positions sum to zero"
    shares = {k: v for k, v in derived.items() if k.startswith("share:")}
    assert all(v >= 0 for v in shares.values()), "no grantor balance below zero"
    assert {k: v["balance"] for k, v in stored.items() if v["balance"] or k in shares} == shares, \
        "stored balances match the transfers"
    assert all(stored[k][name] == total for (k, name), total in totals.items()), "running totals match the transfers"
    assert refunded == refund_total and over == 0, "refunds match their lines and never exceed what was paid"
    return shares
