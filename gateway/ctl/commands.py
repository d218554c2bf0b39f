"""One function per command: build the request from the options, call the gateway, print the answer.

Each takes the Session and the parsed options and returns the exit status (None: 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Iterable

from google.protobuf.message import Message

from gateway._proto.copay.v1 import admin_pb2 as pb
from gateway._proto.copay.v1 import bindings_pb2, policies_pb2, settlements_pb2
from gateway.api.vocabulary import RELATIONSHIPS
from gateway.api.names import MAX_PAGE_SIZE
from gateway.api.policies import policy_message
from gateway.ctl.output import as_json, change_line, label, limits_text, moment, record, table
from gateway.ctl.session import LocalRefusal, Session, read_file
from gateway.domain.relationships import SCOPES
from gateway.policies import parse

Args = argparse.Namespace


def _show(args: Args, message: Message, for_people: Callable[[], str]) -> None:
    print(as_json(message) if args.json else for_people())


def _changed(args: Args, change: pb.ChangeRequest) -> None:
    _show(args, change, lambda: change_line(change))


def _pages(call: Callable[[Any], Any], request: Any, field: str, limit: int | None) -> tuple[list[Any], str]:
    """The items of every page up to ``limit`` (None: all), and the token of the page after them."""
    items: list[Any] = []
    while True:
        if limit is not None:
            request.page_size = min(limit - len(items), MAX_PAGE_SIZE)
        response = call(request)
        items.extend(getattr(response, field))
        request.page_token = response.next_page_token
        if not request.page_token or (limit is not None and len(items) >= limit):
            return items, request.page_token


# --- regions ----------------------------------------------------------------------------------------------


def regions(session: Session, args: Args) -> None:
    answer = session.admin.ListRegions(pb.ListRegionsRequest())
    _show(args, answer, lambda: table(
        ["ADMDVS", "NAME", "STATE", "UPDATED", "BY"],
        ([r.admdvs, r.display_name, label(r, "state"), moment(r, "update_time"), r.updated_by]
         for r in answer.regions), "no regions registered"))


def region_add(session: Session, args: Args) -> None:
    region = session.admin.CreateRegion(pb.CreateRegionRequest(
        request_id=session.request_id(), admdvs=args.admdvs, display_name=args.display_name, reason=args.reason))
    _show(args, region, lambda: f"registered: {region.name} {region.display_name}, {label(region, 'state')} "
                                "(enable it with 'copayctl regions set')")


def region_set(session: Session, args: Args) -> None:
    state = pb.RolloutState.Value(f"ROLLOUT_STATE_{args.state.upper()}")
    _changed(args, session.admin.SetRegionState(pb.SetRegionStateRequest(
        request_id=session.request_id(), region=f"regions/{args.admdvs}", state=state, reason=args.reason)))


# --- province pairs -----------------------------------------------------------------------------------------


def _schedule(start: str, end: str) -> str:
    return " ".join(([f"from {start}"] if start else []) + ([f"until {end}"] if end else []))


def pairs(session: Session, args: Args) -> None:
    answer = session.admin.ListProvincePairs(pb.ListProvincePairsRequest())
    _show(args, answer, lambda: table(
        ["PAIR", "OPEN", "OPEN NOW", "SCHEDULE", "LIMITS", "UPDATED", "BY"],
        ([f"{p.grantor_province}->{p.other_province}", _yes(p.open), _yes(p.open_now),
          _schedule(moment(p, "open_time"), moment(p, "close_time")), limits_text(p.limits),
          moment(p, "update_time"), p.updated_by] for p in answer.pairs),
        "no province pair has been switched: every pair is closed"))


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _pair(args: Args) -> pb.PairRef:
    return pb.PairRef(grantor_province=args.grantor, other_province=args.other, both_ways=args.both)


def _limits(args: Args) -> pb.PairLimits:
    limits = pb.PairLimits()
    for field in ("per_beneficiary_daily", "per_settlement_fen", "daily_fen"):
        if (value := getattr(args, field)) is not None:
            setattr(limits, field, value)
    if args.quiet:
        limits.quiet_from, limits.quiet_until = args.quiet
    return limits


def pair_open(session: Session, args: Args) -> None:
    request = pb.OpenProvincePairRequest(request_id=session.request_id(), pair=_pair(args), limits=_limits(args),
                                         limits_preset=args.preset or "", reason=args.reason)
    if args.start:
        request.open_time.FromDatetime(args.start)
    if args.end:
        request.close_time.FromDatetime(args.end)
    _changed(args, session.admin.OpenProvincePair(request))


def pair_close(session: Session, args: Args) -> None:
    _changed(args, session.admin.CloseProvincePair(pb.CloseProvincePairRequest(
        request_id=session.request_id(), pair=_pair(args), reason=args.reason)))


def pair_limits(session: Session, args: Args) -> None:
    _changed(args, session.admin.SetProvincePairLimits(pb.SetProvincePairLimitsRequest(
        request_id=session.request_id(), pair=_pair(args), limits=_limits(args), limits_preset=args.preset or "",
        reason=args.reason)))


# --- kill switch --------------------------------------------------------------------------------------------


def kill_switch(session: Session, args: Args) -> None:
    switch = session.admin.GetKillSwitch(pb.GetKillSwitchRequest())
    state = "pulled: all cross-province mutual aid is stopped" if switch.pulled else "lifted"
    by = f"; set by {switch.updated_by} at {moment(switch, 'update_time')}" if switch.updated_by else ""
    _show(args, switch, lambda: f"kill switch {state}{by}")


def kill_switch_set(session: Session, args: Args) -> None:
    _changed(args, session.admin.SetKillSwitch(pb.SetKillSwitchRequest(
        request_id=session.request_id(), pulled=args.pulled, reason=args.reason)))


# --- change requests ----------------------------------------------------------------------------------------


def _what(change: pb.ChangeRequest) -> str:
    """The summary, with the limits the change would set."""
    which = change.WhichOneof("change")
    if which in ("pair_opening", "pair_limits"):
        return f"{change.summary}: {limits_text(getattr(change, which).limits)}"
    return change.summary


def requests(session: Session, args: Args) -> None:
    state = pb.ChangeState.Value(f"CHANGE_STATE_{args.state.upper()}") if args.state else 0
    request = pb.ListChangeRequestsRequest(state=state)
    if args.all_pages:
        items, token = _pages(session.admin.ListChangeRequests, request, "change_requests", None)
        answer = pb.ListChangeRequestsResponse(change_requests=items, next_page_token=token)
    else:
        answer = session.admin.ListChangeRequests(request)
    _show(args, answer, lambda: table(
        ["ID", "STATE", "CHANGE", "REQUESTED BY", "CREATED", "REASON", "DECIDED BY"],
        ([c.name.removeprefix("changeRequests/"), label(c, "state"), _what(c), c.requested_by,
          moment(c, "create_time"), c.reason, c.decided_by] for c in answer.change_requests),
        "no change requests"))
    if answer.next_page_token and not args.json:
        print("(more change requests: add --all-pages)", file=sys.stderr)


def request_show(session: Session, args: Args) -> None:
    change = session.admin.GetChangeRequest(pb.GetChangeRequestRequest(name=args.name))
    _show(args, change, lambda: record([
        ("name", change.name), ("state", label(change, "state")), ("change", _what(change)),
        ("reason", change.reason), ("requested by", f"{change.requested_by} at {moment(change, 'create_time')}"),
        ("decided by", f"{change.decided_by} at {moment(change, 'decide_time')}" if change.decided_by else ""),
        ("decision reason", change.decision_reason)]))


def approve(session: Session, args: Args) -> None:
    _changed(args, session.admin.ApproveChangeRequest(pb.ApproveChangeRequestRequest(
        name=args.name, request_id=session.request_id(), reason=args.reason)))


def reject(session: Session, args: Args) -> None:
    _changed(args, session.admin.RejectChangeRequest(pb.RejectChangeRequestRequest(
        name=args.name, request_id=session.request_id(), reason=args.reason)))


# --- certificates -------------------------------------------------------------------------------------------


def revoke(session: Session, args: Args) -> None:
    request = pb.RevokeCertificateRequest(request_id=session.request_id(), reason=args.reason)
    if args.certificate:
        request.certificate_pem = read_file(args.certificate, "certificate to revoke").decode("ascii", "replace")
    elif args.serial:
        request.serial = args.serial
    else:
        request.fingerprint_sha256 = args.fingerprint
    revoked = session.admin.RevokeCertificate(request)
    _show(args, revoked, lambda: f"revoked: {_certificate(revoked)} ({revoked.name})")


def _certificate(revoked: pb.RevokedCertificate) -> str:
    return ", ".join(f"{what} {value}" for what, value in (
        ("certificate of", revoked.principal), ("serial", revoked.serial),
        ("SHA-256 fingerprint", revoked.fingerprint_sha256)) if value)


def revoked(session: Session, args: Args) -> None:
    answer = session.admin.ListRevokedCertificates(pb.ListRevokedCertificatesRequest())
    _show(args, answer, lambda: table(
        ["NAME", "PRINCIPAL", "SERIAL", "SHA-256 FINGERPRINT", "REVOKED", "BY", "REASON"],
        ([r.name, r.principal, r.serial, r.fingerprint_sha256, moment(r, "revoke_time"), r.revoked_by, r.reason]
         for r in answer.revoked_certificates), "no certificates revoked"))


# --- policies -----------------------------------------------------------------------------------------------


def _names(relationships: Iterable[int]) -> str:
    return ", ".join(bindings_pb2.Relationship.Name(r).removeprefix("RELATIONSHIP_").lower() for r in relationships)


def _scope(policy: policies_pb2.ProvincePolicy) -> str:
    """The scope's name in the policy files (``broad``, ``narrow``), else each relationship."""
    scope = frozenset(RELATIONSHIPS.domain(r) for r in policy.relationships)
    return next((name for name, members in SCOPES.items() if members == scope), None) or _names(
        policy.relationships)


