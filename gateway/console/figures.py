"""Every figure the console shows, read straight from the database (in the console's own threads), each as the
message the admin service answers with, so that ``/api/...`` is exactly what grpcurl prints for the same
question (``ListRegions``, ``ListProvincePairs``, ``GetKillSwitch``, ``ListChangeRequests`` for the pending
ones, ``ListAuditEntries`` for the newest, ``VerifyAuditLog``); the traffic and the provinces are the
console's own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from gateway._proto.copay.v1 import admin_pb2 as pb
from gateway.api.admin import (audit_message, change_message, kill_switch_message, pairs_response, regions_response,
                               verify_response)
from gateway.api.names import encode_token
from gateway.console.provinces import PROVINCES
from gateway.domain.changes import ChangeState
from gateway.service import admin, traffic
from gateway.service.ports import UnitOfWorkFactory

PENDING_SHOWN = 100  # the first page of pending change requests
AUDIT_SHOWN = 20  # the newest audit entries


def regions(uow: UnitOfWorkFactory) -> pb.ListRegionsResponse:
    return regions_response(admin.regions(uow))


def pairs(uow: UnitOfWorkFactory) -> pb.ListProvincePairsResponse:
    return pairs_response(admin.pairs(uow), datetime.now(timezone.utc))


def kill_switch(uow: UnitOfWorkFactory) -> pb.KillSwitch:
    return kill_switch_message(admin.kill_switch(uow))


def pending_changes(uow: UnitOfWorkFactory) -> pb.ListChangeRequestsResponse:
    """As ``ListChangeRequests`` with state PENDING and page_size PENDING_SHOWN answers."""
    rows, more = admin.change_requests(uow, ChangeState.PENDING, None, PENDING_SHOWN)
    scope = f"changes:{pb.CHANGE_STATE_PENDING}"
    return pb.ListChangeRequestsResponse(change_requests=[change_message(r) for _, r in rows],
                                         next_page_token=encode_token(scope, str(rows[-1][0])) if more else "")


def audit(uow: UnitOfWorkFactory) -> pb.ListAuditEntriesResponse:
    return pb.ListAuditEntriesResponse(entries=[audit_message(e) for e in admin.last_audit_entries(uow, AUDIT_SHOWN)])


def verify(uow: UnitOfWorkFactory) -> pb.VerifyAuditLogResponse:
    return verify_response(admin.verify_audit(uow))


def traffic_last_hour(uow: UnitOfWorkFactory) -> dict[str, Any]:
    found = traffic.last_hour(uow)
    return {"startTime": found.start.isoformat(), "minutes": traffic.WINDOW_MINUTES,
            "endTime": (found.start + timedelta(minutes=traffic.WINDOW_MINUTES)).isoformat(),
            "pairs": [{"grantorProvince": p.grantor_province, "otherProvince": p.other_province,
                       "allowed": p.allowed, "refused": dict(sorted(p.refused.items()))} for p in found.pairs]}


def provinces(found: pb.ListRegionsResponse) -> dict[str, Any]:
    """Per province: its name, place on the grid, and its regions counted by rollout state."""
    counts: dict[str, dict[str, int]] = {}
    for region in found.regions:
        state = pb.RolloutState.Name(region.state).removeprefix("ROLLOUT_STATE_")
        by_state = counts.setdefault(region.province, {})
        by_state[state] = by_state.get(state, 0) + 1
    return {"provinces": [{"province": code, "displayName": name, "column": column, "row": row,
                           "regions": counts.get(code, {})} for code, (name, column, row) in PROVINCES.items()]}


def as_json(message: Message) -> dict[str, Any]:
    """The message as grpcurl prints it (proto3 JSON: lowerCamelCase names, enum names, int64 as strings)."""
    return json_format.MessageToDict(message)


ENDPOINTS = {
    "/api/regions": lambda uow: as_json(regions(uow)),
    "/api/provinces": lambda uow: provinces(regions(uow)),
    "/api/pairs": lambda uow: as_json(pairs(uow)),
    "/api/kill-switch": lambda uow: as_json(kill_switch(uow)),
    "/api/change-requests": lambda uow: as_json(pending_changes(uow)),
    "/api/audit": lambda uow: as_json(audit(uow)),
    "/api/audit/verify": lambda uow: as_json(verify(uow)),
    "/api/traffic": traffic_last_hour,
}
