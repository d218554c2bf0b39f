"""Binding rows (and their transition history) <-> domain bindings."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, Row, and_, or_, select

from gateway.domain.bindings import Binding, Cause, Party, Status, Transition
from gateway.domain.relationships import Relationship
from gateway.store.members import utc
from gateway.store.tables import binding_transitions as transitions
from gateway.store.tables import bindings

LIVE = [s.value for s in Status if s.live]


def _party(side: str, party: Party):  # type: ignore[no-untyped-def]
    return and_(bindings.c[f"{side}_region"] == party.region, bindings.c[f"{side}_psn_no"] == party.psn_no)


class SqlBindings:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _load(self, rows: list[Row]) -> list[Binding]:
        if not rows:
            return []
        history: dict[int, list[Transition]] = {row.seq: [] for row in rows}
        for t in self._conn.execute(select(transitions).where(transitions.c.binding_seq.in_(history))
                                    .order_by(transitions.c.binding_seq, transitions.c.position)):
            history[t.binding_seq].append(Transition(Status(t.status), utc(t.at), t.actor, Cause(t.cause)))
        return [Binding(row.id, Party(row.grantor_region, row.grantor_psn_no),
                        Party(row.beneficiary_region, row.beneficiary_psn_no), Relationship(row.relationship),
                        Status(row.status), row.policy, tuple(history[row.seq]), row.seq) for row in rows]

    def get(self, region: str, binding_id: str) -> Binding | None:
        """The binding ``regions/{region}/bindings/{binding_id}`` (ids are unique per grantor region)."""
        found = self._load(self._conn.execute(select(bindings).where(
            bindings.c.grantor_region == region, bindings.c.id == binding_id)).all())
        return found[0] if found else None

    def live_between(self, grantor: Party, beneficiary: Party) -> Binding | None:
        found = self._load(self._conn.execute(select(bindings).where(
            _party("grantor", grantor), _party("beneficiary", beneficiary), bindings.c.status.in_(LIVE))).all())
        return found[0] if found else None

    def live_of(self, member: Party) -> list[Binding]:
        """Live bindings where the member is grantor or beneficiary."""
        return self._load(self._conn.execute(select(bindings).where(
            or_(_party("grantor", member), _party("beneficiary", member)), bindings.c.status.in_(LIVE))
            .order_by(bindings.c.seq)).all())

    def page(self, member: Party, as_grantor: bool, status: Status | None, after: int | None,
             limit: int) -> list[Binding]:
        query = select(bindings).where(_party("grantor" if as_grantor else "beneficiary", member))
        if status is not None:
            query = query.where(bindings.c.status == status.value)
        if after is not None:
            query = query.where(bindings.c.seq > after)
        return self._load(self._conn.execute(query.order_by(bindings.c.seq).limit(limit)).all())

    def add(self, binding: Binding) -> Binding:
        seq = self._conn.execute(bindings.insert().values(
            id=binding.id, grantor_region=binding.grantor.region, grantor_psn_no=binding.grantor.psn_no,
            beneficiary_region=binding.beneficiary.region, beneficiary_psn_no=binding.beneficiary.psn_no,
            relationship=binding.relationship.value, status=binding.status.value, policy=binding.policy,
            created_at=binding.created_at, updated_at=binding.updated_at)).inserted_primary_key[0]
        self._add_transitions(seq, binding.history, 0)
        return replace(binding, filed=seq)

    def save(self, binding: Binding, known: int) -> None:
        """Stores a binding's new status and the transitions after the first ``known``."""
        self._conn.execute(bindings.update().where(bindings.c.seq == binding.filed).values(
            status=binding.status.value, updated_at=binding.updated_at))
        self._add_transitions(binding.filed, binding.history[known:], known)

    def _add_transitions(self, seq: int, history: tuple[Transition, ...], start: int) -> None:
        if history:
            self._conn.execute(transitions.insert(), [
                {"binding_seq": seq, "position": start + i, "status": t.status.value, "at": t.at, "actor": t.actor,
                 "cause": t.cause.value} for i, t in enumerate(history)])
