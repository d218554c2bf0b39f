"""Settlements: quote, settle, reverse, read and list (R5-R10, R15).

A settlement is one database transaction: rules, balances (row-locked on
PostgreSQL; SQLite serialises writers), transfers, the settlement record, its
clearing lines and the request log entry commit together or not at all.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable

from gateway.domain import ledger
from gateway.domain.bindings import Party, Person, refuse
from gateway.domain.ids import ordered_id
from gateway.domain.errors import Category, Refusal
from gateway.domain.members import Member
from gateway.domain.policies import Policy
from gateway.domain.regions import Scoped, province_of
from gateway.domain.clock import china_day
from gateway.domain.clearing import ClearingLine, LineKind, payment_line, refund_line, window_of
from gateway.domain.rollout import Control, daily_limit_refusal, region_refusal
from gateway.domain.settlements import (Candidate, Claim, PaidLine, Quote, RefundRecord, Settlement, check_bill,
                                        check_credential, crossings, draw, exclusion, refund_plan)
from gateway.domain.visibility import SettlementView, settlement_view
from gateway.service import clearing
from gateway.service.once import RequestKey, in_transaction, run_once
from gateway.service.ports import Ahead, UnitOfWork, UnitOfWorkFactory


def _patient(uow: UnitOfWork, ref: Party | Person) -> Member | None:
    if isinstance(ref, Party):
        return uow.members.get(ref.region, ref.psn_no)
    return uow.members.in_region_by_hash(ref.region, ref.id_hash)


def _payers(uow: UnitOfWork, policies: dict[str, Policy], caller: str, claim: Claim, beneficiary: Member,
            lock: bool, control: Control, at: datetime) -> list[Candidate]:
    """The grantors who may pay this bill, in drawing order, with their balances (R2, R5, R7, R9, R10)."""
    active = uow.settlements.active_bindings(Party(beneficiary.region, beneficiary.psn_no))
    by_grantor = {b.grantor: (b, grantor) for b, grantor in active}
    if claim.grantors:
        missing = [g for g in claim.grantors if g not in by_grantor]
        if missing:
            raise refuse("NO_ACTIVE_BINDING", "a named grantor has no active binding with this beneficiary", "R10",
                         grantor_region=missing[0].region, grantor_psn_no=missing[0].psn_no)
        active = [by_grantor[g] for g in claim.grantors]
    if not active:
        raise refuse("NO_ACTIVE_BINDING", "the beneficiary has no active binding", "R10")
    candidates = []
    for binding, grantor in active:
        policy = control.policy(province_of(binding.grantor.region), at, policies)
        if policy is None:
            raise refuse("NO_PROVINCE_POLICY", "the grantor's province has no policy at the gateway", "R7",
                         grantor_region=binding.grantor.region)
        candidates.append(Candidate(binding, grantor, policy))
    excluded = [(c, exclusion(c, beneficiary, caller, claim.use, claim.personal_part, control, at))
                for c in candidates]
    refusals = [why for _, why in excluded if why is not None]
    if refusals and (claim.grantors or len(refusals) == len(candidates)):
        raise refusals[0]
    payers = [c for c, why in excluded if why is None]
    balances = uow.ledger.balances([ledger.share(c.binding.grantor) for c in payers], lock=lock)
    return [Candidate(c.binding, c.grantor, c.policy, balances[ledger.share(c.binding.grantor)]) for c in payers]


def _plan(uow: UnitOfWork, policies: dict[str, Policy], caller: str, claim: Claim, lock: bool,
          at: datetime) -> Quote:
    check_bill(claim, caller)
    control = uow.control.current()
    if (refusal := region_refusal(control, claim.beneficiary.region)) is not None:
        raise refusal
    beneficiary = check_credential(claim, _patient(uow, claim.beneficiary))
    payers = _payers(uow, policies, caller, claim, beneficiary, lock, control, at)
    return Quote(Party(beneficiary.region, beneficiary.psn_no), claim.personal_part,
                 tuple(draw(claim.personal_part, payers, claim.allow_partial)))


def _count_crossings(uow: UnitOfWork, plan: Quote, treatment_region: str, at: datetime) -> None:
    """Counts what this settlement pays across each province pair against the pair's daily limits (R5)."""
    fen: dict[tuple[str, str], int] = {}
    for line in plan.lines:
        for pair in crossings(line.grantor.region, plan.beneficiary.region, treatment_region):
            fen[pair] = fen.get(pair, 0) + line.amount
    if not fen:
        return
    control = uow.control.current()
    for pair, amount in sorted(fen.items()):
        switch = control.pair(*pair)
        if (limit := uow.control.count_settlement(china_day(at), switch, plan.beneficiary, amount)) is not None:
            raise daily_limit_refusal(switch, limit)


