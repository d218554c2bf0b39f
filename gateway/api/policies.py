"""PoliciesService: the province policies in force, read-only."""

from __future__ import annotations

from datetime import datetime, timezone

from gateway._proto.copay.v1 import policies_pb2 as pb
from gateway._proto.copay.v1 import policies_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.bindings import RELATIONSHIPS
from gateway.api.enums import EnumMap
from gateway.api.runner import Runner
from gateway.api.times import timestamp
from gateway.domain.policies import Geography, Policy, Use
from gateway.security.principal import Kind, Principal
from gateway.service import admin

GEOGRAPHIES = EnumMap(pb.Geography, Geography)
USES = {u.value: u for u in Use}  # as the policy listing shows them


def policy_message(policy: Policy) -> pb.ProvincePolicy:
    def relationships(values):  # type: ignore[no-untyped-def]
        return sorted(RELATIONSHIPS.wire(r) for r in values)

    return pb.ProvincePolicy(
        province=policy.province, display_name=policy.name, version=policy.version, policy=policy.ref,
        relationships=relationships(policy.scope), geography=GEOGRAPHIES.wire(policy.geography),
        confirmation_required=relationships(policy.confirmation), review_required=policy.review_required,
        allowed_uses=sorted(u.value for u in policy.uses), grantor_order=policy.grantor_order.value,
        sources=policy.sources, effective_time=timestamp(policy.effective_at) if policy.effective_at else None)


class PoliciesServicer(policies_pb2_grpc.PoliciesServiceServicer):
    def __init__(self, db: Runner, policies: dict[str, Policy]) -> None:
        self._db = db
        self._policies = policies

    @rpc(Kind.REGION, Kind.OPERATOR)
    async def ListProvincePolicies(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        in_force = await self._db(admin.policies_in_force, self._policies, datetime.now(timezone.utc))
        return pb.ListProvincePoliciesResponse(policies=[policy_message(p) for p in in_force])
