"""The ledger in SQL: immutable transfers, and one row per grantor's share account.

Only grantors' share accounts are stored as rows (``share_accounts``), because
only they gate a payment: debited with ``UPDATE ... WHERE balance >= :amount``
(and a CHECK constraint behind it), with running totals by transfer kind kept
in the same row. Region accounts (earmark, position) are sums of transfers, so
no per-region row is locked by every settlement, and transfers need no index
but their key: inserts stay cheap however long the history grows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, literal, select, union_all

from gateway.domain.ledger import Kind, Transfer
from gateway.service.ports import Conflict
from gateway.store.direct import Direct, insert, together
from gateway.store.postgres.queue import queues
from gateway.store.tables import share_accounts as accounts
from gateway.store.tables import transfers

TOTALS = ("funded", "released", "spent", "refunded")
BALANCE = select(accounts.c.balance).where(accounts.c.account == bindparam("key"))
BALANCES = {False: Direct(BALANCE), True: Direct(BALANCE.with_for_update())}
ACCOUNT = select(accounts).where(accounts.c.account == bindparam("key"))
# Which running total a transfer moves on the share account it debits or credits.
DEBITS = {Kind.SETTLE: "spent", Kind.RELEASE: "released"}
CREDITS = {Kind.FUND: "funded", Kind.REFUND: "refunded"}
DEBIT = {kind: Direct(accounts.update().where(accounts.c.account == bindparam("key"), accounts.c.balance >= bindparam("amount"))
         .values({accounts.c.balance: accounts.c.balance - bindparam("amount"),
                  accounts.c[total]: accounts.c[total] + bindparam("amount")})) for kind, total in DEBITS.items()}
CREDIT = {kind: Direct(accounts.update().where(accounts.c.account == bindparam("key"))
          .values({accounts.c.balance: accounts.c.balance + bindparam("amount"),
                   accounts.c[total]: accounts.c[total] + bindparam("amount")})) for kind, total in CREDITS.items()}
# A debit of a row this transaction holds locked (PostgreSQL): it exists and cannot move, and the CHECK
# (balance >= 0) stands behind it, failing the commit (a Conflict: the work is retried) if the reading was wrong.
DEBIT_LOCKED = {kind: Direct(accounts.update().where(accounts.c.account == bindparam("key"))
                .values({accounts.c.balance: accounts.c.balance - bindparam("amount"),
                         accounts.c[total]: accounts.c[total] + bindparam("amount")})) for kind, total in DEBITS.items()}
OPEN = Direct(insert(accounts))
RECORD = Direct(insert(transfers, "id"))


def is_share(account: str) -> bool:
    return account.startswith("share:")


class SqlLedger:
    def __init__(self, conn: Connection, ahead: dict[tuple[Any, ...], Any] | None = None) -> None:
        self._conn = conn
        self._ahead = {} if ahead is None else ahead
        self._locked: set[str] = set()  # share rows this transaction holds (PostgreSQL)

    def balances(self, keys: list[str], lock: bool = False) -> dict[str, int]:
        """Share balances (0 when never funded), read together; ``lock`` holds the rows until commit
        (PostgreSQL). Rows a settlement read ahead, locked (gateway.store.settlements.ACTIVE_SHARES), are not
        read again; the others are (a grantor with no share row yet; a binding that changed between the two
        reads, whose row is then locked after the others: a deadlock that may follow is a Conflict, retried)."""
        ordered = sorted(set(keys))  # one order for every transaction: row locks never deadlock
        found = {key: self._ahead.pop(("share", key)) for key in ordered if ("share", key) in self._ahead}
        self._locked.update(found)
        rest = [key for key in ordered if key not in found]
        rows = together(self._conn, [(BALANCES[lock], {"key": key}) for key in rest]) if rest else []
        found.update((key, row[0].balance if row else 0) for key, row in zip(rest, rows))
        if lock and queues(self._conn):
            self._locked.update(key for key, row in zip(rest, rows) if row)
        return {key: found[key] for key in keys}

    def post(self, entries: list[Transfer], at: datetime, settlement_seq: int | None = None) -> None:
        """Records transfers and moves the share accounts they touch. A debit that would take a
        share balance below zero raises Conflict: the caller read a balance that has since moved."""
        if not entries:
            return
        for t in entries:
            if is_share(t.debit) and t.debit in self._locked:
                DEBIT_LOCKED[t.kind].queue(self._conn, {"key": t.debit, "amount": t.amount})
            elif is_share(t.debit):
                if DEBIT[t.kind].run(self._conn, {"key": t.debit, "amount": t.amount}) != 1:
                    raise Conflict(f"balance of {t.debit} moved")
            if is_share(t.credit):
                if CREDIT[t.kind].run(self._conn, {"key": t.credit, "amount": t.amount}) == 0:
                    opened = dict.fromkeys(TOTALS, 0) | {CREDITS[t.kind]: t.amount}
                    OPEN.run(self._conn, {"account": t.credit, "balance": t.amount, **opened})
        RECORD.queue_many(self._conn, [
            {"debit": t.debit, "credit": t.credit, "amount": t.amount, "kind": t.kind.value,
             "settlement_seq": settlement_seq, "at": at} for t in entries])

    def totals(self, key: str) -> dict[str, int]:
        """The share account's running totals: funded, released, spent, refunded (zeros if never funded)."""
        row = self._conn.execute(ACCOUNT, {"key": key}).first()
        return {name: getattr(row, name) if row else 0 for name in TOTALS}

    def derived_balances(self) -> dict[str, int]:
        """Every account's balance computed from the transfers alone (credits minus debits)."""
        legs = union_all(
            select(transfers.c.credit.label("account"), transfers.c.amount.label("amount")),
            select(transfers.c.debit.label("account"), (literal(0) - transfers.c.amount).label("amount"))).subquery()
        rows = self._conn.execute(select(legs.c.account, func.sum(legs.c.amount)).group_by(legs.c.account))
        return {account: int(total) for account, total in rows}

    def derived_totals(self) -> dict[tuple[str, str], int]:
        """(share account, total name) -> the sum of its transfers of that kind, from the transfers alone."""
        out: dict[tuple[str, str], int] = {}
        for side, names in ((transfers.c.debit, DEBITS), (transfers.c.credit, CREDITS)):
            rows = self._conn.execute(select(side, transfers.c.kind, func.sum(transfers.c.amount))
                                      .where(side.like("share:%")).group_by(side, transfers.c.kind))
            for account, kind, total in rows:
                if Kind(kind) in names:
                    out[(account, names[Kind(kind)])] = int(total)
        return out

    def stored_accounts(self) -> dict[str, dict[str, int]]:
        return {row.account: {"balance": row.balance, **{n: getattr(row, n) for n in TOTALS}}
                for row in self._conn.execute(select(accounts))}
