"""Member rows <-> domain members."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from gateway.domain.members import EnrolmentStatus, InsuranceType, Member
from gateway.store.direct import Direct
from gateway.store.tables import ACTIVE, members


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


BY_NAME = Direct(select(members).where(members.c.region == bindparam("region"),
                                      members.c.psn_no == bindparam("psn_no")))
ACTIVE_HOLDER = Direct(select(members).where(members.c.id_hash == bindparam("id_hash"), text(ACTIVE)))


def member_of(row: Any) -> Member:
    return Member(row.region, row.psn_no, row.id_hash, InsuranceType(row.insurance_type),
                  EnrolmentStatus(row.status), row.moved_to, utc(row.created_at), utc(row.updated_at))


class SqlMembers:
    def __init__(self, conn: Connection, ahead: dict[tuple[Any, ...], Any] | None = None) -> None:
        self._conn = conn
        self._ahead = {} if ahead is None else ahead

    def get(self, region: str, psn_no: str) -> Member | None:
        rows = self._ahead.pop(("member", region, psn_no), None)
        row = (rows[0] if rows else None) if rows is not None else BY_NAME.first(
            self._conn, {"region": region, "psn_no": psn_no})
        return member_of(row) if row else None

    def active_holder(self, id_hash: str) -> Member | None:
        row = ACTIVE_HOLDER.first(self._conn, {"id_hash": id_hash})
        return member_of(row) if row else None

    def in_region_by_hash(self, region: str, id_hash: str) -> Member | None:
        """The region's active enrolment of that person, else its latest one."""
        row = self._conn.execute(
            select(members).where(members.c.region == region, members.c.id_hash == id_hash)
            .order_by(text(f"CASE WHEN {ACTIVE} THEN 0 ELSE 1 END"), members.c.updated_at.desc())).first()
        return member_of(row) if row else None

    def save(self, member: Member) -> None:
        values = {"id_hash": member.id_hash, "insurance_type": member.insurance_type.value,
                  "status": member.status.value, "moved_to": member.moved_to, "updated_at": member.updated_at}
        updated = self._conn.execute(
            members.update().where(members.c.region == member.region, members.c.psn_no == member.psn_no)
            .values(**values))
        if updated.rowcount == 0:
            self._conn.execute(members.insert().values(region=member.region, psn_no=member.psn_no,
                                                       created_at=member.created_at, **values))

    def page(self, region: str, after_psn_no: str | None, limit: int) -> list[Member]:
        query = select(members).where(members.c.region == region)
        if after_psn_no is not None:
            query = query.where(members.c.psn_no > after_psn_no)
        rows = self._conn.execute(query.order_by(members.c.psn_no).limit(limit))
        return [member_of(row) for row in rows]
