"""PoliciesService: the province policies in force, read-only."""

from __future__ import annotations

from datetime import datetime, timezone

from gateway._proto.copay.v1 import policies_pb2 as pb
from gateway._proto.copay.v1 import policies_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.runner import Runner
from gateway.api.times import timestamp
from gateway.api.vocabulary import GEOGRAPHIES, GRANTOR_ORDERS, RELATIONSHIPS, USES
from gateway.domain.policies import Policy
from gateway.security.principal import Kind, Principal
from gateway.service import admin


def policy_message(policy: Policy) -> pb.ProvincePolicy:
    def relationships(values):  # type: ignore[no-untyped-def]
        return sorted(RELATIONSHIPS.wire(r) for r in values)

    return pb.ProvincePolicy(
        province=policy.province, display_name=policy.name, version=policy.version, policy=policy.ref,
        relationships=relationships(policy.scope), geography=GEOGRAPHIES.wire(policy.geography),
        confirmation_required=relationships(policy.confirmation), review_required=policy.review_required,
        allowed_uses=sorted(USES.wire(u) for u in policy.uses), grantor_order=GRANTOR_ORDERS.wire(policy.grantor_order),
        sources=policy.sources, effective_time=timestamp(policy.effective_at) if policy.effective_at else None)


class PoliciesServicer(policies_pb2_grpc.PoliciesServiceServicer):
    def __init__(self, db: Runner, policies: dict[str, Policy]) -> None:
        self._db = db
        self._policies = policies

    @rpc(Kind.REGION, Kind.OPERATOR)
    async def ListProvincePolicies(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        in_force = await self._db(admin.policies_in_force, self._policies, datetime.now(timezone.utc))
        return pb.ListProvincePoliciesResponse(policies=[policy_message(p) for p in in_force])