def policies(session: Session, args: Args) -> None:
    answer = session.policies.ListProvincePolicies(policies_pb2.ListProvincePoliciesRequest())
    _show(args, answer, lambda: table(
        ["POLICY", "NAME", "GEOGRAPHY", "RELATIONSHIPS", "CONFIRMATION", "REVIEW", "USES", "IN FORCE FROM"],
        ([p.policy, p.display_name, label(p, "geography"), _scope(p), _names(p.confirmation_required),
          _yes(p.review_required), ", ".join(settlements_pb2.Use.Name(u).removeprefix("USE_").lower()
                                             for u in p.allowed_uses), moment(p, "effective_time") or "shipped"]
         for p in answer.policies),
        "no policies in force"))


def policy_publish(session: Session, args: Args) -> None:
    text = read_file(args.file, "policy file").decode("utf-8", "replace")
    try:
        policy = parse(text, args.file)
    except ValueError as problem:
        raise LocalRefusal(f"not a valid policy file: {problem}") from None
    request = pb.PublishProvincePolicyRequest(request_id=session.request_id(), policy=policy_message(policy),
                                              reason=args.reason)
    if args.effective:
        request.effective_time.FromDatetime(args.effective)
    _changed(args, session.admin.PublishProvincePolicy(request))


# --- audit log and impersonation attempts -------------------------------------------------------------------


