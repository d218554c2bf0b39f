"""Province policies: the data each province decides for mutual aid.

The versions shipped in ``gateway/policies/`` (one file per province) are the
built-in defaults; operators publish later versions, each in force from its
effective time (gateway.domain.rollout.Control.policy). A binding records the
version it was decided under and keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.regions import PROVINCES
from gateway.domain.relationships import NEVER, Relationship


class Geography(StrEnum):
    PROVINCE = "province"  # grantor and beneficiary anywhere in the province
    POOLING_REGION = "pooling_region"  # only within the same pooling region


class Use(StrEnum):
    """What mutual-aid money may pay for (R7)."""

    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    PHARMACY = "pharmacy"
    RESIDENT_PREMIUM = "resident_premium"
    LONG_TERM_CARE_PREMIUM = "long_term_care_premium"
    COMMERCIAL_HEALTH_INSURANCE = "commercial_health_insurance"


class GrantorOrder(StrEnum):
    FILING = "filing"  # R9: bindings drawn in the order they were filed


@dataclass(frozen=True)
class Policy:
    province: str
    name: str
    version: int
    scope: frozenset[Relationship]
    geography: Geography
    confirmation: frozenset[Relationship]
    review_required: bool
    uses: frozenset[Use]
    grantor_order: GrantorOrder
    sources: tuple[str, ...]
    effective_at: datetime | None = None  # None: a built-in version, in force until a published one takes over

    @property
    def ref(self) -> str:
        """How a binding records the policy it was decided under: ``{province}@v{version}``."""
        return f"{self.province}@v{self.version}"


def policy_problems(policy: Policy) -> list[tuple[str, str]]:
    """(field, why) for each way a policy cannot be applied."""
    problems = []
    if policy.province not in PROVINCES:
        problems.append(("province", "must be a 2-digit province code, for example 32"))
    if not 1 <= len(policy.name) <= 64:
        problems.append(("display_name", "required: 1 to 64 characters"))
    if not policy.scope:
        problems.append(("relationships", "at least one relationship (R4)"))
    if policy.scope & NEVER:
        problems.append(("relationships", "the spouse's parents are never eligible (R4)"))
    if not policy.confirmation <= policy.scope:
        problems.append(("confirmation_required", "only relationships the policy allows"))
    if not policy.uses:
        problems.append(("allowed_uses", "at least one use (R7)"))
    if not policy.sources or not all(0 < len(s) <= 500 for s in policy.sources):
        problems.append(("sources", "name at least one source of the policy, each at most 500 characters"))
    return problems
