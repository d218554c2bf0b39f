"""Operators' use cases: the region registry, province pairs, the kill switch, policy versions, change
requests with four-eyes, certificate revocation, the audit log, impersonation attempts.

Every change runs under the lock of the operators' state (``uow.control.lock``), so changes are
serial, and writes its audit entry in the same transaction: an entry exists exactly when its change
does. Audit entries name the operator (from the certificate), the time, the reason, and the state
of what changed before and after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable

from gateway.domain import audit
from gateway.domain.changes import (Change, ChangeRequest, ChangeState, KillSwitchChange, PairClosing,
                                    PairLimitsChange, PairOpening, PolicyPublication, RegionStateChange,
                                    check_approver, check_pending, needs_second_operator, summary)
from gateway.domain.errors import Category, Refusal
from gateway.domain.ids import ordered_id
from gateway.domain.policies import Policy
from gateway.domain.regions import province_of
from gateway.domain.rollout import Control, Pair, Region, RolloutState
from gateway.service.once import RequestKey, in_transaction, run_once
from gateway.service.ports import UnitOfWork, UnitOfWorkFactory
from gateway.domain.records import change_to_dict, limits_to_dict, policy_to_json

Render = Callable[[Any], bytes]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Stamped:
    """A resource with who changed it last, and when."""

    value: Any
    updated_at: datetime | None
    updated_by: str | None


# --- reads ------------------------------------------------------------------------------------------------


def control_if_newer(uow_factory: UnitOfWorkFactory, version: int) -> Control | None:
    """The operators' state, read afresh, if its version is not ``version`` (each server polls this)."""
    control = in_transaction(uow_factory, lambda uow: uow.control.current(fresh=True), readonly=True)
    return None if control.version == version else control


def policies_in_force(uow_factory: UnitOfWorkFactory, built_in: dict[str, Policy], at: datetime) -> list[Policy]:
    control = in_transaction(uow_factory, lambda uow: uow.control.current(), readonly=True)
    found = (control.policy(p, at, built_in) for p in sorted({*built_in, *control.policies}))
    return [p for p in found if p is not None]


def regions(uow_factory: UnitOfWorkFactory) -> list[Stamped]:
    def read(uow: UnitOfWork) -> list[Stamped]:
        return [Stamped(Region(r.admdvs, r.display_name, RolloutState(r.state)), r.updated_at, r.updated_by)
                for r in uow.control.region_rows()]

    return in_transaction(uow_factory, read, readonly=True)


def pairs(uow_factory: UnitOfWorkFactory) -> tuple[Control, list[Stamped]]:
    def read(uow: UnitOfWork) -> tuple[Control, list[Stamped]]:
        control = uow.control.current(fresh=True)
        return control, [Stamped(control.pair(r.grantor_province, r.other_province), r.updated_at, r.updated_by)
                         for r in uow.control.pair_rows()]

    return in_transaction(uow_factory, read, readonly=True)


def kill_switch(uow_factory: UnitOfWorkFactory) -> Stamped:
    def read(uow: UnitOfWork) -> Stamped:
        pulled, at, by = uow.control.kill_switch()
        return Stamped(pulled, at, by)

    return in_transaction(uow_factory, read, readonly=True)


def change_request(uow_factory: UnitOfWorkFactory, request_id: str) -> ChangeRequest:
    return in_transaction(uow_factory, lambda uow: _request(uow, request_id), readonly=True)


def change_requests(uow_factory: UnitOfWorkFactory, state: ChangeState | None, after: int | None,
                    size: int) -> tuple[list[tuple[int, ChangeRequest]], bool]:
    rows = in_transaction(uow_factory, lambda uow: uow.control.page_requests(state, after, size + 1), readonly=True)
    return rows[:size], len(rows) > size


def revocations(uow_factory: UnitOfWorkFactory) -> list[Any]:
    return in_transaction(uow_factory, lambda uow: uow.control.revocation_rows(), readonly=True)


def audit_entries(uow_factory: UnitOfWorkFactory, actor: str, action: str, target: str, start: datetime | None,
                  end: datetime | None, after: int | None, size: int) -> tuple[list[audit.Entry], bool]:
    rows = in_transaction(uow_factory, lambda uow: uow.control.audit_page(actor, action, target, start, end, after,
                                                                          size + 1), readonly=True)
    return rows[:size], len(rows) > size


