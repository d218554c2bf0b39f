"""Bindings use cases: file, confirm, approve, revoke, read, list; and R14."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from gateway.domain.bindings import (SYSTEM, Binding, Cause, Party, Person, Status, Transition, after_confirmation,
                                     decide, end_cause, refuse, require_status)
from gateway.domain.ids import ordered_id
from gateway.domain.errors import Category, Refusal
from gateway.domain.members import Member
from gateway.domain.policies import Policy
from gateway.domain.regions import Scoped, province_of
from gateway.domain.rollout import Control, region_refusal
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


def _policy(policies: dict[str, Policy], control: Control, region: str, at: datetime) -> Policy:
    """The policy in force for the region's province (gateway.domain.rollout.Control.policy)."""
    policy = control.policy(province_of(region), at, policies)
    if policy is None:
        raise refuse("NO_PROVINCE_POLICY", f"province {province_of(region)} has no mutual-aid policy at the gateway",
                     "R4", province=province_of(region))
    return policy


def create(uow_factory: UnitOfWorkFactory, policies: dict[str, Policy], caller: str, grantor: Party,
           beneficiary: Party | Person, relationship: Relationship, binding_id: str, key: RequestKey,
           render: Render, at: datetime | None = None) -> bytes:
    """``beneficiary`` is a member name, or a person by ID hash in the region the caller names;
    ``binding_id`` is the caller's choice (AIP-133) in its own namespace, or empty for a generated one."""
    return run_once(uow_factory, key, lambda uow: file_binding(uow, policies, caller, grantor, beneficiary,
                                                                relationship, binding_id, at or _now()), render)


def file_binding(uow: UnitOfWork, policies: dict[str, Policy], caller: str, grantor: Party,
                 beneficiary: Party | Person, relationship: Relationship, binding_id: str, now: datetime) -> Binding:
    """Files a binding inside ``uow`` (``create`` with its exactly-once record; a bulk import without)."""
    if binding_id and uow.bindings.get(caller, binding_id) is not None:
        raise refuse("BINDING_ID_TAKEN", f"regions/{caller}/bindings/{binding_id} already exists", None,
                     Category.ALREADY_EXISTS, binding=f"regions/{caller}/bindings/{binding_id}")
    giver = _member(uow, grantor, "grantor", "R1")
    if isinstance(beneficiary, Party):
        receiver = uow.members.get(beneficiary.region, beneficiary.psn_no)
    else:
        receiver = uow.members.in_region_by_hash(beneficiary.region, beneficiary.id_hash)
    control = uow.control.current()
    policy = _policy(policies, control, giver.region, now)
    status = decide(giver, beneficiary.region, receiver, relationship, policy, control, now)
    assert receiver is not None  # decide refuses an unknown beneficiary
    grantor_party, beneficiary_party = Party(giver.region, giver.psn_no), Party(receiver.region, receiver.psn_no)
    if (existing := uow.bindings.live_between(grantor_party, beneficiary_party)) is not None:
        raise refuse("BINDING_EXISTS", "a live binding between these members already exists", "R9",
                     Category.ALREADY_EXISTS, binding=existing.name, status=existing.status.value)
    binding = Binding(binding_id or ordered_id(), grantor_party, beneficiary_party, relationship, status,
                      policy.ref, (Transition(status, now, f"region/{caller}", Cause.FILED),))
    return uow.bindings.add(binding)


def _change(uow_factory: UnitOfWorkFactory, caller: str, name: Scoped, key: RequestKey, render: Render,
            step: Callable[[UnitOfWork, Binding], Binding]) -> bytes:
    def work(uow: UnitOfWork) -> Binding:
        binding = _visible(uow, caller, name)
        changed = step(uow, binding)
        uow.bindings.save(changed, len(binding.history))
        return changed

    return run_once(uow_factory, key, work, render)


