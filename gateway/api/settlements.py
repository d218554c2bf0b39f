"""SettlementsService: translation only; the rules live in gateway.domain.settlements."""

from __future__ import annotations

from functools import partial

from gateway._proto.copay.v1 import settlements_pb2 as pb
from gateway._proto.copay.v1 import settlements_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.bindings import parse_party
from gateway.api.idempotency import request_key
from gateway.api.times import parse_time, timestamp
from gateway.api.runner import Runner
from gateway.api.bindings import CHOSEN_ID
from gateway.api.names import (check_request_id, decode_position, encode_token, listing_party, member_name,
                               page_size, parse_scoped, region_of, require_own_region)
from gateway.api.vocabulary import CREDENTIALS, ITEMS, KINDS, USES
from gateway.domain.bindings import Party, Person
from gateway.domain.errors import Refusal, Violations
from gateway.domain.identity import IdHasher, id_number_problem
from gateway.domain.ledger import MAX_FEN
from gateway.domain.policies import Policy
from gateway.domain.regions import admdvs_problem
from gateway.domain.settlements import (Claim, Institution, InstitutionKind, Settlement,
                                        crossings, validate_amounts, validate_place)
from gateway.domain.visibility import SettlementView, quote_lines_shown, settlement_view
from gateway.observability.metrics import Metrics
from gateway.security.principal import Kind, Principal
from gateway.service import settlements as service



def line_message(binding_id: str, grantor: Party, amount: int, refunded: int, named: bool) -> pb.SettlementLine:
    line = pb.SettlementLine(amount_fen=amount, refunded_fen=refunded, grantor_region=grantor.region)
    if named:
        line.binding, line.grantor = f"regions/{grantor.region}/bindings/{binding_id}", member_name(
            grantor.region, grantor.psn_no)
    return line


def settlement_message(view: SettlementView) -> pb.Settlement:
    s = view.settlement
    message = pb.Settlement(
        name=s.name, treatment_region=s.treatment_region,
        beneficiary=member_name(s.beneficiary.region, s.beneficiary.psn_no), credential_type=CREDENTIALS.wire(s.credential),
        institution_code=s.institution_code or "", institution_kind=KINDS.wire(s.institution_kind) if s.institution_kind
        else 0, use=USES.wire(s.use), total_fen=s.total, fund_part_fen=s.fund_part, personal_part_fen=s.personal_part,
        items=sorted(ITEMS.wire(i) for i in s.items),
        lines=[line_message(v.line.binding_id, v.line.grantor, v.line.amount, v.line.refunded, v.named)
               for v in view.lines], create_time=timestamp(s.created_at))
    if view.totals:
        message.mutual_aid_fen, message.cash_fen, message.refunded_fen = s.paid, s.cash, s.refunded
        message.refunds.extend(pb.Refund(amount_fen=r.amount, actor=r.actor, time=timestamp(r.at)) for r in s.refunds)
    return message


def render_for(region: str, settlement: Settlement) -> bytes:
    """The answer as ``region`` may see it (module-level, so that it travels to the writer process)."""
    view = settlement_view(settlement, region)
    assert view is not None, "the region that settles or reverses a bill is a party to it"
    return settlement_message(view).SerializeToString()


class SettlementsServicer(settlements_pb2_grpc.SettlementsServiceServicer):
    def __init__(self, db: Runner, hasher: IdHasher, policies: dict[str, Policy], metrics: Metrics | None = None) -> None:
        self._db = db
        self._hash = hasher
        self._policies = policies
        self._metrics = metrics or Metrics()

    def _claim(self, claim: pb.SettlementClaim, problems: Violations) -> Claim | None:
        """Validates every field of a claim at once (None if any is wrong); hashes the ID number."""
        at = "claim."
        which = claim.WhichOneof("patient")
        patient: Party | None = None
        if which == "beneficiary":
            patient = parse_party(claim.beneficiary, problems, at + "beneficiary")
        elif which == "insuring_region":
            if (why := admdvs_problem(claim.insuring_region)) is not None:
                problems.add(at + "insuring_region", why)
        else:
            problems.add(at + "beneficiary", "name the patient by member name, or set insuring_region to find the "
                                             "patient by the credential's ID number")
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
        if problems.items:
            return None
        holder = self._hash(claim.credential.holder_id_number)
        return Claim(patient or Person(holder, claim.insuring_region), credential, holder, institution, use, claim.total_fen,  # type: ignore[arg-type]
                     claim.fund_part_fen, claim.personal_part_fen, frozenset(items), grantors,  # type: ignore[arg-type]
                     claim.allow_partial)

    @rpc(Kind.REGION)
    async def PreSettle(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        claim = self._claim(request.claim, problems)
        problems.raise_if_any()
        quote = await self._db(service.quote, self._policies, caller.name, claim)
        lines = [line_message(line.binding_id, line.grantor, line.amount, 0, True) for line in quote.lines
                 if quote_lines_shown(quote.beneficiary.region, caller.name)]
        return pb.PreSettleResponse(beneficiary=member_name(quote.beneficiary.region, quote.beneficiary.psn_no),
                                    lines=lines, mutual_aid_fen=quote.paid, cash_fen=quote.cash)

    @rpc(Kind.REGION)
    async def Settle(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        check_request_id(request.request_id, problems)
        claim = self._claim(request.claim, problems)
        if request.settlement_id and not CHOSEN_ID.fullmatch(request.settlement_id):
            problems.add("settlement_id", "1 to 63 of a-z, 0-9 and '-', starting with a letter")
        problems.raise_if_any()
        key = request_key(caller, "Settle", request, self._hash)
        try:
            answer = await self._db(service.settle, self._policies, caller.name, claim,
                                    request.settlement_id, key, partial(render_for, caller.name))
        except Refusal as refusal:
            if "other_province" in refusal.metadata:  # refused at a province pair (R5)
                self._metrics.observe_crossings({(refusal.metadata["grantor_province"],
                                                  refusal.metadata["other_province"])}, refusal.reason)
            raise
        settled = pb.Settlement.FromString(answer)
        self._metrics.observe_crossings({pair for line in settled.lines for pair in crossings(
            line.grantor_region, region_of(settled.beneficiary), settled.treatment_region)}, "allowed")
        self._metrics.observe_settled(settled)
        return settled

    @rpc(Kind.REGION)
    async def ReverseSettlement(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        name = parse_scoped(request.name, "settlements", problems)
        check_request_id(request.request_id, problems)
        if not 0 <= request.amount_fen <= MAX_FEN:
            problems.add("amount_fen", "must be 0 (all that is left) or a positive amount in fen")
        problems.raise_if_any()
        key = request_key(caller, "ReverseSettlement", request, self._hash)
        answer = await self._db(service.reverse, caller.name, name, request.amount_fen, key,
                                partial(render_for, caller.name))
        reversed_ = pb.Settlement.FromString(answer)
        self._metrics.observe_refunded(reversed_)
        return reversed_

    @rpc(Kind.REGION)
    async def GetSettlement(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        name = parse_scoped(request.name, "settlements", problems)
        problems.raise_if_any()
        return settlement_message(await self._db(service.get, caller.name, name))

    @rpc(Kind.REGION)
    async def ListSettlements(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        side, region, psn_no = listing_party(request, problems, "settlements")
        start, end = parse_time(request, "start_time", problems), parse_time(request, "end_time", problems)
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
        views = [settlement_view(s, caller.name) for s in rows]  # the caller's own member is party to each
        return pb.ListSettlementsResponse(settlements=[settlement_message(v) for v in views if v is not None],
                                          next_page_token=token)