def quote(uow_factory: UnitOfWorkFactory, policies: dict[str, Policy], caller: str, claim: Claim,
          at: datetime | None = None) -> Quote:
    """Who would pay how much; nothing moves, and nothing is recorded: an attempt at impersonation
    is recorded when it tries to pay (Settle), not when it asks. The daily limits are not counted."""
    when = at or datetime.now(timezone.utc)
    return in_transaction(uow_factory, lambda uow: _plan(uow, policies, caller, claim, False, when), readonly=True)


def settle(uow_factory: UnitOfWorkFactory, policies: dict[str, Policy], caller: str, claim: Claim,
           settlement_id: str, key: RequestKey, render: Callable[[Settlement], bytes],
           at: datetime | None = None) -> bytes:
    """Pays the bill; ``settlement_id`` is the caller's choice (AIP-133) in its own namespace, or
    empty for a UUID. ``at``: the time the rules see (now, unless a test says otherwise)."""
    now = at or datetime.now(timezone.utc)

    def work(uow: UnitOfWork) -> Settlement:
        if settlement_id and uow.settlements.get(caller, settlement_id) is not None:
            raise refuse("SETTLEMENT_ID_TAKEN", f"regions/{caller}/settlements/{settlement_id} already exists", None,
                         Category.ALREADY_EXISTS, settlement=f"regions/{caller}/settlements/{settlement_id}")
        plan = _plan(uow, policies, caller, claim, uow.locks_rows, now)
        _count_crossings(uow, plan, caller, now)
        institution = claim.institution
        record = Settlement(
            settlement_id or ordered_id(), caller, plan.beneficiary, claim.credential, institution and institution.code,
            institution and institution.kind, claim.use, claim.total, claim.fund_part, claim.personal_part,
            claim.items, tuple(PaidLine(i, line.binding_id, line.grantor, line.amount, 0)
                               for i, line in enumerate(plan.lines)), (), now)
        seq = uow.settlements.add(record)
        uow.ledger.post([t for line in plan.lines for t in ledger.pay(line.grantor, caller, line.amount)], now, seq)
        clearing.record(uow, now, [ClearingLine(payment_line(caller, record.id, line.position), LineKind.PAYMENT,
                                                line.grantor.region, caller, line.amount, now, seq)
                                   for line in record.lines])
        return replace(record, filed=seq)

    def recorded(uow: UnitOfWork, refusal: Refusal) -> None:
        """R8: an impersonation attempt on a known patient is recorded, once per request."""
        if refusal.reason == "IMPERSONATION" and (patient := _patient(uow, claim.beneficiary)) is not None:
            uow.settlements.record_impersonation(
                datetime.now(timezone.utc), f"region/{caller}", Party(patient.region, patient.psn_no),
                claim.credential, claim.holder_hash, claim.institution.code if claim.institution else None,
                key.request_id)

    known = claim.beneficiary if isinstance(claim.beneficiary, Party) else None  # else found by the holder's hash
    ahead = Ahead(member=known, bindings=known, shares=True, window=window_of(now), settlement=True)
    return run_once(uow_factory, key, work, render, recorded, ahead)


