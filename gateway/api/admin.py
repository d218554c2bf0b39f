"""AdminService: translation only; the use cases are gateway.service.admin, the rules
gateway.domain.rollout and gateway.domain.changes. Operators only."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timezone
from typing import Any

from gateway._proto.copay.v1 import admin_pb2 as pb
from gateway._proto.copay.v1 import admin_pb2_grpc
from gateway.api.auth import rpc
from gateway.api.idempotency import request_key
from gateway.api.names import check_request_id, decode_position, encode_token, member_name, page_size, parse_region
from gateway.api.policies import policy_message
from gateway.api.runner import Runner
from gateway.api.times import parse_time, timestamp
from gateway.api.vocabulary import CHANGE_STATES, GEOGRAPHIES, GRANTOR_ORDERS, RELATIONSHIPS, ROLLOUT_STATES, USES
from gateway.domain.identity import IdHasher
from gateway.domain import audit
from gateway.domain.changes import (Change, ChangeRequest, Directions, KillSwitchChange, PairClosing,
                                    PairLimitsChange, PairOpening, PolicyPublication, RegionStateChange, summary)
from gateway.domain.errors import Violations
from gateway.domain.ledger import MAX_FEN
from gateway.domain.policies import Geography, GrantorOrder, Policy, policy_problems
from gateway.domain.records import hhmm, json_text
from gateway.domain.regions import PROVINCES
from gateway.domain.rollout import PRESETS, Control, Pair, PairLimits, Region, RolloutState
from gateway.security.principal import Kind, Principal, identity_from_pem
from gateway.service import admin as service

_REASON = re.compile(r"\S.{0,499}", re.S)
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_HEX = re.compile(r"[0-9a-f]+")


# --- domain -> wire ---------------------------------------------------------------------------------------


def region_message(stamped: service.Stamped) -> pb.Region:
    region: Region = stamped.value
    return pb.Region(name=f"regions/{region.admdvs}", admdvs=region.admdvs, province=region.province,
                     display_name=region.name, state=ROLLOUT_STATES.wire(region.state),
                     update_time=timestamp(stamped.updated_at), updated_by=stamped.updated_by or "")


def limits_message(limits: PairLimits) -> pb.PairLimits:
    message = pb.PairLimits(quiet_from=hhmm(limits.quiet_from) or "", quiet_until=hhmm(limits.quiet_until) or "")
    for name in ("per_beneficiary_daily", "per_settlement_fen", "daily_fen"):
        if (value := getattr(limits, name)) is not None:
            setattr(message, name, value)
    return message


def pair_message(pair: Pair, control: Control, now: datetime, stamped: service.Stamped | None = None) -> pb.ProvincePair:
    message = pb.ProvincePair(name=pair.name, grantor_province=pair.grantor_province,
                              other_province=pair.other_province, open=pair.open, limits=limits_message(pair.limits),
                              open_now=pair.open_at(now) and not control.kill_switch)
    if pair.opens_at:
        message.open_time.CopyFrom(timestamp(pair.opens_at))
    if pair.closes_at:
        message.close_time.CopyFrom(timestamp(pair.closes_at))
    if stamped is not None and stamped.updated_at:
        message.update_time.CopyFrom(timestamp(stamped.updated_at))
        message.updated_by = stamped.updated_by or ""
    return message


def _pair_ref(directions: Directions) -> pb.PairRef:
    return pb.PairRef(grantor_province=directions.grantor_province, other_province=directions.other_province,
                      both_ways=directions.both_ways)


def change_message(request: ChangeRequest) -> pb.ChangeRequest:
    message = pb.ChangeRequest(name=request.name, state=CHANGE_STATES.wire(request.state), reason=request.reason,
                               requested_by=request.requested_by, create_time=timestamp(request.created_at),
                               decided_by=request.decided_by or "", decision_reason=request.decision_reason or "",
                               summary=summary(request.change))
    if request.decided_at:
        message.decide_time.CopyFrom(timestamp(request.decided_at))
    change = request.change
    if isinstance(change, RegionStateChange):
        message.region_state.CopyFrom(pb.RegionStateChange(region=f"regions/{change.admdvs}",
                                                           state=ROLLOUT_STATES.wire(change.state)))
    elif isinstance(change, PairOpening):
        opening = pb.PairOpening(pair=_pair_ref(change.pair), limits=limits_message(change.limits))
        if change.opens_at:
            opening.open_time.CopyFrom(timestamp(change.opens_at))
        if change.closes_at:
            opening.close_time.CopyFrom(timestamp(change.closes_at))
        message.pair_opening.CopyFrom(opening)
    elif isinstance(change, PairClosing):
        message.pair_closing.CopyFrom(pb.PairClosing(pair=_pair_ref(change.pair)))
    elif isinstance(change, PairLimitsChange):
        message.pair_limits.CopyFrom(pb.PairLimitsChange(pair=_pair_ref(change.pair),
                                                         limits=limits_message(change.limits)))
    elif isinstance(change, KillSwitchChange):
        message.kill_switch.CopyFrom(pb.KillSwitchChange(pulled=change.pulled))
    else:
        publication = pb.PolicyPublication(policy=policy_message(change.policy))
        if change.policy.effective_at:
            publication.effective_time.CopyFrom(timestamp(change.policy.effective_at))
        message.policy_publication.CopyFrom(publication)
    return message


def render_change(request: ChangeRequest) -> bytes:
    return change_message(request).SerializeToString()


def render_region(stamped: service.Stamped) -> bytes:
    return region_message(stamped).SerializeToString()


def revoked_message(row: Any) -> pb.RevokedCertificate:
    return pb.RevokedCertificate(name=f"revokedCertificates/{row.seq}", serial=row.serial or "",
                                 fingerprint_sha256=row.fingerprint or "", principal=row.principal or "",
                                 reason=row.reason, revoked_by=row.revoked_by, revoke_time=timestamp(row.revoked_at))


def render_revoked(row: Any) -> bytes:
    return revoked_message(row).SerializeToString()


def audit_message(entry: audit.Entry) -> pb.AuditEntry:
    return pb.AuditEntry(name=f"auditEntries/{entry.seq}", seq=entry.seq, time=timestamp(entry.at), actor=entry.actor,
                         action=entry.action, target=entry.target, reason=entry.reason,
                         before_json=json_text(entry.before), after_json=json_text(entry.after),
                         prev_hash=entry.prev_hash, hash=entry.hash)


def regions_response(regions: list[service.Stamped]) -> pb.ListRegionsResponse:
    return pb.ListRegionsResponse(regions=[region_message(r) for r in regions])


def pairs_response(found: tuple[Control, list[service.Stamped]], now: datetime) -> pb.ListProvincePairsResponse:
    control, stamped = found
    return pb.ListProvincePairsResponse(pairs=[pair_message(s.value, control, now, s) for s in stamped])


def kill_switch_message(stamped: service.Stamped) -> pb.KillSwitch:
    message = pb.KillSwitch(pulled=stamped.value, updated_by=stamped.updated_by or "")
    if stamped.updated_at:
        message.update_time.CopyFrom(timestamp(stamped.updated_at))
    return message


def verify_response(found: tuple[int, audit.Break | None]) -> pb.VerifyAuditLogResponse:
    checked, broken = found
    if broken is None:
        return pb.VerifyAuditLogResponse(intact=True, entries_checked=checked)
    return pb.VerifyAuditLogResponse(intact=False, entries_checked=checked, first_bad_seq=broken.seq,
                                     problem=broken.why)


# --- wire -> domain, every field checked --------------------------------------------------------------------


def _reason(request: Any, problems: Violations) -> str:
    if not _REASON.fullmatch(request.reason):
        problems.add("reason", "required: why, in 1 to 500 characters, for the audit log")
    return request.reason


def _province(value: str, field: str, problems: Violations) -> str:
    if value not in PROVINCES:
        problems.add(field, "must be a 2-digit province code, for example 32")
    return value


def _directions(ref: pb.PairRef, problems: Violations, field: str = "pair") -> Directions:
    one = _province(ref.grantor_province, f"{field}.grantor_province", problems)
    other = _province(ref.other_province, f"{field}.other_province", problems)
    if one == other and one:
        problems.add(f"{field}.other_province", "must be another province than the grantor's")
    return Directions(one, other, ref.both_ways)


def _limits(message: pb.PairLimits, preset: str, problems: Violations, field: str = "limits") -> PairLimits:
    base = PRESETS.get(preset) if preset else PairLimits()
    if base is None:
        problems.add("limits_preset", "unknown preset; known: " + ", ".join(sorted(PRESETS)))
        base = PairLimits()
    values: dict[str, Any] = {}
    for name, top in (("per_beneficiary_daily", 10_000), ("per_settlement_fen", MAX_FEN), ("daily_fen", MAX_FEN)):
        if message.HasField(name):
            value = getattr(message, name)
            if not 1 <= value <= top:
                problems.add(f"{field}.{name}", f"must be 1 to {top}")
            values[name] = value
        else:
            values[name] = getattr(base, name)
    quiet: list[time | None] = []
    for name in ("quiet_from", "quiet_until"):
        text = getattr(message, name)
        if text and not _HHMM.fullmatch(text):
            problems.add(f"{field}.{name}", "must be HH:MM (00:00 to 23:59), Asia/Shanghai")
            text = ""
        quiet.append(time.fromisoformat(text) if text else getattr(base, name))
    if (quiet[0] is None) != (quiet[1] is None) or (quiet[0] is not None and quiet[0] == quiet[1]):
        problems.add(f"{field}.quiet_until", "set quiet_from and quiet_until together, as two different times")
    return PairLimits(values["per_beneficiary_daily"], values["per_settlement_fen"], values["daily_fen"], *quiet)


def _schedule(request: Any, problems: Violations) -> tuple[datetime | None, datetime | None]:
    opens, closes = parse_time(request, "open_time", problems), parse_time(request, "close_time", problems)
    if opens and closes and closes <= opens:
        problems.add("close_time", "must be after open_time")
    return opens, closes


def _policy(message: Any, effective: datetime, problems: Violations) -> Policy:
    def each(values: Any, vocabulary: Any, field: str) -> frozenset[Any]:
        found = [vocabulary.domain(v) for v in values]
        if None in found:
            problems.add(f"policy.{field}", "each must be one of " + ", ".join(vocabulary.names))
        return frozenset(v for v in found if v is not None)

    geography, order = GEOGRAPHIES.domain(message.geography), GRANTOR_ORDERS.domain(message.grantor_order)
    if geography is None:
        problems.add("policy.geography", "must be one of " + ", ".join(GEOGRAPHIES.names))
    if order is None:
        problems.add("policy.grantor_order", "must be one of " + ", ".join(GRANTOR_ORDERS.names))
    policy = Policy(message.province, message.display_name, 0, each(message.relationships, RELATIONSHIPS, "relationships"),
                    geography or Geography.PROVINCE, each(message.confirmation_required, RELATIONSHIPS,
                                                          "confirmation_required"),
                    message.review_required, each(message.allowed_uses, USES, "allowed_uses"),
                    order or GrantorOrder.FILING, tuple(message.sources), effective)
    for field, why in policy_problems(policy):
        problems.add(f"policy.{field}", why)
    return policy


def _certificate(request: pb.RevokeCertificateRequest,
                 problems: Violations) -> tuple[str | None, str | None, str | None]:
    """(serial, fingerprint, principal) to revoke, normalised to lower-case hex."""
    which = request.WhichOneof("certificate")
    if which == "certificate_pem":
        if identity_from_pem(request.certificate_pem.encode()) is None:
            problems.add("certificate_pem", "not a PEM certificate")
            return None, None, None
        identity = identity_from_pem(request.certificate_pem.encode())
        assert identity is not None  # it was read above
        return identity.serial, identity.fingerprint, str(identity.principal) if identity.principal else None
    if which in ("serial", "fingerprint_sha256"):
        text = getattr(request, which).replace(":", "").lower()
        size = 64 if which == "fingerprint_sha256" else 40
        if not (_HEX.fullmatch(text) and len(text) <= size and (which == "serial" or len(text) == size)):
            problems.add(which, f"must be hex ({'64' if size == 64 else 'up to 40'} digits, colons allowed)")
            return None, None, None
        return (format(int(text, 16), "x"), None, None) if which == "serial" else (None, text, None)
    problems.add("certificate", "give serial, fingerprint_sha256 or certificate_pem")
    return None, None, None


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, db: Runner, reads: Runner, hasher: IdHasher, policies: dict[str, Policy]) -> None:
        """``reads``: where a long read runs (the whole audit chain's check), beside the calls' ``db``."""
        self._db = db
        self._reads = reads
        self._hash = hasher
        self._policies = policies

    async def _change(self, request: Any, caller: Principal, method: str, change: Change, problems: Violations):
        problems.raise_if_any()
        key = request_key(caller, method, request, self._hash)
        return pb.ChangeRequest.FromString(await self._db(service.request_change, str(caller), change,
                                                          request.reason, key, render_change))

    @staticmethod
    def _checked(request: Any) -> Violations:
        problems = Violations()
        check_request_id(request.request_id, problems)
        _reason(request, problems)
        return problems

    @rpc(Kind.OPERATOR)
    async def ListRegions(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return regions_response(await self._db(service.regions))

    @rpc(Kind.OPERATOR)
    async def CreateRegion(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        parse_region(f"regions/{request.admdvs}", problems, "admdvs")
        if not 1 <= len(request.display_name) <= 64 or not request.display_name.isprintable():
            problems.add("display_name", "required: 1 to 64 printable characters")
        problems.raise_if_any()
        key = request_key(caller, "CreateRegion", request, self._hash)
        region = Region(request.admdvs, request.display_name, RolloutState.DISABLED)
        return pb.Region.FromString(await self._db(service.create_region, str(caller), region, request.reason, key,
                                                   render_region))

    @rpc(Kind.OPERATOR)
    async def SetRegionState(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        admdvs = parse_region(request.region, problems, "region")
        state = ROLLOUT_STATES.domain(request.state)
        if state is None:
            problems.add("state", "must be one of " + ", ".join(ROLLOUT_STATES.names))
        return await self._change(request, caller, "SetRegionState", RegionStateChange(admdvs, state), problems)

    @rpc(Kind.OPERATOR)
    async def ListProvincePairs(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return pairs_response(await self._db(service.pairs), datetime.now(timezone.utc))

    @rpc(Kind.OPERATOR)
    async def OpenProvincePair(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        pair = _directions(request.pair, problems)
        opens, closes = _schedule(request, problems)
        limits = _limits(request.limits, request.limits_preset, problems)
        return await self._change(request, caller, "OpenProvincePair", PairOpening(pair, opens, closes, limits),
                                  problems)

    @rpc(Kind.OPERATOR)
    async def CloseProvincePair(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        return await self._change(request, caller, "CloseProvincePair", PairClosing(_directions(request.pair, problems)),
                                  problems)

    @rpc(Kind.OPERATOR)
    async def SetProvincePairLimits(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        change = PairLimitsChange(_directions(request.pair, problems),
                                  _limits(request.limits, request.limits_preset, problems))
        return await self._change(request, caller, "SetProvincePairLimits", change, problems)

    @rpc(Kind.OPERATOR)
    async def GetKillSwitch(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return kill_switch_message(await self._db(service.kill_switch))

    @rpc(Kind.OPERATOR)
    async def SetKillSwitch(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        return await self._change(request, caller, "SetKillSwitch", KillSwitchChange(request.pulled), problems)

    @rpc(Kind.OPERATOR)
    async def PublishProvincePolicy(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        effective = parse_time(request, "effective_time", problems) or datetime.now(timezone.utc)
        policy = _policy(request.policy, effective, problems)
        if (shipped := self._policies.get(policy.province)) is not None:  # published versions number after it
            policy = replace(policy, version=shipped.version)
        return await self._change(request, caller, "PublishProvincePolicy", PolicyPublication(policy), problems)

    @rpc(Kind.OPERATOR)
    async def ListChangeRequests(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        state = CHANGE_STATES.domain(request.state)
        if request.state and state is None:
            problems.add("state", "unknown change state")
        size = page_size(request.page_size, problems)
        scope = f"changes:{request.state}"
        after = decode_position(request.page_token, scope, problems)
        problems.raise_if_any()
        rows, more = await self._db(service.change_requests, state, after, size)
        return pb.ListChangeRequestsResponse(change_requests=[change_message(r) for _, r in rows],
                                             next_page_token=encode_token(scope, str(rows[-1][0])) if more else "")

    @rpc(Kind.OPERATOR)
    async def GetChangeRequest(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        request_id = self._change_id(request.name, problems)
        problems.raise_if_any()
        return change_message(await self._db(service.change_request, request_id))

    @rpc(Kind.OPERATOR)
    async def ApproveChangeRequest(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return await self._decide(request, caller, "ApproveChangeRequest", service.approve)

    @rpc(Kind.OPERATOR)
    async def RejectChangeRequest(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return await self._decide(request, caller, "RejectChangeRequest", service.reject)

    async def _decide(self, request: Any, caller: Principal, method: str, decide: Any) -> pb.ChangeRequest:
        problems = self._checked(request)
        request_id = self._change_id(request.name, problems)
        problems.raise_if_any()
        key = request_key(caller, method, request, self._hash)
        return pb.ChangeRequest.FromString(await self._db(decide, str(caller), request_id, request.reason, key,
                                                          render_change))

    @rpc(Kind.OPERATOR)
    async def RevokeCertificate(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = self._checked(request)
        serial, fingerprint, principal = _certificate(request, problems)
        problems.raise_if_any()
        key = request_key(caller, "RevokeCertificate", request, self._hash)
        return pb.RevokedCertificate.FromString(await self._db(service.revoke, str(caller), serial, fingerprint,
                                                               principal, request.reason, key, render_revoked))

    @rpc(Kind.OPERATOR)
    async def ListRevokedCertificates(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        rows = await self._db(service.revocations)
        return pb.ListRevokedCertificatesResponse(revoked_certificates=[revoked_message(r) for r in rows])

    @rpc(Kind.OPERATOR)
    async def ListAuditEntries(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        for field in ("actor", "action", "target"):
            if len(getattr(request, field)) > 128 or not getattr(request, field).isprintable():
                problems.add(field, "at most 128 printable characters")
        start, end = parse_time(request, "start_time", problems), parse_time(request, "end_time", problems)
        size = page_size(request.page_size, problems)
        scope = json_text([request.actor, request.action, request.target, str(start), str(end)])
        after = decode_position(request.page_token, scope, problems)
        problems.raise_if_any()
        rows, more = await self._db(service.audit_entries, request.actor, request.action, request.target, start, end,
                                    after, size)
        return pb.ListAuditEntriesResponse(entries=[audit_message(e) for e in rows],
                                           next_page_token=encode_token(scope, str(rows[-1].seq)) if more else "")

    @rpc(Kind.OPERATOR)
    async def VerifyAuditLog(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        return verify_response(await self._reads(service.verify_audit))

    @rpc(Kind.OPERATOR)
    async def ListImpersonationAttempts(self, request, context, caller: Principal):  # type: ignore[no-untyped-def]
        problems = Violations()
        if request.caller and not re.fullmatch(r"region/[0-9]{6}", request.caller):
            problems.add("caller", "must look like region/{admdvs}")
        size = page_size(request.page_size, problems)
        scope = f"impersonations:{request.caller}"
        after = decode_position(request.page_token, scope, problems)
        problems.raise_if_any()
        rows, more = await self._db(service.impersonations, request.caller, after, size)
        return pb.ListImpersonationAttemptsResponse(attempts=[pb.ImpersonationAttempt(
            day=r.day.isoformat(), caller=r.caller,
            beneficiary=member_name(r.beneficiary_region, r.beneficiary_psn_no) if r.beneficiary_region else "",
            credential_type=r.credential, attempts=r.attempts, first_time=timestamp(r.first_at),
            last_time=timestamp(r.last_at), last_institution_code=r.last_institution_code or "",
            last_request_id=r.last_request_id or "") for r in rows],
            next_page_token=encode_token(scope, str(rows[-1].seq)) if more else "")

    @staticmethod
    def _change_id(name: str, problems: Violations) -> str:
        collection, _, request_id = name.partition("/")
        if collection != "changeRequests" or not re.fullmatch(r"[0-9a-f-]{36}", request_id):
            problems.add("name", "must look like changeRequests/{id}")
        return request_id

