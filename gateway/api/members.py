"""MembersService: translation only; the rules live in gateway.domain.members."""

from __future__ import annotations

from gateway._proto.copay.v1 import members_pb2 as pb
from gateway._proto.copay.v1 import members_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.idempotency import request_key
from gateway.api.runner import Runner
from gateway.api.times import timestamp
from gateway.api.names import (check_request_id, decode_token, encode_token, member_name, page_size,
                               parse_member, parse_region, require_own_region)
from gateway.api.vocabulary import ENROLMENT_STATUSES, INSURANCE_TYPES
from gateway.domain.errors import Violations
from gateway.domain.identity import IdHasher, id_number_problem
from gateway.domain.members import Member, MemberReport, RawRecord, validate_records
from gateway.security.principal import Kind, Principal
from gateway.service import members as service



def member_message(member: Member) -> pb.Member:
    return pb.Member(name=member_name(member.region, member.psn_no), psn_no=member.psn_no,
                     insuring_region=member.region, insurance_type=INSURANCE_TYPES.wire(member.insurance_type),
                     enrolment_status=ENROLMENT_STATUSES.wire(member.status), moved_to_region=member.moved_to or "",
                     create_time=timestamp(member.created_at), update_time=timestamp(member.updated_at))


def render(stored: list[Member]) -> bytes:
    return pb.BatchUpsertMembersResponse(members=[member_message(m) for m in stored]).SerializeToString()


def member_reports(request: pb.BatchUpsertMembersRequest, hasher: IdHasher,
                   problems: Violations) -> tuple[str, list[MemberReport]]:
    """The region and its validated reports (ID numbers hashed); violations go to ``problems``."""
    region = parse_region(request.parent, problems)
    raw = [RawRecord(r.psn_no, r.id_number, r.insuring_region, INSURANCE_TYPES.domain(r.insurance_type),
                     ENROLMENT_STATUSES.domain(r.enrolment_status)) for r in request.members]
    validate_records(raw, problems)
    if problems.items:
        return region, []
    return region, [MemberReport(r.psn_no, hasher(r.id_number), r.insuring_region, r.insurance_type, r.status)
                    for r in raw]  # type: ignore[arg-type]


class MembersServicer(members_pb2_grpc.MembersServiceServicer):
    def __init__(self, db: Runner, hasher: IdHasher) -> None:
        self._db = db
        self._hash = hasher

    @rpc(Kind.REGION)
    async def BatchUpsertMembers(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        check_request_id(request.request_id, problems)
        region, reports = member_reports(request, self._hash, problems)
        problems.raise_if_any()
        require_own_region(caller, region)
        key = request_key(caller, "BatchUpsertMembers", request, self._hash)
        answer = await self._db(service.upsert_members, region, reports, key, render)
        return pb.BatchUpsertMembersResponse.FromString(answer)

    @rpc(Kind.REGION)
    async def GetMember(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region, psn_no = parse_member(request.name, problems)
        problems.raise_if_any()
        require_own_region(caller, region)
        return member_message(await self._db(service.get_member, region, psn_no))

    @rpc(Kind.REGION)
    async def LookupMember(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region = parse_region(request.parent, problems)
        if (why := id_number_problem(request.id_number)) is not None:
            problems.add("id_number", why)
        problems.raise_if_any()
        require_own_region(caller, region)
        id_hash = self._hash(request.id_number)
        return member_message(await self._db(service.lookup_member, region, id_hash))

    @rpc(Kind.REGION)
    async def ListMembers(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        region = parse_region(request.parent, problems)
        size = page_size(request.page_size, problems)
        after = decode_token(request.page_token, request.parent, problems)
        problems.raise_if_any()
        require_own_region(caller, region)
        rows, more = await self._db(service.list_members, region, after, size)
        token = encode_token(request.parent, rows[-1].psn_no) if more else ""
        return pb.ListMembersResponse(members=[member_message(m) for m in rows], next_page_token=token)