def last_audit_entries(uow_factory: UnitOfWorkFactory, count: int) -> list[audit.Entry]:
    """The newest ``count`` entries, oldest first."""
    def work(uow: UnitOfWork) -> list[audit.Entry]:
        head, _ = uow.control.audit_head()
        return uow.control.audit_page("", "", "", None, None, max(0, head - count), count)
    return in_transaction(uow_factory, work, readonly=True)


def verify_audit(uow_factory: UnitOfWorkFactory) -> tuple[int, audit.Break | None]:
    def check(uow: UnitOfWork) -> tuple[int, audit.Break | None]:
        return audit.verify(uow.control.audit_entries(), uow.control.audit_head())

    return in_transaction(uow_factory, check, readonly=True)


def impersonations(uow_factory: UnitOfWorkFactory, caller: str, after: int | None,
                   size: int) -> tuple[list[Any], bool]:
    rows = in_transaction(uow_factory, lambda uow: uow.settlements.impersonations(caller, after, size + 1),
                          readonly=True)
    return rows[:size], len(rows) > size


# --- changes ----------------------------------------------------------------------------------------------


def create_region(uow_factory: UnitOfWorkFactory, operator: str, region: Region, reason: str, key: RequestKey,
                  render: Render) -> bytes:
    """Registers a region, DISABLED: nothing may happen in it until it is enabled (four-eyes)."""

    def work(uow: UnitOfWork) -> Stamped:
        control = uow.control.lock()
        if region.admdvs in control.regions:
            raise Refusal(Category.ALREADY_EXISTS, "REGION_EXISTS", f"regions/{region.admdvs} is registered already",
                          metadata={"region": f"regions/{region.admdvs}"})
        now = _now()
        registered = replace(region, state=RolloutState.DISABLED)
        uow.control.put_region(registered, now, operator)
        uow.control.append_audit(now, operator, "region.registered", f"regions/{region.admdvs}", reason, None,
                                 _region_state(registered))
        return Stamped(registered, now, operator)

    return run_once(uow_factory, key, work, render)


def request_change(uow_factory: UnitOfWorkFactory, operator: str, change: Change, reason: str, key: RequestKey,
                   render: Render) -> bytes:
    """Files the change; it waits for a second operator if it widens what may happen, else applies now."""

    def work(uow: UnitOfWork) -> ChangeRequest:
        control = uow.control.lock()
        _check_target(control, change)
        now = _now()
        request = ChangeRequest(ordered_id(), change, ChangeState.PENDING, reason, operator, now)
        if needs_second_operator(change, control):
            uow.control.add_request(request)
            uow.control.append_audit(now, operator, "change.requested", request.name, reason, None,
                                     {"change": change_to_dict(change), "summary": summary(change)})
            return request
        applied = replace(request, state=ChangeState.APPLIED, decided_by=operator, decided_at=now,
                          decision_reason=reason)
        uow.control.add_request(applied)
        _apply(uow, control, applied, "change.applied", operator, now, reason)
        return applied

    return run_once(uow_factory, key, work, render)


def approve(uow_factory: UnitOfWorkFactory, operator: str, request_id: str, reason: str, key: RequestKey,
            render: Render) -> bytes:
    def work(uow: UnitOfWork) -> ChangeRequest:
        control = uow.control.lock()
        request = _request(uow, request_id)
        check_approver(request, operator)
        _check_target(control, request.change)
        now = _now()
        applied = replace(request, state=ChangeState.APPLIED, decided_by=operator, decided_at=now,
                          decision_reason=reason)
        uow.control.save_request(applied)
        _apply(uow, control, applied, "change.approved", operator, now, reason)
        return applied

    return run_once(uow_factory, key, work, render)


