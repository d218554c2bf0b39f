"""Bulk-loads the benchmark's world straight into the database: members,
active bindings, funded accounts, and optionally a history of prior
settlements. Rows are consistent with what the service layer would write
(the ledger invariants hold), only written in bulk."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine, insert, update

from gateway.domain import ledger
from gateway.domain.bindings import Party
from gateway.domain.identity import IdHasher
from gateway.sample import id_number
from gateway.store.tables import (binding_transitions, bindings, members, request_log, settlement_lines, settlements,
                                  share_accounts, transfers)

REGION = "420100"
FUNDING = 10**11  # fen per grantor: never the limit in a benchmark
BATCH = 20_000


def grantor(i: int) -> Party:
    return Party(REGION, f"G{i:07d}")


def beneficiary(i: int) -> Party:
    return Party(REGION, f"B{i:07d}")


def person_id(n: int) -> str:
    """A distinct, well-formed ID number for person ``n``."""
    return id_number(REGION, date(1930, 1, 1) + timedelta(days=n // 1000), n % 1000)


def beneficiary_id(i: int) -> str:
    return person_id(2 * i + 1)


def load_pairs(engine: Engine, count: int, hasher: IdHasher) -> None:
    """``count`` employee grantors, each with a resident beneficiary, an active binding and a funded account."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(members), [
            {"region": REGION, "psn_no": p.psn_no, "id_hash": hasher(person_id(2 * i + (kind == "b"))),
             "insurance_type": "employee" if kind == "g" else "resident", "status": "normal", "moved_to": None,
             "created_at": now, "updated_at": now}
            for i in range(count) for kind, p in (("g", grantor(i)), ("b", beneficiary(i)))])
        conn.execute(insert(bindings), [
            {"id": f"bench-{i}", "grantor_region": REGION, "grantor_psn_no": grantor(i).psn_no,
             "beneficiary_region": REGION, "beneficiary_psn_no": beneficiary(i).psn_no, "relationship": "son",
             "status": "active", "policy": "42@v1", "created_at": now, "updated_at": now} for i in range(count)])
        seqs = {binding_id: seq for binding_id, seq in conn.execute(
            bindings.select().with_only_columns(bindings.c.id, bindings.c.seq))}
        conn.execute(insert(binding_transitions), [
            {"binding_seq": seqs[f"bench-{i}"], "position": 0, "status": "active", "at": now,
             "actor": f"region/{REGION}", "cause": "filed"} for i in range(count)])
        conn.execute(insert(share_accounts), [
            {"account": ledger.share(grantor(i)), "balance": FUNDING, "funded": FUNDING, "released": 0, "spent": 0,
             "refunded": 0} for i in range(count)])
        conn.execute(insert(transfers), [
            {"debit": ledger.earmark(REGION), "credit": ledger.share(grantor(i)), "amount": FUNDING, "kind": "fund",
             "settlement_seq": None, "at": now} for i in range(count)])


def load_history(engine: Engine, count: int, pairs: int, fen: int = 100) -> None:
    """``count`` prior settlements of ``fen`` each, spread over the pairs, with their transfers and request log."""
    now = datetime.now(timezone.utc)
    spent = [0] * pairs
    for start in range(0, count, BATCH):
        rows = range(start, min(start + BATCH, count))
        ids = {n: str(uuid.uuid4()) for n in rows}
        with engine.begin() as conn:
            first = conn.execute(insert(settlements).returning(settlements.c.seq, sort_by_parameter_order=True), [
                {"id": ids[n], "treatment_region": REGION, "beneficiary_region": REGION,
                 "beneficiary_psn_no": beneficiary(n % pairs).psn_no, "credential": "e_voucher",
                 "institution_code": "H0001", "institution_kind": "hospital", "use": "outpatient", "total": fen,
                 "fund_part": 0, "personal_part": fen, "items": "", "created_at": now} for n in rows]).scalars().all()
            seq = dict(zip(rows, first))
            conn.execute(insert(settlement_lines), [
                {"settlement_seq": seq[n], "position": 0, "binding_id": f"bench-{n % pairs}",
                 "grantor_region": REGION, "grantor_psn_no": grantor(n % pairs).psn_no, "amount": fen,
                 "refunded": 0} for n in rows])
            conn.execute(insert(transfers), [
                {"debit": t.debit, "credit": t.credit, "amount": t.amount, "kind": t.kind.value,
                 "settlement_seq": seq[n], "at": now}
                for n in rows for t in ledger.pay(grantor(n % pairs), REGION, fen)])
            conn.execute(insert(request_log), [
                {"caller": f"region/{REGION}", "request_id": f"history-{n}", "fingerprint": "0" * 64,
                 "response": ids[n].encode() * 8, "created_at": now} for n in rows])
        for n in rows:
            spent[n % pairs] += fen
    with engine.begin() as conn:
        for i, amount in enumerate(spent):
            if amount:
                conn.execute(update(share_accounts).where(share_accounts.c.account == ledger.share(grantor(i)))
                             .values(balance=FUNDING - amount, spent=amount))