def reverse(uow_factory: UnitOfWorkFactory, caller: str, name: Scoped, amount: int, key: RequestKey,
            render: Callable[[Settlement], bytes], at: datetime | None = None) -> bytes:
    """Refunds ``amount`` (0: all that is left) to the grantors who paid, last drawn first. A grantor
    whose enrolment has ended since gets it released straight back to their region (R14). Only the
    region that settled the bill reverses it: the name says which, so another region is refused
    before anything is looked up."""

    def work(uow: UnitOfWork) -> Settlement:
        if caller != name.region:
            raise Refusal(Category.PERMISSION_DENIED, "NOT_TREATMENT_REGION", "only the region that settled a "
                          "bill may reverse it", metadata={"caller_region": caller,
                                                           "settlement": _name(name)})
        if uow.locks_rows:  # refunds of one bill one after the other: each numbers its clearing lines after the last
            uow.settlements.lock(name.region, name.id)
        settlement = _own(uow, name)
        plan = refund_plan(settlement.lines, amount or (settlement.paid - settlement.refunded))
        if not plan:
            raise refuse("NOTHING_TO_REFUND", "mutual aid paid nothing that is not refunded already", "R6",
                         settlement=settlement.name)
        if uow.locks_rows:
            uow.ledger.balances([ledger.share(line.grantor) for line, _ in plan], lock=True)
        now = at or datetime.now(timezone.utc)
        refund = RefundRecord(ordered_id(), sum(take for _, take in plan), f"region/{caller}", now)
        uow.settlements.refund(settlement, refund, plan)
        number = len(settlement.refunds) + 1
        clearing.record(uow, at, [ClearingLine(refund_line(caller, settlement.id, number, line.position),
                                                 LineKind.REFUND, line.grantor.region, caller, take, now,
                                                 settlement.filed) for line, take in plan])
        entries = []
        for line, take in plan:
            entries += ledger.refund(line.grantor, caller, take)
            grantor = uow.members.get(line.grantor.region, line.grantor.psn_no)
            if grantor is None or not grantor.status.active:  # R14: an ended grantor's money goes home at once
                entries += ledger.release(line.grantor, take)
        uow.ledger.post(entries, now, settlement.filed)
        return _own(uow, name)

    return run_once(uow_factory, key, work, render)


def get(uow_factory: UnitOfWorkFactory, caller: str, name: Scoped) -> SettlementView:
    """What ``caller`` may see of the settlement. In its own namespace a caller learns that an id is
    free (NOT_FOUND); elsewhere, a settlement that does not exist and one it is no party to get the
    same refusal (AIP-211)."""
    found = in_transaction(uow_factory, lambda uow: _own(uow, name) if caller == name.region
                           else uow.settlements.get(name.region, name.id), readonly=True)
    view = settlement_view(found, caller) if found is not None else None
    if view is None:
        raise Refusal(Category.PERMISSION_DENIED, "REGION_NOT_PARTY", f"region {caller} may not read "
                      f"{_name(name)}: it is no party to such a settlement",
                      metadata={"caller_region": caller, "settlement": _name(name)})
    return view


def page(uow_factory: UnitOfWorkFactory, member: Party, as_grantor: bool, start: datetime | None,
         end: datetime | None, after: int | None, size: int) -> tuple[list[Settlement], bool]:
    rows = in_transaction(uow_factory, lambda uow: uow.settlements.page(member, as_grantor, start, end, after,
                                                                        size + 1), readonly=True)
    return rows[:size], len(rows) > size


def _name(name: Scoped) -> str:
    return f"regions/{name.region}/settlements/{name.id}"


def _own(uow: UnitOfWork, name: Scoped) -> Settlement:
    """A settlement in the caller's own namespace."""
    settlement = uow.settlements.get(name.region, name.id)
    if settlement is None:
        raise Refusal(Category.NOT_FOUND, "SETTLEMENT_NOT_FOUND", f"no settlement {_name(name)}",
                      metadata={"settlement": _name(name)})
    return settlement
