"""Settlement rules (R5-R10): who pays how much of a beneficiary's bill.

Decisions where the issue was silent:

* Only the personal-burden part (个人负担) is ever paid; the pooled-fund part
  is the beneficiary's own scheme's business (R7, R12).
* A medical use needs a designated institution of the calling (treatment)
  region, of the right kind: hospitals for outpatient and inpatient care,
  pharmacies for pharmacy purchases. Premium uses need no institution and are
  settled by the beneficiary's own insuring region, which collects them.
* Any non-medical item category (health supplements, cosmetics, daily goods)
  refuses the whole settlement: the items are not split (R7).
* Across provinces, the operators' switches from the grantor's province to
  the beneficiary's and to the treatment's must be open, with their limits
  (R5, gateway.domain.rollout); a province that shares only within a pooling
  region pays only for treatments in the grantor's own region.
* Unnamed grantors are drawn in filing order, skipping those a rule excludes
  (use not allowed in their province, a pair closed or over a limit); if every one is excluded
  the refusal is the first one's. A named grantor that is excluded refuses the
  settlement: the caller asked for it.
* A partial refund goes back to the grantors in reverse order of drawing.
* The checks on the bill itself (where, what, who settles it) come before the
  patient is looked up; then an unknown patient and a credential that is not
  the patient's own get one refusal (R8), so that a region cannot learn from
  the answer whether a member of that name exists. An attempt is recorded only
  when there is a patient whose credential it was not.
* What each region may see of a quote or a settlement: gateway.domain.visibility.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.bindings import Party, Person, refuse
from gateway.domain.errors import Category, Refusal, Violations
from gateway.domain.ledger import MAX_FEN
from gateway.domain.members import Member
from gateway.domain.policies import Geography, Policy, Use
from gateway.domain.regions import admdvs_problem, province_of
from gateway.domain.rollout import Control, crossing_refusal, limit_refusal, region_refusal

MEDICAL_USES = frozenset({Use.OUTPATIENT, Use.INPATIENT, Use.PHARMACY})
_INSTITUTION_CODE = re.compile(r"[A-Za-z0-9-]{1,40}")


class CredentialType(StrEnum):
    E_VOUCHER = "e_voucher"  # 01 医保电子凭证
    ID_CARD = "id_card"  # 02 居民身份证
    SOCIAL_SECURITY_CARD = "social_security_card"  # 03 社会保障卡


class InstitutionKind(StrEnum):
    HOSPITAL = "hospital"  # 定点医疗机构
    PHARMACY = "pharmacy"  # 定点零售药店


class ItemCategory(StrEnum):
    DRUG = "drug"
    MEDICAL_DEVICE = "medical_device"
    MEDICAL_SERVICE = "medical_service"
    HEALTH_SUPPLEMENT = "health_supplement"  # 保健品
    COSMETIC = "cosmetic"  # 化妆品
    DAILY_GOODS = "daily_goods"  # 生活用品


NON_MEDICAL = frozenset({ItemCategory.HEALTH_SUPPLEMENT, ItemCategory.COSMETIC, ItemCategory.DAILY_GOODS})
KIND_FOR_USE = {Use.OUTPATIENT: InstitutionKind.HOSPITAL, Use.INPATIENT: InstitutionKind.HOSPITAL,
                Use.PHARMACY: InstitutionKind.PHARMACY}


@dataclass(frozen=True)
class Institution:
    code: str
    kind: InstitutionKind
    designated: bool
    region: str


@dataclass(frozen=True)
class Claim:
    """What a settle or pre-settle request asks, validated; ID numbers already hashed."""

    beneficiary: Party | Person  # a member, or the patient by the credential's ID hash in a region
    credential: CredentialType
    holder_hash: str
    institution: Institution | None
    use: Use
    total: int
    fund_part: int
    personal_part: int
    items: frozenset[ItemCategory]
    grantors: tuple[Party, ...]
    allow_partial: bool


@dataclass(frozen=True)
class Line:
    binding_id: str
    grantor: Party
    amount: int


@dataclass(frozen=True)
class PaidLine:
    position: int
    binding_id: str
    grantor: Party
    amount: int
    refunded: int


@dataclass(frozen=True)
class RefundRecord:
    id: str
    amount: int
    actor: str
    at: datetime


class Payment:
    """What mutual aid pays of a personal part, and what is left to the patient in cash."""

    lines: tuple[Line, ...] | tuple[PaidLine, ...]
    personal_part: int

    @property
    def paid(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def cash(self) -> int:
        return self.personal_part - self.paid


@dataclass(frozen=True)
class Quote(Payment):
    beneficiary: Party
    personal_part: int
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Settlement(Payment):
    """A settled bill as stored: what was asked, who paid what, what came back."""

    id: str
    treatment_region: str
    beneficiary: Party
    credential: CredentialType
    institution_code: str | None
    institution_kind: InstitutionKind | None
    use: Use
    total: int
    fund_part: int
    personal_part: int
    items: frozenset[ItemCategory]
    lines: tuple[PaidLine, ...]
    refunds: tuple[RefundRecord, ...]
    created_at: datetime
    filed: int = 0

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    @property
    def name(self) -> str:
        """Ids live in the namespace of the region that settled the bill."""
        return f"regions/{self.treatment_region}/settlements/{self.id}"


@dataclass(frozen=True)
class ActiveBinding:
    """What settlement needs of an active binding: its id, grantor and filing order."""

    id: str
    grantor: Party
    filed: int


@dataclass(frozen=True)
class Candidate:
    """An active binding of the beneficiary, with what a rule needs to know of its grantor."""

    binding: ActiveBinding
    grantor: Member
    policy: Policy
    balance: int = 0


def validate_amounts(total: int, fund_part: int, personal_part: int, problems: Violations, at: str = "") -> None:
    """``at`` prefixes the field paths, e.g. ``claim.``."""
    for name, value in (("total_fen", total), ("fund_part_fen", fund_part), ("personal_part_fen", personal_part)):
        if not 0 <= value <= MAX_FEN:
            problems.add(at + name, f"must be between 0 and {MAX_FEN} fen")
    if personal_part <= 0:
        problems.add(at + "personal_part_fen", "the personal-burden part to pay must be positive")
    if fund_part + personal_part > total:
        problems.add(at + "total_fen", "must be at least the pooled-fund part plus the personal-burden part")


def validate_place(use: Use, institution: Institution | None, problems: Violations, at: str = "") -> None:
    """A medical use needs an institution of the right kind; any institution given must be well formed."""
    if use in MEDICAL_USES:
        if institution is None:
            problems.add(at + "institution", f"required for {use.value}")
        elif institution.kind is not KIND_FOR_USE[use]:
            problems.add(at + "institution.kind", f"{use.value} is settled at a {KIND_FOR_USE[use].value}")
    if institution is not None:
        if (why := admdvs_problem(institution.region)) is not None:
            problems.add(at + "institution.region", why)
        if not _INSTITUTION_CODE.fullmatch(institution.code):
            problems.add(at + "institution.code", "1 to 40 letters, digits or '-' (the national institution code)")


def check_bill(claim: Claim, caller: str) -> None:
    """Rules on the bill itself, before anyone is looked up: who settles it, where, what (R7)."""
    if claim.use in MEDICAL_USES:
        assert claim.institution is not None
        if claim.institution.region != caller:
            raise Refusal(Category.PERMISSION_DENIED, "NOT_TREATMENT_REGION", f"region {caller} settles only "
                          "treatments given in its own region", metadata={
                              "caller_region": caller, "institution_region": claim.institution.region})
        if not claim.institution.designated:
            raise refuse("INSTITUTION_NOT_DESIGNATED", "mutual aid pays only at designated institutions and "
                         "pharmacies (定点医药机构)", "R7", institution=claim.institution.code)
    elif caller != claim.beneficiary.region:
        raise Refusal(Category.PERMISSION_DENIED, "NOT_BENEFICIARY_REGION", "a premium is settled by the "
                      "beneficiary's own insuring region", metadata={
                          "caller_region": caller, "beneficiary_region": claim.beneficiary.region})
    if bad := sorted(c.value for c in claim.items & NON_MEDICAL):
        raise refuse("NON_MEDICAL_ITEMS", "mutual aid never pays for non-medical goods", "R7", items=",".join(bad))


def check_credential(claim: Claim, beneficiary: Member | None) -> Member:
    """R8: the credential is the patient's own. An unknown patient gets the same refusal."""
    if beneficiary is None or claim.holder_hash != beneficiary.id_hash:
        raise Refusal(Category.PERMISSION_DENIED, "IMPERSONATION", "the credential presented is not the "
                      "patient's own (冒名就医), or the gateway knows no such patient; an attempt is recorded",
                      rule="R8", metadata={"credential_type": claim.credential.value})
    return beneficiary


