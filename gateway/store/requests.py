"""The request log: each caller's requests by id, with the answer given (exactly-once requests)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, select, tuple_

from gateway.service.ports import PriorAnswer
from gateway.store.direct import Direct, insert
from gateway.store.tables import request_log

FIND_REQUEST = Direct(select(request_log.c.fingerprint, request_log.c.response, request_log.c.refused).where(
    request_log.c.caller == bindparam("caller"), request_log.c.request_id == bindparam("request_id")))
ADD_REQUEST = Direct(insert(request_log))


class SqlRequestLog:
    def __init__(self, conn: Connection, ahead: dict[tuple[Any, ...], Any] | None = None) -> None:
        self._conn = conn
        self._ahead = {} if ahead is None else ahead

    def find(self, caller: str, request_id: str) -> PriorAnswer | None:
        rows = self._ahead.pop(("request", caller, request_id), None)
        row = (rows[0] if rows else None) if rows is not None else FIND_REQUEST.first(
            self._conn, {"caller": caller, "request_id": request_id})
        return PriorAnswer(row.fingerprint, bytes(row.response), bool(row.refused)) if row else None

    def add(self, caller: str, request_id: str, answer: PriorAnswer) -> None:
        """Sent with the COMMIT; a copy of the request stored meanwhile fails it on the unique key (a Conflict)."""
        ADD_REQUEST.queue(self._conn, {"caller": caller, "request_id": request_id, "fingerprint": answer.fingerprint,
                                     "response": answer.response, "refused": answer.refused,
                                     "created_at": datetime.now(timezone.utc)})

    def prune(self, before: datetime, limit: int) -> int:
        """Forgets up to ``limit`` of the oldest requests stored before ``before``; returns how many."""
        oldest = select(request_log.c.caller, request_log.c.request_id).where(
            request_log.c.created_at < before).order_by(request_log.c.created_at).limit(limit)
        return self._conn.execute(request_log.delete().where(
            tuple_(request_log.c.caller, request_log.c.request_id).in_(oldest))).rowcount
