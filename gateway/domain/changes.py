"""Operators' changes and four-eyes.

A change that widens what may happen (a region towards LIVE, a pair opened, a
limit raised or lifted, the kill switch lifted, a policy published) waits for
a second, different operator's approval; one that narrows it (a region towards
DISABLED, a pair closed, a limit lowered, the kill switch pulled) applies at
once, with one operator. Approving one's own request is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.errors import Category, Refusal
from gateway.domain.policies import Policy
from gateway.domain.rollout import ORDER, Control, PairLimits, RolloutState


class ChangeState(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Directions:
    grantor_province: str
    other_province: str
    both_ways: bool

    def each(self) -> list[tuple[str, str]]:
        one = (self.grantor_province, self.other_province)
        return [one, one[::-1]] if self.both_ways else [one]

    def __str__(self) -> str:
        arrow = "<->" if self.both_ways else "->"
        return f"{self.grantor_province}{arrow}{self.other_province}"


@dataclass(frozen=True)
class RegionStateChange:
    admdvs: str
    state: RolloutState


@dataclass(frozen=True)
class PairOpening:
    pair: Directions
    opens_at: datetime | None
    closes_at: datetime | None
    limits: PairLimits


@dataclass(frozen=True)
class PairClosing:
    pair: Directions


@dataclass(frozen=True)
class PairLimitsChange:
    pair: Directions
    limits: PairLimits


@dataclass(frozen=True)
class KillSwitchChange:
    pulled: bool


@dataclass(frozen=True)
class PolicyPublication:
    policy: Policy  # with its effective time; its version is set when it is applied


Change = RegionStateChange | PairOpening | PairClosing | PairLimitsChange | KillSwitchChange | PolicyPublication


@dataclass(frozen=True)
class ChangeRequest:
    id: str
    change: Change
    state: ChangeState
    reason: str
    requested_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    @property
    def name(self) -> str:
        return f"changeRequests/{self.id}"


def needs_second_operator(change: Change, control: Control) -> bool:
    """Four-eyes: whether the change widens what may happen, given the state it would change."""
    if isinstance(change, RegionStateChange):
        current = control.regions.get(change.admdvs)
        return current is None or ORDER[change.state] > ORDER[current.state]
    if isinstance(change, PairLimitsChange):
        return any(change.limits.looser_than(control.pair(*d).limits) for d in change.pair.each())
    if isinstance(change, KillSwitchChange):
        return not change.pulled
    return isinstance(change, (PairOpening, PolicyPublication))


def summary(change: Change) -> str:
    """One sentence for people (copayctl, the audit log's readers)."""
    if isinstance(change, RegionStateChange):
        return f"set region {change.admdvs} to {change.state.value.upper()}"
    if isinstance(change, PairOpening):
        when = "" if change.opens_at is None else f" from {change.opens_at.isoformat()}"
        until = "" if change.closes_at is None else f" until {change.closes_at.isoformat()}"
        return f"open {change.pair}{when}{until}" + (" with limits" if change.limits != PairLimits() else "")
    if isinstance(change, PairClosing):
        return f"close {change.pair}"
    if isinstance(change, PairLimitsChange):
        return f"set the limits of {change.pair}"
    if isinstance(change, KillSwitchChange):
        return "pull the kill switch" if change.pulled else "lift the kill switch"
    return f"publish a policy for province {change.policy.province} in force from " \
           f"{change.policy.effective_at.isoformat() if change.policy.effective_at else 'now'}"


def check_pending(request: ChangeRequest) -> None:
    if request.state is not ChangeState.PENDING:
        raise Refusal(Category.FAILED_PRECONDITION, "CHANGE_NOT_PENDING", f"{request.name} is "
                      f"{request.state.value}, not pending", metadata={"change_request": request.name,
                                                                       "state": request.state.value})


def check_approver(request: ChangeRequest, approver: str) -> None:
    check_pending(request)
    if approver == request.requested_by:
        raise Refusal(Category.PERMISSION_DENIED, "SELF_APPROVAL", f"{approver} asked for this change and may not "
                      "approve it too: a second, different operator must (four-eyes)",
                      metadata={"change_request": request.name, "requested_by": request.requested_by})