def confirm(uow_factory: UnitOfWorkFactory, policies: dict[str, Policy], caller: str, name: Scoped,
            key: RequestKey, render: Render) -> bytes:
    def step(uow: UnitOfWork, binding: Binding) -> Binding:
        _require_region(caller, binding.beneficiary.region, binding, "beneficiary", "R11")
        require_status(binding, Status.PENDING_CONFIRMATION, "R11")
        _both_enabled(uow.control.current(), binding)
        decided_under = uow.control.current().policy_version(binding.policy, policies)  # the version it was filed under
        if decided_under is None:
            raise refuse("NO_PROVINCE_POLICY", f"policy {binding.policy} is not known to the gateway", "R11",
                         policy=binding.policy)
        next_status = after_confirmation(decided_under)
        return binding.move(next_status, _now(), f"region/{caller}", Cause.CONFIRMED)

    return _change(uow_factory, caller, name, key, render, step)


def approve(uow_factory: UnitOfWorkFactory, caller: str, name: Scoped, key: RequestKey,
            render: Render) -> bytes:
    def step(uow: UnitOfWork, binding: Binding) -> Binding:
        _require_region(caller, binding.grantor.region, binding, "grantor", "R11")
        require_status(binding, Status.PENDING_REVIEW, "R11")
        _both_enabled(uow.control.current(), binding)
        return binding.move(Status.ACTIVE, _now(), f"region/{caller}", Cause.APPROVED)

    return _change(uow_factory, caller, name, key, render, step)


def revoke(uow_factory: UnitOfWorkFactory, caller: str, name: Scoped, cause: Cause, key: RequestKey,
           render: Render) -> bytes:
    def step(uow: UnitOfWork, binding: Binding) -> Binding:
        side = binding.grantor if cause in GRANTOR_CAUSES else binding.beneficiary
        _require_region(caller, side.region, binding, "grantor" if cause in GRANTOR_CAUSES else "beneficiary", "R10")
        if not binding.status.live:
            raise refuse("BINDING_CLOSED", f"binding is already {binding.status.value}", "R10",
                         binding=binding.name, status=binding.status.value)
        return binding.move(Status.REVOKED, _now(), f"region/{caller}", cause)

    return _change(uow_factory, caller, name, key, render, step)


def get(uow_factory: UnitOfWorkFactory, caller: str, name: Scoped) -> Binding:
    return in_transaction(uow_factory, lambda uow: _visible(uow, caller, name), readonly=True)


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


def _both_enabled(control: Control, binding: Binding) -> None:
    """A binding moves towards ACTIVE only while both parties' regions take part (revoking it never waits)."""
    for region in (binding.grantor.region, binding.beneficiary.region):
        if (refusal := region_refusal(control, region)) is not None:
            raise refusal


def _visible(uow: UnitOfWork, caller: str, name: Scoped) -> Binding:
    """The binding ``regions/{region}/bindings/{id}`` if ``caller`` is a party to it. In its own
    namespace a caller learns that an id is free (NOT_FOUND); elsewhere, a binding that does not
    exist and one it is no party to get the same refusal (AIP-211)."""
    region, binding_id = name.region, name.id
    binding = uow.bindings.get(region, binding_id)
    if binding is not None and caller in (binding.grantor.region, binding.beneficiary.region):
        return binding
    if binding is None and caller == region:
        raise Refusal(Category.NOT_FOUND, "BINDING_NOT_FOUND", f"no binding regions/{region}/bindings/{binding_id}",
                      metadata={"binding": f"regions/{region}/bindings/{binding_id}"})
    raise Refusal(Category.PERMISSION_DENIED, "REGION_NOT_PARTY",
                  f"region {caller} may not read or change regions/{region}/bindings/{binding_id}: it is no party "
                  "to such a binding", metadata={"caller_region": caller,
                                                 "binding": f"regions/{region}/bindings/{binding_id}"})


def _require_region(caller: str, expected: str, binding: Binding, role: str, rule: str) -> None:
    """``caller`` is a party (``_visible``); only the ``role``'s region may take this step."""
    if caller != expected:
        raise Refusal(Category.PERMISSION_DENIED, f"NOT_{role.upper()}_REGION",
                      f"only the {role}'s region ({expected}) may do this", rule=rule,
                      metadata={"caller_region": caller, f"{role}_region": expected, "binding": binding.name})