def reject(uow_factory: UnitOfWorkFactory, operator: str, request_id: str, reason: str, key: RequestKey,
           render: Render) -> bytes:
    def work(uow: UnitOfWork) -> ChangeRequest:
        uow.control.lock()
        request = _request(uow, request_id)
        check_pending(request)
        now = _now()
        rejected = replace(request, state=ChangeState.REJECTED, decided_by=operator, decided_at=now,
                           decision_reason=reason)
        uow.control.save_request(rejected)
        uow.control.append_audit(now, operator, "change.rejected", request.name, reason,
                                 {"state": request.state.value}, {"state": rejected.state.value})
        return rejected

    return run_once(uow_factory, key, work, render)


def revoke(uow_factory: UnitOfWorkFactory, operator: str, serial: str | None, fingerprint: str | None,
           principal: str | None, reason: str, key: RequestKey, render: Render) -> bytes:
    """Applies at once: every gateway process refuses the certificate within a second."""

    def work(uow: UnitOfWork) -> Any:
        uow.control.lock()
        now = _now()
        seq = uow.control.revoke(serial, fingerprint, principal, reason, operator, now)
        uow.control.append_audit(now, operator, "certificate.revoked", f"revokedCertificates/{seq}", reason, None,
                                 {"serial": serial, "fingerprint_sha256": fingerprint, "principal": principal})
        return next(r for r in uow.control.revocation_rows() if r.seq == seq)

    return run_once(uow_factory, key, work, render)


# --- applying a change, with its audit entry --------------------------------------------------------------


def _check_target(control: Control, change: Change) -> None:
    if isinstance(change, RegionStateChange) and change.admdvs not in control.regions:
        raise Refusal(Category.NOT_FOUND, "REGION_NOT_REGISTERED", f"regions/{change.admdvs} is not registered; "
                      "register it first (it starts DISABLED)", metadata={"region": f"regions/{change.admdvs}"})


def _apply(uow: UnitOfWork, control: Control, request: ChangeRequest, action: str, operator: str, now: datetime,
           reason: str) -> None:
    change = request.change
    before, after = {}, {}
    if isinstance(change, RegionStateChange):
        region = control.regions[change.admdvs]
        changed = replace(region, state=change.state)
        uow.control.put_region(changed, now, operator)
        before[f"regions/{region.admdvs}"], after[f"regions/{region.admdvs}"] = _region_state(region), \
            _region_state(changed)
    elif isinstance(change, (PairOpening, PairClosing, PairLimitsChange)):
        for grantor_province, other_province in change.pair.each():
            pair = control.pair(grantor_province, other_province)
            if isinstance(change, PairOpening):
                new = replace(pair, open=True, opens_at=change.opens_at, closes_at=change.closes_at,
                              limits=change.limits)
            elif isinstance(change, PairClosing):
                new = replace(pair, open=False)
            else:
                new = replace(pair, limits=change.limits)
            uow.control.put_pair(new, now, operator)
            before[pair.name], after[pair.name] = _pair_state(pair), _pair_state(new)
    elif isinstance(change, KillSwitchChange):
        uow.control.set_kill_switch(change.pulled, now, operator)
        before["killSwitch"], after["killSwitch"] = {"pulled": control.kill_switch}, {"pulled": change.pulled}
    else:
        assert isinstance(change, PolicyPublication)
        province = change.policy.province
        published = uow.control.add_policy(change.policy, now, operator)
        target = f"provincePolicies/{province}/versions/{published.version}"
        before[target], after[target] = None, json.loads(policy_to_json(published))
    uow.control.append_audit(now, operator, action, request.name, reason, before,
                             {**after, "summary": summary(change)})


def _region_state(region: Region) -> dict[str, str]:
    return {"state": region.state.value, "display_name": region.name, "province": province_of(region.admdvs)}


def _pair_state(pair: Pair) -> dict[str, Any]:
    return {"open": pair.open, "opens_at": pair.opens_at and pair.opens_at.isoformat(),
            "closes_at": pair.closes_at and pair.closes_at.isoformat(), "limits": limits_to_dict(pair.limits)}


def _request(uow: UnitOfWork, request_id: str) -> ChangeRequest:
    request = uow.control.get_request(request_id)
    if request is None:
        raise Refusal(Category.NOT_FOUND, "CHANGE_REQUEST_NOT_FOUND", f"no change request changeRequests/{request_id}",
                      metadata={"change_request": f"changeRequests/{request_id}"})
    return request
