"""Bindings: who may spend from whose personal account, and their lifecycle.

    PENDING_CONFIRMATION -> PENDING_REVIEW -> ACTIVE -> REVOKED | ENDED
    (each pending step only where the grantor's province policy requires it)

``decide`` is the rules engine: it takes what the service layer looked up
and either returns the binding's first status or raises a Refusal naming
the rule. The grantor's province policy decides scope, geography,
confirmation and review: the money is the grantor's, filed in the grantor's
region. Decision: a cross-province binding also needs the operators' switch
from the grantor's province to the beneficiary's to be open (R5,
gateway.domain.rollout), and a province that allows only the same pooling
region never shares across provinces, open pair or not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from gateway.domain.errors import Category, Refusal
from gateway.domain.members import EnrolmentStatus, InsuranceType, Member
from gateway.domain.policies import Geography, Policy
from gateway.domain.relationships import NEVER, Relationship
from gateway.domain.rollout import Control, crossing_refusal, region_refusal


class Status(StrEnum):
    PENDING_CONFIRMATION = "pending_confirmation"
    PENDING_REVIEW = "pending_review"
    ACTIVE = "active"
    REVOKED = "revoked"
    ENDED = "ended"

    @property
    def live(self) -> bool:
        return self not in (Status.REVOKED, Status.ENDED)


class Cause(StrEnum):
    """Why a transition happened; recorded with it."""

    FILED = "filed"
    CONFIRMED = "confirmed"
    APPROVED = "approved"
    GRANTOR_REQUEST = "grantor_request"
    BENEFICIARY_REQUEST = "beneficiary_request"
    CONFIRMATION_DECLINED = "confirmation_declined"
    REVIEW_REJECTED = "review_rejected"
    GRANTOR_TERMINATED = "grantor_terminated"
    BENEFICIARY_TERMINATED = "beneficiary_terminated"
    GRANTOR_TRANSFERRED = "grantor_transferred"
    BENEFICIARY_TRANSFERRED = "beneficiary_transferred"


REVOCATION_CAUSES = frozenset({Cause.GRANTOR_REQUEST, Cause.BENEFICIARY_REQUEST, Cause.CONFIRMATION_DECLINED,
                               Cause.REVIEW_REJECTED})
SYSTEM = "gateway"  # the actor of automatic transitions (R14)


@dataclass(frozen=True)
class Party:
    """A member by name: ``regions/{region}/members/{psn_no}``."""

    region: str
    psn_no: str


@dataclass(frozen=True)
class Person:
    """A person by the hash of their ID number, looked up only in the region the caller named."""

    id_hash: str
    region: str


@dataclass(frozen=True)
class Transition:
    status: Status
    at: datetime
    actor: str
    cause: Cause


@dataclass(frozen=True)
class Binding:
    id: str
    grantor: Party
    beneficiary: Party
    relationship: Relationship
    status: Status
    policy: str
    history: tuple[Transition, ...]
    filed: int = 0  # filing order across the gateway (R9); set when stored

    @property
    def region(self) -> str:
        """The region whose namespace holds the binding's id: the grantor's, which filed it."""
        return self.grantor.region

    @property
    def name(self) -> str:
        return f"regions/{self.region}/bindings/{self.id}"

    @property
    def created_at(self) -> datetime:
        return self.history[0].at

    @property
    def updated_at(self) -> datetime:
        return self.history[-1].at

    def move(self, status: Status, at: datetime, actor: str, cause: Cause) -> "Binding":
        return replace(self, status=status, history=(*self.history, Transition(status, at, actor, cause)))


def refuse(reason: str, message: str, rule: str | None, category: Category = Category.FAILED_PRECONDITION,
           **metadata: str) -> Refusal:
    return Refusal(category, reason, message, rule=rule, metadata=metadata)


def decide(grantor: Member, beneficiary_region: str, beneficiary: Member | None, relationship: Relationship,
           policy: Policy, control: Control, at: datetime) -> Status:
    """The first status of a new binding, or a Refusal naming the rule broken.

    The checks run in an order that tells the grantor's region nothing about
    another region's members it could not file a binding with: first the
    request itself and the caller's own grantor (R13, R1, R2, R4 scope), then
    the region the caller named (registered and enabled, within the grantor's
    policy's geography, across provinces only while the operators' switches
    allow it: R5), and only then the beneficiary, ``None`` when no member of
    that name is known. Unknown and not normally insured get one answer (R3),
    without the enrolment status.
    """
    if relationship is Relationship.FAMILY_ACCOUNT_PROXY:
        raise refuse("FAMILY_ACCOUNT_NOT_MUTUAL_AID", "a family account (亲情账户) only shows a relative's code; "
                     "it is not mutual aid and authorises no payment", "R13")
    if grantor.insurance_type is not InsuranceType.EMPLOYEE:
        raise refuse("GRANTOR_NOT_EMPLOYEE_INSURED", "only employee-insured members (insutype 310) have a "
                     "personal account to share", "R1", insurance_type=grantor.insurance_type.value)
    if not grantor.status.active:
        raise refuse("GRANTOR_ENROLMENT_ENDED", "the grantor's enrolment has ended; lapsed contributions would "
                     "still be allowed", "R2", enrolment_status=grantor.status.value)
    if relationship in NEVER or relationship not in policy.scope:
        raise refuse("RELATIVE_NOT_ELIGIBLE", f"{relationship.value} is not within the close relatives of "
                     f"province {policy.province}" + (" (the spouse's parents never are)" if relationship in NEVER
                                                      else ""), "R4", relationship=relationship.value,
                     province=policy.province, policy=policy.ref)
    _check_geography(grantor.region, beneficiary_region, policy)
    if (refusal := region_refusal(control, beneficiary_region) or
            crossing_refusal(control, grantor.region, beneficiary_region, at)) is not None:
        raise refusal
    if beneficiary is None or beneficiary.status is not EnrolmentStatus.NORMAL:
        raise refuse("BENEFICIARY_NOT_NORMALLY_INSURED", "the gateway knows no member of that name or number in "
                     f"region {beneficiary_region} who is enrolled in basic insurance in normal status (正常参保)",
                     "R3")
    if grantor.id_hash == beneficiary.id_hash:
        raise refuse("SELF_BINDING", "grantor and beneficiary are the same person", "R4")
    if relationship in policy.confirmation:
        return Status.PENDING_CONFIRMATION
    return Status.PENDING_REVIEW if policy.review_required else Status.ACTIVE


def _check_geography(grantor_region: str, beneficiary_region: str, policy: Policy) -> None:
    if policy.geography is Geography.POOLING_REGION and grantor_region != beneficiary_region:
        raise refuse("OUTSIDE_POOLING_REGION", f"province {policy.province} shares accounts only within one "
                     "pooling region", "R5", grantor_region=grantor_region, beneficiary_region=beneficiary_region,
                     policy=policy.ref)


def after_confirmation(policy: Policy) -> Status:
    return Status.PENDING_REVIEW if policy.review_required else Status.ACTIVE


def require_status(binding: Binding, expected: Status, rule: str) -> None:
    if binding.status is not expected:
        raise refuse(f"BINDING_NOT_{expected.name}", f"binding is {binding.status.value}, not {expected.value}",
                     rule, binding=binding.name, status=binding.status.value)


def end_cause(member: Member, as_grantor: bool) -> Cause | None:
    """R14: why a member's bindings end after a status change, or None if they go on."""
    if member.status is EnrolmentStatus.TERMINATED:
        return Cause.GRANTOR_TERMINATED if as_grantor else Cause.BENEFICIARY_TERMINATED
    if member.status is EnrolmentStatus.TRANSFERRED_OUT:
        return Cause.GRANTOR_TRANSFERRED if as_grantor else Cause.BENEFICIARY_TRANSFERRED
    return None
