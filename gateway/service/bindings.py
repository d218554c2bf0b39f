"""Bindings use cases: file, confirm, approve, revoke, read, list; and R14."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from gateway.domain.bindings import (SYSTEM, Binding, Cause, Party, Status, Transition, after_confirmation, decide,
                                     end_cause, refuse, require_status)
from gateway.domain.ids import ordered_id
from gateway.domain.errors import Category, Refusal
from gateway.domain.members import Member
from gateway.domain.policies import Policy
from gateway.domain.regions import province_of
from gateway.domain.relationships import Relationship
from gateway.service.once import RequestKey, in_transaction, run_once
from gateway.service.ports import UnitOfWork, UnitOfWorkFactory

Render = Callable[[Binding], bytes]
GRANTOR_CAUSES = {Cause.GRANTOR_REQUEST, Cause.REVIEW_REJECTED}
BENEFICIARY_CAUSES = {Cause.BENEFICIARY_REQUEST, Cause.CONFIRMATION_DECLINED}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _member(uow: UnitOfWork, party: Party, role: str, rule: str) -> Member:
    member = uow.members.get(party.region, party.psn_no)
    if member is None:
        raise Refusal(Category.NOT_FOUND, "MEMBER_NOT_FOUND", f"the {role} is not a member known to the gateway",
                      rule=rule, metadata={"role": role, "region": party.region, "psn_no": party.psn_no})
    return member


def _policy(policies: dict[str, Policy], region: str) -> Policy:
    policy = policies.get(province_of(region))
    if policy is None:
        raise refuse("NO_PROVINCE_POLICY", f"province {province_of(region)} has no mutual-aid policy at the gateway",
                     "R4", province=province_of(region))
    return policy


def create(uow_factory: UnitOfWorkFactory, policies: dict[str, Policy], caller: str, grantor: Party,
           beneficiary: Party | str, relationship: Relationship, binding_id: str, key: RequestKey,
           render: Render) -> bytes:
    """``beneficiary`` is a Party or the hash of an ID number (the person's active enrolment);
    ``binding_id`` is the caller's choice (AIP-133) or empty for a generated one."""

    def work(uow: UnitOfWork) -> Binding:
        if binding_id and uow.bindings.get(binding_id) is not None:
            raise refuse("BINDING_ID_TAKEN", f"bindings/{binding_id} already exists", None, Category.ALREADY_EXISTS,
                         binding=f"bindings/{binding_id}")
        giver = _member(uow, grantor, "grantor", "R1")
        if isinstance(beneficiary, Party):
            receiver = _member(uow, beneficiary, "beneficiary", "R3")
        elif (receiver := uow.members.active_holder(beneficiary)) is None:  # type: ignore[assignment]
            raise Refusal(Category.NOT_FOUND, "MEMBER_NOT_FOUND", "no active enrolment holds that ID number",
                          rule="R3", metadata={"role": "beneficiary"})
        policy = _policy(policies, giver.region)
        crossing = province_of(giver.region) != province_of(receiver.region)
        pair_open = crossing and uow.cross_province.is_open(province_of(giver.region), province_of(receiver.region))
        status = decide(giver, receiver, relationship, policy, pair_open)
        grantor_party, beneficiary_party = Party(giver.region, giver.psn_no), Party(receiver.region, receiver.psn_no)
        if (existing := uow.bindings.live_between(grantor_party, beneficiary_party)) is not None:
            raise refuse("BINDING_EXISTS", "a live binding between these members already exists", "R9",
                         Category.ALREADY_EXISTS, binding=f"bindings/{existing.id}", status=existing.status.value)
        binding = Binding(binding_id or ordered_id(), grantor_party, beneficiary_party, relationship, status,
                          policy.ref, (Transition(status, _now(), f"region/{caller}", Cause.FILED),))
        return uow.bindings.add(binding)

    return run_once(uow_factory, key, work, render)


def _change(uow_factory: UnitOfWorkFactory, binding_id: str, key: RequestKey, render: Render,
            step: Callable[[Binding], Binding]) -> bytes:
    def work(uow: UnitOfWork) -> Binding:
        binding = _get(uow, binding_id)
        changed = step(binding)
        uow.bindings.save(changed, len(binding.history))
        return changed

    return run_once(uow_factory, key, work, render)


def confirm(uow_factory: UnitOfWorkFactory, policies: dict[str, Policy], caller: str, binding_id: str,
            key: RequestKey, render: Render) -> bytes:
    def step(binding: Binding) -> Binding:
        _require_region(caller, binding.beneficiary.region, binding, "beneficiary", "R11")
        require_status(binding, Status.PENDING_CONFIRMATION, "R11")
        next_status = after_confirmation(_policy(policies, binding.grantor.region))
        return binding.move(next_status, _now(), f"region/{caller}", Cause.CONFIRMED)

    return _change(uow_factory, binding_id, key, render, step)


def approve(uow_factory: UnitOfWorkFactory, caller: str, binding_id: str, key: RequestKey, render: Render) -> bytes:
    def step(binding: Binding) -> Binding:
        _require_region(caller, binding.grantor.region, binding, "grantor", "R11")
        require_status(binding, Status.PENDING_REVIEW, "R11")
        return binding.move(Status.ACTIVE, _now(), f"region/{caller}", Cause.APPROVED)

    return _change(uow_factory, binding_id, key, render, step)


def revoke(uow_factory: UnitOfWorkFactory, caller: str, binding_id: str, cause: Cause, key: RequestKey,
           render: Render) -> bytes:
    def step(binding: Binding) -> Binding:
        side = binding.grantor if cause in GRANTOR_CAUSES else binding.beneficiary
        _require_region(caller, side.region, binding, "grantor" if cause in GRANTOR_CAUSES else "beneficiary", "R10")
        if not binding.status.live:
            raise refuse("BINDING_CLOSED", f"binding is already {binding.status.value}", "R10",
                         binding=f"bindings/{binding.id}", status=binding.status.value)
        return binding.move(Status.REVOKED, _now(), f"region/{caller}", cause)

    return _change(uow_factory, binding_id, key, render, step)


def get(uow_factory: UnitOfWorkFactory, caller: str, binding_id: str) -> Binding:
    binding = in_transaction(uow_factory, lambda uow: _get(uow, binding_id), readonly=True)
    if caller not in (binding.grantor.region, binding.beneficiary.region):
        raise _not_party(caller, binding)
    return binding


def page(uow_factory: UnitOfWorkFactory, member: Party, as_grantor: bool, status: Status | None, after: int | None,
         size: int) -> tuple[list[Binding], bool]:
    rows = in_transaction(uow_factory, lambda uow: uow.bindings.page(member, as_grantor, status, after, size + 1),
                          readonly=True)
    return rows[:size], len(rows) > size


def end_bindings_of(uow: UnitOfWork, member: Member) -> None:
    """R14: a member whose enrolment ended or moved away ends every live binding it is party to."""
    me = Party(member.region, member.psn_no)
    for binding in uow.bindings.live_of(me):
        cause = end_cause(member, as_grantor=binding.grantor == me)
        if cause is not None:
            uow.bindings.save(binding.move(Status.ENDED, member.updated_at, SYSTEM, cause), len(binding.history))


def _get(uow: UnitOfWork, binding_id: str) -> Binding:
    binding = uow.bindings.get(binding_id)
    if binding is None:
        raise Refusal(Category.NOT_FOUND, "BINDING_NOT_FOUND", f"no binding bindings/{binding_id}",
                      metadata={"binding": f"bindings/{binding_id}"})
    return binding


def _require_region(caller: str, expected: str, binding: Binding, role: str, rule: str) -> None:
    if caller != expected:
        if caller not in (binding.grantor.region, binding.beneficiary.region):
            raise _not_party(caller, binding)
        raise Refusal(Category.PERMISSION_DENIED, f"NOT_{role.upper()}_REGION",
                      f"only the {role}'s region ({expected}) may do this", rule=rule,
                      metadata={"caller_region": caller, f"{role}_region": expected,
                                "binding": f"bindings/{binding.id}"})


def _not_party(caller: str, binding: Binding) -> Refusal:
    return Refusal(Category.PERMISSION_DENIED, "REGION_NOT_PARTY",
                   f"region {caller} is neither the grantor's nor the beneficiary's region",
                   metadata={"caller_region": caller, "binding": f"bindings/{binding.id}"})
