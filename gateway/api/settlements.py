"""SettlementsService: translation only; the rules live in gateway.domain.settlements."""

from __future__ import annotations

import re
from datetime import timezone

from gateway._proto.copay.v1 import settlements_pb2 as pb
from gateway._proto.copay.v1 import settlements_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.bindings import parse_party
from gateway.api.enums import EnumMap
from gateway.api.idempotency import request_key
from gateway.api.members import timestamp
from gateway.api.runner import Runner
from gateway.api.names import (check_request_id, decode_position, encode_token, listing_party, member_name,
                               page_size, require_own_region)
from gateway.domain.bindings import Party
from gateway.domain.errors import Violations
from gateway.domain.identity import IdHasher, id_number_problem
from gateway.domain.ledger import MAX_FEN
from gateway.domain.policies import Policy, Use
from gateway.domain.settlements import (Claim, CredentialType, Institution, InstitutionKind, ItemCategory, Line,
                                        Settlement, validate_amounts, validate_place)
from gateway.security.principal import Kind, Principal
from gateway.service import settlements as service

USES = EnumMap(pb.Use, Use)
CREDENTIALS = EnumMap(pb.CredentialType, CredentialType)
KINDS = EnumMap(pb.InstitutionKind, InstitutionKind)
ITEMS = EnumMap(pb.ItemCategory, ItemCategory)
_SETTLEMENT = re.compile(r"^settlements/([a-z0-9][a-z0-9-]{0,62})$")
_SETTLEMENT_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def line_message(line: Line, refunded: int = 0) -> pb.SettlementLine:
    return pb.SettlementLine(binding=f"bindings/{line.binding_id}", amount_fen=line.amount, refunded_fen=refunded,
                             grantor=member_name(line.grantor.region, line.grantor.psn_no))


def settlement_message(s: Settlement) -> pb.Settlement:
    return pb.Settlement(
        name=f"settlements/{s.id}", treatment_region=s.treatment_region,
        beneficiary=member_name(s.beneficiary.region, s.beneficiary.psn_no), credential_type=CREDENTIALS.wire(s.credential),
        institution_code=s.institution_code or "", institution_kind=KINDS.wire(s.institution_kind) if s.institution_kind
        else 0, use=USES.wire(s.use), total_fen=s.total, fund_part_fen=s.fund_part, personal_part_fen=s.personal_part,
        items=sorted(ITEMS.wire(i) for i in s.items), mutual_aid_fen=s.paid, cash_fen=s.cash, refunded_fen=s.refunded,
        lines=[line_message(Line(p.binding_id, p.grantor, p.amount), p.refunded) for p in s.lines],
        refunds=[pb.Refund(amount_fen=r.amount, actor=r.actor, time=timestamp(r.at)) for r in s.refunds],
        create_time=timestamp(s.created_at))


def render(settlement: Settlement) -> bytes:
    return settlement_message(settlement).SerializeToString()


