"""Province policies: the data each province decides for mutual aid.

Policies are versioned files shipped in ``gateway/policies/`` (one per
province); a binding records the version it was decided under.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.domain.relationships import Relationship


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

    @property
    def ref(self) -> str:
        """How a binding records the policy it was decided under: ``{province}@v{version}``."""
        return f"{self.province}@v{self.version}"