def crossings(grantor_region: str, beneficiary_region: str, treatment_region: str) -> set[tuple[str, str]]:
    """The directed province pairs a payment crosses: from the grantor's province to the beneficiary's and to
    the treatment's, where they differ (gateway.domain.rollout)."""
    here = province_of(grantor_region)
    return {(here, province_of(r)) for r in (beneficiary_region, treatment_region) if province_of(r) != here}


def exclusion(candidate: Candidate, beneficiary: Member, treatment_region: str, use: Use, personal_part: int,
              control: Control, at: datetime) -> Refusal | None:
    """Why this grantor cannot pay this bill, or None (R2, R5, R7, and the operators' rollout)."""
    grantor, policy = candidate.grantor, candidate.policy
    where = {"grantor_region": grantor.region}
    if not grantor.status.active:
        return refuse("GRANTOR_ENROLMENT_ENDED", "the grantor's enrolment has ended", "R2", **where)
    if use not in policy.uses:
        return refuse("USE_NOT_ALLOWED", f"province {policy.province} does not allow mutual aid for {use.value}",
                      "R7", use=use.value, policy=policy.ref, **where)
    if policy.geography is Geography.POOLING_REGION and treatment_region != grantor.region:
        return refuse("OUTSIDE_POOLING_REGION", f"province {policy.province} pays only for treatments in the "
                      "grantor's pooling region", "R5", treatment_region=treatment_region, **where)
    if (refusal := region_refusal(control, grantor.region)) is not None:
        return refusal
    for other in (beneficiary.region, treatment_region):
        if (refusal := crossing_refusal(control, grantor.region, other, at)) is not None:
            return refusal
    for pair in sorted(crossings(grantor.region, beneficiary.region, treatment_region)):
        if (refusal := limit_refusal(control.pair(*pair), personal_part, at)) is not None:
            return refusal
    return None