class SettlementsServicer(settlements_pb2_grpc.SettlementsServiceServicer):
    def __init__(self, db: Runner, hasher: IdHasher, policies: dict[str, Policy]) -> None:
        self._db = db
        self._hash = hasher
        self._policies = policies

    def _claim(self, claim: pb.SettlementClaim, problems: Violations) -> Claim:
        """Validates every field of a claim at once; hashes the ID numbers."""
        at = "claim."
        beneficiary: Party | str = ""
        which = claim.beneficiary.WhichOneof("member")
        if which == "name":
            beneficiary = parse_party(claim.beneficiary.name, problems, at + "beneficiary.name")
        elif which == "id_number":
            if (why := id_number_problem(claim.beneficiary.id_number)) is not None:
                problems.add(at + "beneficiary.id_number", why)
            else:
                beneficiary = self._hash(claim.beneficiary.id_number)
        else:
            problems.add(at + "beneficiary", "name the patient by member name or by ID number")
        credential = CREDENTIALS.domain(claim.credential.type)
        if credential is None:
            problems.add(at + "credential.type", "must be one of " + ", ".join(CREDENTIALS.names))
        if (why := id_number_problem(claim.credential.holder_id_number)) is not None:
            problems.add(at + "credential.holder_id_number", why)
        use = USES.domain(claim.use)
        if use is None:
            problems.add(at + "use", "must be one of " + ", ".join(USES.names))
        institution = None
        if claim.HasField("institution"):
            kind = KINDS.domain(claim.institution.kind)
            if kind is None:
                problems.add(at + "institution.kind", "must be one of " + ", ".join(KINDS.names))
            institution = Institution(claim.institution.code, kind or InstitutionKind.HOSPITAL,
                                      claim.institution.designated, claim.institution.region)
        if use is not None:
            validate_place(use, institution, problems, at)
        validate_amounts(claim.total_fen, claim.fund_part_fen, claim.personal_part_fen, problems, at)
        items = [ITEMS.domain(i) for i in claim.items]
        if None in items:
            problems.add(at + "items", "unknown item category")
        grantors = tuple(parse_party(g, problems, f"{at}grantors[{i}]") for i, g in enumerate(claim.grantors))
        if len(set(grantors)) != len(grantors):
            problems.add(at + "grantors", "each grantor at most once")
        holder = "" if problems.items else self._hash(claim.credential.holder_id_number)
        return Claim(beneficiary, credential, holder, institution, use, claim.total_fen,  # type: ignore[arg-type]
                     claim.fund_part_fen, claim.personal_part_fen, frozenset(items), grantors,  # type: ignore[arg-type]
                     claim.allow_partial)

    @rpc(Kind.REGION)
    async def PreSettle(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        claim = self._claim(request.claim, problems)
        problems.raise_if_any()
        quote = await self._db(service.quote, self._policies, caller.name, claim)
        return pb.PreSettleResponse(beneficiary=member_name(quote.beneficiary.region, quote.beneficiary.psn_no),
                                    lines=[line_message(line) for line in quote.lines], mutual_aid_fen=quote.paid,
                                    cash_fen=quote.cash)

    @rpc(Kind.REGION)
    async def Settle(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        check_request_id(request.request_id, problems)
        claim = self._claim(request.claim, problems)
        if request.settlement_id and not _SETTLEMENT_ID.match(request.settlement_id):
            problems.add("settlement_id", "1 to 63 of a-z, 0-9 and '-', starting with a letter")
        problems.raise_if_any()
        key = request_key(caller, "Settle", request)
        answer = await self._db(service.settle, self._policies, caller.name, claim,
                                request.settlement_id, key, render)
        return pb.Settlement.FromString(answer)

    @rpc(Kind.REGION)
    async def ReverseSettlement(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        settlement_id = self._settlement_id(request.name, problems)
        check_request_id(request.request_id, problems)
        if not 0 <= request.amount_fen <= MAX_FEN:
            problems.add("amount_fen", "must be 0 (all that is left) or a positive amount in fen")
        problems.raise_if_any()
        key = request_key(caller, "ReverseSettlement", request)
        answer = await self._db(service.reverse, caller.name, settlement_id, request.amount_fen, key, render)
        return pb.Settlement.FromString(answer)

    @rpc(Kind.REGION)
    async def GetSettlement(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        settlement_id = self._settlement_id(request.name, problems)
        problems.raise_if_any()
        return settlement_message(await self._db(service.get, caller.name, settlement_id))

    @rpc(Kind.REGION)
    async def ListSettlements(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        side, region, psn_no = listing_party(request, problems, "settlements")
        start = request.start_time.ToDatetime(tzinfo=timezone.utc) if request.HasField("start_time") else None
        end = request.end_time.ToDatetime(tzinfo=timezone.utc) if request.HasField("end_time") else None
        if start and end and end <= start:
            problems.add("end_time", "must be after start_time")
        size = page_size(request.page_size, problems)
        scope = f"{side}:{getattr(request, side)}:{start}:{end}"
        after = decode_position(request.page_token, scope, problems)
        problems.raise_if_any()
        require_own_region(caller, region)
        rows, more = await self._db(service.page, Party(region, psn_no), side == "grantor", start, end,
                                    after, size)
        token = encode_token(scope, str(rows[-1].filed)) if more else ""
        return pb.ListSettlementsResponse(settlements=[settlement_message(s) for s in rows], next_page_token=token)

    @staticmethod
    def _settlement_id(name: str, problems: Violations) -> str:
        match = _SETTLEMENT.match(name)
        if not match:
            problems.add("name", "must look like settlements/{settlement}")
            return ""
        return match.group(1)

