"""BindingsService: translation only; the rules live in gateway.domain.bindings."""

from __future__ import annotations

import re

from gateway._proto.copay.v1 import bindings_pb2 as pb
from gateway._proto.copay.v1 import bindings_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.idempotency import request_key
from gateway.api.times import timestamp
from gateway.api.runner import Runner
from gateway.api.names import (check_request_id, decode_position, encode_token, listing_party, member_name,
                               page_size, parse_member, parse_scoped, require_own_region)
from gateway.api.vocabulary import BINDING_STATUSES, CAUSES, RELATIONSHIPS
from gateway.domain.bindings import REVOCATION_CAUSES, Binding, Party, Person
from gateway.domain.errors import Violations
from gateway.domain.identity import IdHasher, id_number_problem
from gateway.domain.policies import Policy
from gateway.domain.relationships import Relationship
from gateway.domain.regions import Scoped, admdvs_problem
from gateway.security.principal import Kind, Principal
from gateway.service import bindings as service

CHOSEN_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")  # an id a caller chooses (AIP-133)


def binding_message(binding: Binding) -> pb.Binding:
    return pb.Binding(
        name=binding.name, grantor=member_name(binding.grantor.region, binding.grantor.psn_no),
        beneficiary=member_name(binding.beneficiary.region, binding.beneficiary.psn_no),
        relationship=RELATIONSHIPS.wire(binding.relationship), status=BINDING_STATUSES.wire(binding.status),
        policy=binding.policy, create_time=timestamp(binding.created_at), update_time=timestamp(binding.updated_at),
        history=[pb.BindingTransition(status=BINDING_STATUSES.wire(t.status), time=timestamp(t.at), actor=t.actor,
                                      cause=CAUSES.wire(t.cause)) for t in binding.history])


def render(binding: Binding) -> bytes:
    return binding_message(binding).SerializeToString()


def parse_party(name: str, problems: Violations, field: str) -> Party:
    region, psn_no = parse_member(name, problems, field)
    return Party(region, psn_no)


def binding_filing(request: pb.CreateBindingRequest, hasher: IdHasher,
                   problems: Violations) -> tuple[Party, Party | Person, Relationship]:
    """The grantor, the beneficiary (a member, or a person by ID hash) and the relationship of a filing;
    violations go to ``problems`` (the values are then not to be used)."""
    grantor = parse_party(request.grantor, problems, "grantor")
    which = request.WhichOneof("beneficiary_is")
    beneficiary: Party | Person = Party("", "")
    if which == "beneficiary":
        beneficiary = parse_party(request.beneficiary, problems, "beneficiary")
    elif which == "beneficiary_person":
        person = request.beneficiary_person
        if (why := admdvs_problem(person.insuring_region)) is not None:
            problems.add("beneficiary_person.insuring_region", why)
        if (why := id_number_problem(person.id_number)) is not None:
            problems.add("beneficiary_person.id_number", why)
        else:
            beneficiary = Person(hasher(person.id_number), person.insuring_region)
    else:
        problems.add("beneficiary", "name the beneficiary by member name, or set beneficiary_person")
    relationship = RELATIONSHIPS.domain(request.relationship)
    if relationship is None:
        problems.add("relationship", "must be one of " + ", ".join(RELATIONSHIPS.names))
    if request.binding_id and not CHOSEN_ID.fullmatch(request.binding_id):
        problems.add("binding_id", "1 to 63 of a-z, 0-9 and '-', starting with a letter")
    return grantor, beneficiary, relationship  # type: ignore[return-value]


class BindingsServicer(bindings_pb2_grpc.BindingsServiceServicer):
    def __init__(self, db: Runner, hasher: IdHasher, policies: dict[str, Policy]) -> None:
        self._db = db
        self._hash = hasher
        self._policies = policies

    @rpc(Kind.REGION)
    async def CreateBinding(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        check_request_id(request.request_id, problems)
        grantor, beneficiary, relationship = binding_filing(request, self._hash, problems)
        problems.raise_if_any()
        require_own_region(caller, grantor.region)
        key = request_key(caller, "CreateBinding", request, self._hash)
        answer = await self._db(service.create, self._policies, caller.name, grantor, beneficiary, relationship,
                                request.binding_id, key, render)
        return pb.Binding.FromString(answer)

    @rpc(Kind.REGION)
    async def ConfirmBinding(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        name = self._check_change(request)
        key = request_key(caller, "ConfirmBinding", request, self._hash)
        answer = await self._db(service.confirm, self._policies, caller.name, name, key, render)
        return pb.Binding.FromString(answer)

    @rpc(Kind.REGION)
    async def ApproveBinding(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        name = self._check_change(request)
        key = request_key(caller, "ApproveBinding", request, self._hash)
        answer = await self._db(service.approve, caller.name, name, key, render)
        return pb.Binding.FromString(answer)

    @rpc(Kind.REGION)
    async def RevokeBinding(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        cause = CAUSES.domain(request.reason)
        problems = Violations()
        if cause not in REVOCATION_CAUSES:
            problems.add("reason", "must be GRANTOR_REQUEST, BENEFICIARY_REQUEST, CONFIRMATION_DECLINED or "
                                   "REVIEW_REJECTED (as TRANSITION_CAUSE_...)")
        name = self._check_change(request, problems)
        key = request_key(caller, "RevokeBinding", request, self._hash)
        answer = await self._db(service.revoke, caller.name, name, cause, key, render)
        return pb.Binding.FromString(answer)

    @rpc(Kind.REGION)
    async def GetBinding(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        name = parse_scoped(request.name, "bindings", problems)
        problems.raise_if_any()
        return binding_message(await self._db(service.get, caller.name, name))

    @rpc(Kind.REGION)
    async def ListBindings(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        side, region, psn_no = listing_party(request, problems, "bindings")
        status = BINDING_STATUSES.domain(request.status)
        if request.status and status is None:
            problems.add("status", "unknown binding status")
        size = page_size(request.page_size, problems)
        scope = f"{side}:{getattr(request, side)}:{request.status}"
        after = decode_position(request.page_token, scope, problems)
        problems.raise_if_any()
        require_own_region(caller, region)
        rows, more = await self._db(service.page, Party(region, psn_no), side == "grantor", status,
                                    after, size)
        token = encode_token(scope, str(rows[-1].filed)) if more else ""
        return pb.ListBindingsResponse(bindings=[binding_message(b) for b in rows], next_page_token=token)

    @staticmethod
    def _check_change(request, problems: Violations | None = None) -> Scoped:  # type: ignore[no-untyped-def]
        problems = problems or Violations()
        name = parse_scoped(request.name, "bindings", problems)
        check_request_id(request.request_id, problems)
        problems.raise_if_any()
        return name
