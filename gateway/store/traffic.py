"""Cross-province traffic per minute (gateway.service.traffic): counts added, never overwritten, so that several
gateway processes adding at once sum up (an upsert that adds, on either engine)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gateway.store.members import utc
from gateway.store.tables import traffic_minutes as traffic

INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


class SqlTraffic:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, counts: dict[tuple[datetime, str, str, str], int]) -> None:
        if not counts:
            return
        statement = INSERTS[self._conn.dialect.name](traffic)
        self._conn.execute(statement.on_conflict_do_update(
            index_elements=[traffic.c.minute, traffic.c.grantor_province, traffic.c.other_province,
                            traffic.c.outcome],
            set_={"count": traffic.c.count + statement.excluded.count}),
            [{"minute": minute, "grantor_province": grantor, "other_province": other, "outcome": outcome,
              "count": count} for (minute, grantor, other, outcome), count in sorted(counts.items())])

    def forget(self, before: datetime) -> None:
        self._conn.execute(delete(traffic).where(traffic.c.minute < before))

    def since(self, start: datetime) -> list[tuple[datetime, str, str, str, int]]:
        """(minute, grantor province, other province, outcome, count) from ``start`` on."""
        return [(utc(r.minute), r.grantor_province, r.other_province, r.outcome, r.count)
                for r in self._conn.execute(select(traffic).where(traffic.c.minute >= start))]