def draw(personal_part: int, payers: list[Candidate], allow_partial: bool) -> list[Line]:
    """R6 and R9: draw on the payers in order, never more than a balance."""
    lines, remaining = [], personal_part
    for payer in payers:
        amount = min(payer.balance, remaining)
        if amount > 0:
            lines.append(Line(payer.binding.id, Party(payer.grantor.region, payer.grantor.psn_no), amount))
            remaining -= amount
        if remaining == 0:
            break
    if remaining and not allow_partial:
        raise refuse("INSUFFICIENT_BALANCE", "the grantors' shareable balance does not cover the personal part, "
                     "and the request does not allow a partial payment", "R6",
                     available_fen=str(personal_part - remaining), requested_fen=str(personal_part))
    return lines


def refund_plan(lines: tuple[PaidLine, ...], amount: int) -> list[tuple[PaidLine, int]]:
    """(line, refund) pairs for ``amount``, from the last drawn line back."""
    plan, remaining = [], amount
    for line in reversed(lines):
        take = min(line.amount - line.refunded, remaining)
        if take > 0:
            plan.append((line, take))
            remaining -= take
    if remaining:
        raise refuse("REFUND_EXCEEDS_PAYMENT", "a refund can never exceed what mutual aid paid and has not yet "
                     "refunded", "R6", unrefunded_fen=str(amount - remaining), requested_fen=str(amount))
    return plan
