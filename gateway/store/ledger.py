"""The ledger in SQL: immutable transfers, and the one balance kept as a row.

Only grantors' share balances are stored (``share_balances``), because only
they gate a payment: debited with ``UPDATE ... WHERE balance >= :amount`` (and a
CHECK constraint behind it). Region accounts (earmark, position) are sums of
transfers, so no per-region row is locked by every settlement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, func, literal, select, union_all

from gateway.domain.ledger import Transfer
from gateway.service.ports import Conflict
from gateway.store.tables import share_balances as balances
from gateway.store.tables import transfers


BALANCES = select(balances.c.account, balances.c.balance).where(
    balances.c.account.in_(bindparam("accounts", expanding=True))).order_by(balances.c.account)
LOCKED_BALANCES = BALANCES.with_for_update()
DEBIT = balances.update().where(balances.c.account == bindparam("key"), balances.c.balance >= bindparam("amount")) \
    .values(balance=balances.c.balance - bindparam("amount"))
CREDIT = balances.update().where(balances.c.account == bindparam("key")) \
    .values(balance=balances.c.balance + bindparam("amount"))
OPEN = balances.insert()
RECORD = transfers.insert()


def is_share(account: str) -> bool:
    return account.startswith("share:")


class SqlLedger:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def balances(self, accounts: list[str], lock: bool = False) -> dict[str, int]:
        """Share balances (0 when never funded); ``lock`` holds the rows until commit (PostgreSQL)."""
        query = LOCKED_BALANCES if lock else BALANCES
        found = {account: balance for account, balance in self._conn.execute(query, {"accounts": sorted(set(accounts))})}
        return {a: found.get(a, 0) for a in accounts}

    def post(self, entries: list[Transfer], at: datetime, settlement_seq: int | None = None) -> None:
        """Records transfers and moves the share balances they touch. A debit that would take a
        share balance below zero raises Conflict: the caller read a balance that has since moved."""
        if not entries:
            return
        for t in entries:
            if is_share(t.debit):
                if self._conn.execute(DEBIT, {"key": t.debit, "amount": t.amount}).rowcount != 1:
                    raise Conflict(f"balance of {t.debit} moved")
            if is_share(t.credit):
                if self._conn.execute(CREDIT, {"key": t.credit, "amount": t.amount}).rowcount == 0:
                    self._conn.execute(OPEN, {"account": t.credit, "balance": t.amount})
        self._conn.execute(RECORD, [
            {"debit": t.debit, "credit": t.credit, "amount": t.amount, "kind": t.kind.value,
             "settlement_seq": settlement_seq, "at": at} for t in entries])

    def totals(self, account: str) -> dict[str, int]:
        """Sum of amounts by transfer kind into and out of one account, e.g. ``{"fund": 5000}``."""
        rows = self._conn.execute(select(transfers.c.kind, func.sum(transfers.c.amount)).where(
            (transfers.c.debit == account) | (transfers.c.credit == account)).group_by(transfers.c.kind))
        return {kind: int(total) for kind, total in rows}

    def derived_balances(self) -> dict[str, int]:
        """Every account's balance computed from the transfers alone (credits minus debits)."""
        legs = union_all(
            select(transfers.c.credit.label("account"), transfers.c.amount.label("amount")),
            select(transfers.c.debit.label("account"), (literal(0) - transfers.c.amount).label("amount"))).subquery()
        rows = self._conn.execute(select(legs.c.account, func.sum(legs.c.amount)).group_by(legs.c.account))
        return {account: int(total) for account, total in rows}

    def stored_balances(self) -> dict[str, int]:
        return {account: balance for account, balance in self._conn.execute(select(balances.c.account, balances.c.balance))}