def _summary(entry: pb.AuditEntry) -> str:
    """The change's summary the gateway stored with the state after it, if any."""
    after = json.loads(entry.after_json) if entry.after_json else None
    return after.get("summary", "") if isinstance(after, dict) else ""


def audit(session: Session, args: Args) -> None:
    request = pb.ListAuditEntriesRequest(actor=args.actor or "", action=args.action or "", target=args.target or "")
    if args.since:
        request.start_time.FromDatetime(args.since)
    if args.until:
        request.end_time.FromDatetime(args.until)
    entries, token = _pages(session.admin.ListAuditEntries, request, "entries", args.limit)
    answer = pb.ListAuditEntriesResponse(entries=entries, next_page_token=token)
    _show(args, answer, lambda: table(
        ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "WHAT", "REASON"],
        ([str(e.seq), moment(e, "time"), e.actor, e.action, e.target, _summary(e), e.reason] for e in entries),
        "no audit entries"))
    if token and not args.json:
        print(f"(more entries: raise --limit above {args.limit})", file=sys.stderr)


def audit_verify(session: Session, args: Args) -> int:
    answer = session.admin.VerifyAuditLog(pb.VerifyAuditLogRequest())
    _show(args, answer, lambda: f"audit log intact: {answer.entries_checked} entries checked" if answer.intact
          else f"audit log broken at entry {answer.first_bad_seq}: {answer.problem}")
    return 0 if answer.intact else 1


def impersonations(session: Session, args: Args) -> None:
    request = pb.ListImpersonationAttemptsRequest(caller=args.caller or "")
    attempts, _ = _pages(session.admin.ListImpersonationAttempts, request, "attempts", None)
    answer = pb.ListImpersonationAttemptsResponse(attempts=attempts)
    _show(args, answer, lambda: table(
        ["DAY", "CALLER", "PATIENT", "CREDENTIAL", "ATTEMPTS", "FIRST", "LAST", "LAST INSTITUTION", "LAST REQUEST"],
        ([a.day, a.caller, a.beneficiary or "(others: past the day's row cap)", a.credential_type, str(a.attempts),
          moment(a, "first_time"), moment(a, "last_time"), a.last_institution_code, a.last_request_id]
         for a in attempts), "no impersonation attempts"))
