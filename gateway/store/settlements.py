"""Settlement rows (with their lines and refunds) <-> domain settlements; impersonation attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import BigInteger, Connection, Row, and_, bindparam, exists, func, literal, literal_column, select

from gateway.domain.bindings import Party
from gateway.domain.clock import china_day
from gateway.domain.members import Member
from gateway.domain.policies import Use
from gateway.domain.settlements import (ActiveBinding, CredentialType, InstitutionKind, ItemCategory, PaidLine,
                                        RefundRecord, Settlement)
from gateway.service.ports import Conflict
from gateway.store.direct import Direct, insert
from gateway.store.members import member_of, utc
from gateway.store.tables import bindings, members, refunds, settlement_lines as lines, settlements, share_accounts
from gateway.store.tables import impersonation_attempts as attempts

MAX_ATTEMPT_ROWS = 1000  # distinct impersonation rows per caller and day; the rest are counted on one row
OVERFLOW = {"beneficiary_region": "", "beneficiary_psn_no": "", "credential": "", "holder_hash": ""}


ACTIVE = and_(bindings.c.beneficiary_region == bindparam("region"), bindings.c.beneficiary_psn_no == bindparam("psn_no"),
              bindings.c.status == "active")
ACTIVE_BINDINGS = Direct(
    select(bindings.c.id.label("binding_id"), bindings.c.seq.label("binding_seq"), *members.c)
    .join(members, and_(members.c.region == bindings.c.grantor_region, members.c.psn_no == bindings.c.grantor_psn_no))
    .where(ACTIVE).order_by(bindings.c.seq))
# The share rows of those bindings' grantors, locked until commit in account order, the order of the ledger's
# locking reads (gateway.store.ledger sorts the keys in Python: code points, which collation "C" keeps whatever
# the database's): read ahead by a settlement on PostgreSQL, with its other reads.
ACTIVE_SHARES = Direct(
    select(share_accounts.c.account, share_accounts.c.balance)
    .join(bindings, share_accounts.c.account == literal("share:") + bindings.c.grantor_region + ":"
          + bindings.c.grantor_psn_no)
    .where(ACTIVE).order_by(share_accounts.c.account.collate("C")).with_for_update(of=share_accounts))
ADD = Direct(insert(settlements, "seq").returning(settlements.c.seq))
ADD_NUMBERED = Direct(insert(settlements))
ADD_LINES = Direct(insert(lines))
# A number taken ahead (PostgreSQL), so that the settlement and everything that names it go in one round trip.
NEXT_NUMBER = Direct(select(literal_column("nextval(pg_get_serial_sequence('settlements', 'seq'))", BigInteger)
                            .label("seq")))


class SqlSettlements:
    def __init__(self, conn: Connection, ahead: dict[tuple[Any, ...], Any] | None = None) -> None:
        self._conn = conn
        self._ahead = {} if ahead is None else ahead

    def active_bindings(self, beneficiary: Party) -> list[tuple[ActiveBinding, Member]]:
        """The beneficiary's ACTIVE bindings in filing order (R9), each with its grantor (members are never
        deleted, so every binding's grantor is there)."""
        rows = self._ahead.pop(("bindings", beneficiary.region, beneficiary.psn_no), None)
        if rows is None:
            rows = ACTIVE_BINDINGS.rows(self._conn, {"region": beneficiary.region, "psn_no": beneficiary.psn_no})
        return [(ActiveBinding(r.binding_id, Party(r.region, r.psn_no), r.binding_seq), member_of(r))
                for r in sorted(rows, key=lambda r: r.binding_seq)]  # read with others, the order is ours to keep

    def add(self, s: Settlement) -> int:
        """Files the settlement and its lines; with a number taken ahead, they go with the next round trip."""
        values = {
            "id": s.id, "treatment_region": s.treatment_region, "beneficiary_region": s.beneficiary.region,
            "beneficiary_psn_no": s.beneficiary.psn_no, "credential": s.credential.value,
            "institution_code": s.institution_code, "institution_kind": s.institution_kind and s.institution_kind.value,
            "use": s.use.value, "total": s.total, "fund_part": s.fund_part, "personal_part": s.personal_part,
            "items": ",".join(sorted(i.value for i in s.items)), "created_at": s.created_at}
        seq = self._ahead.pop(("settlement",), None)
        if seq is None:
            seq = ADD.first(self._conn, values).seq
        else:
            ADD_NUMBERED.queue(self._conn, {"seq": seq, **values})
        if s.lines:
            ADD_LINES.queue_many(self._conn, [
                {"settlement_seq": seq, "position": line.position, "binding_id": line.binding_id,
                 "grantor_region": line.grantor.region, "grantor_psn_no": line.grantor.psn_no,
                 "amount": line.amount, "refunded": line.refunded} for line in s.lines])
        return seq

    def lock(self, region: str, settlement_id: str) -> None:
        """Holds the settlement's row until this transaction ends (PostgreSQL)."""
        self._conn.execute(select(settlements.c.seq).where(settlements.c.treatment_region == region,
                                                           settlements.c.id == settlement_id).with_for_update())

    def get(self, region: str, settlement_id: str) -> Settlement | None:
        """The settlement ``regions/{region}/settlements/{settlement_id}`` (ids are unique per settling region)."""
        found = self._load(self._conn.execute(select(settlements).where(
            settlements.c.treatment_region == region, settlements.c.id == settlement_id)).all())
        return found[0] if found else None

    def page(self, member: Party, as_grantor: bool, start: datetime | None, end: datetime | None,
             after: int | None, limit: int) -> list[Settlement]:
        if as_grantor:
            query = select(settlements).where(exists().where(
                lines.c.settlement_seq == settlements.c.seq, lines.c.grantor_region == member.region,
                lines.c.grantor_psn_no == member.psn_no))
        else:
            query = select(settlements).where(settlements.c.beneficiary_region == member.region,
                                              settlements.c.beneficiary_psn_no == member.psn_no)
        if start is not None:
            query = query.where(settlements.c.created_at >= start)
        if end is not None:
            query = query.where(settlements.c.created_at < end)
        if after is not None:
            query = query.where(settlements.c.seq > after)
        return self._load(self._conn.execute(query.order_by(settlements.c.seq).limit(limit)).all())

    def settled_by(self, region: str, since: datetime | None, chunk: int = 500) -> Iterator[Settlement]:
        """The settlements ``region`` settled, from ``since`` on, oldest first, a chunk at a time."""
        after = 0
        while True:
            query = select(settlements).where(settlements.c.treatment_region == region, settlements.c.seq > after)
            if since is not None:
                query = query.where(settlements.c.created_at >= since)
            found = self._load(self._conn.execute(query.order_by(settlements.c.seq).limit(chunk)).all())
            yield from found
            if len(found) < chunk:
                return
            after = found[-1].filed

    def refund(self, settlement: Settlement, refund: RefundRecord, plan: list[tuple[PaidLine, int]]) -> None:
        """Records a refund; each line's refunded amount only grows within what it paid."""
        for line, amount in plan:
            moved = self._conn.execute(lines.update().where(
                and_(lines.c.settlement_seq == settlement.filed, lines.c.position == line.position,
                     lines.c.amount - lines.c.refunded >= amount)).values(refunded=lines.c.refunded + amount)).rowcount
            if moved != 1:
                raise Conflict(f"line {line.position} of settlement {settlement.id} was refunded meanwhile")
        self._conn.execute(refunds.insert().values(id=refund.id, settlement_seq=settlement.filed, amount=refund.amount,
                                                   actor=refund.actor, at=refund.at))

    def record_impersonation(self, at: datetime, caller: str, beneficiary: Party, credential: CredentialType,
                             holder_hash: str, institution_code: str | None, request_id: str | None) -> None:
        """Counts the attempt on its row for the day, caller, patient, credential type and presented ID hash;
        past MAX_ATTEMPT_ROWS such rows for the caller and day, on the caller's one overflow row."""
        key = {"day": china_day(at), "caller": caller, "beneficiary_region": beneficiary.region,
               "beneficiary_psn_no": beneficiary.psn_no, "credential": credential.value, "holder_hash": holder_hash}
        if self._count_attempt(key, at, institution_code, request_id):
            return
        rows = self._conn.execute(select(func.count()).select_from(attempts).where(
            attempts.c.day == key["day"], attempts.c.caller == caller)).scalar_one()
        if rows >= MAX_ATTEMPT_ROWS:
            key = {**key, **OVERFLOW}
            if self._count_attempt(key, at, institution_code, request_id):
                return
        self._conn.execute(attempts.insert().values(**key, attempts=1, first_at=at, last_at=at,
                                                    last_institution_code=institution_code,
                                                    last_request_id=request_id))

    def impersonations(self, caller: str, after: int | None, limit: int) -> list[Any]:
        """Recorded attempts (R8), the latest day first, for operators; ``caller`` empty for all."""
        query = select(attempts)
        if caller:
            query = query.where(attempts.c.caller == caller)
        if after is not None:
            query = query.where(attempts.c.seq < after)
        return self._conn.execute(query.order_by(attempts.c.seq.desc()).limit(limit)).all()

    def _count_attempt(self, key: dict[str, Any], at: datetime, institution_code: str | None,
                       request_id: str | None) -> bool:
        return self._conn.execute(attempts.update().where(*(attempts.c[k] == v for k, v in key.items())).values(
            attempts=attempts.c.attempts + 1, last_at=at, last_institution_code=institution_code,
            last_request_id=request_id)).rowcount == 1

    def _load(self, rows: list[Row]) -> list[Settlement]:
        if not rows:
            return []
        seqs = [r.seq for r in rows]
        paid: dict[int, list[PaidLine]] = {s: [] for s in seqs}
        for r in self._conn.execute(select(lines).where(lines.c.settlement_seq.in_(seqs))
                                    .order_by(lines.c.settlement_seq, lines.c.position)):
            paid[r.settlement_seq].append(PaidLine(r.position, r.binding_id, Party(r.grantor_region, r.grantor_psn_no),
                                                   r.amount, r.refunded))
        back: dict[int, list[RefundRecord]] = {s: [] for s in seqs}
        for r in self._conn.execute(select(refunds).where(refunds.c.settlement_seq.in_(seqs)).order_by(refunds.c.seq)):
            back[r.settlement_seq].append(RefundRecord(r.id, r.amount, r.actor, utc(r.at)))
        return [Settlement(
            r.id, r.treatment_region, Party(r.beneficiary_region, r.beneficiary_psn_no), CredentialType(r.credential),
            r.institution_code, InstitutionKind(r.institution_kind) if r.institution_kind else None, Use(r.use),
            r.total, r.fund_part, r.personal_part, frozenset(ItemCategory(i) for i in r.items.split(",") if i),
            tuple(paid[r.seq]), tuple(back[r.seq]), utc(r.created_at), r.seq) for r in rows]
