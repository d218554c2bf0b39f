"""Every refusal the gateway gives, in one place.

A refusal carries a category (mapped to a gRPC status code at the edge), a
stable UPPER_SNAKE ``reason``, a message for people, the rule it enforces when
there is one (R1-R15, described in docs/rules.md), metadata naming the values
involved (never an ID number or a name), and field violations for malformed
input.

Reasons in use:

=========================  ===================  ==========================================
reason                     category             meaning
=========================  ===================  ==========================================
INVALID_REQUEST            INVALID_ARGUMENT     malformed fields; see the field violations
MALFORMED_REQUEST          INVALID_ARGUMENT     the bytes are not the method's protobuf message
REQUEST_ID_REUSED          INVALID_ARGUMENT     same request_id, different content (AIP-155)
UNKNOWN_PRINCIPAL          UNAUTHENTICATED      certificate names no region or operator; it
                                                may call only Health/Check
TOO_MANY_CALLS             RESOURCE_EXHAUSTED   the caller, or the gateway, has its share of
                                                calls in flight
TOO_MANY_STREAMS           RESOURCE_EXHAUSTED   the caller, or the gateway, has its share of
                                                streams open
PRINCIPAL_NOT_ADMITTED     PERMISSION_DENIED    this kind of caller may not call the method
REGION_NOT_CALLER          PERMISSION_DENIED    a region acting for another region's members
MEMBER_NOT_FOUND           NOT_FOUND            no such member in the caller's own region
ID_NUMBER_MISMATCH         FAILED_PRECONDITION  person number already held by another person
MEMBER_ALREADY_ENROLLED    FAILED_PRECONDITION  the person is actively insured under another
                                                person number or region (R14: report the
                                                transfer out first)
GRANTOR_NOT_EMPLOYEE_...   FAILED_PRECONDITION  GRANTOR_NOT_EMPLOYEE_INSURED: R1
GRANTOR_ENROLMENT_ENDED    FAILED_PRECONDITION  grantor terminated or transferred out (R2)
BENEFICIARY_NOT_NORMAL...  FAILED_PRECONDITION  BENEFICIARY_NOT_NORMALLY_INSURED: R3; also
                                                when no such member is known (one answer)
RELATIVE_NOT_ELIGIBLE      FAILED_PRECONDITION  outside the province's scope, or the spouse's
                                                parents (R4)
SELF_BINDING               FAILED_PRECONDITION  grantor and beneficiary are one person (R4)
OUTSIDE_POOLING_REGION     FAILED_PRECONDITION  province shares within one region only (R5)
CROSS_PROVINCE_CLOSED      FAILED_PRECONDITION  the province pair is not open, or not yet
                                                (a scheduled opening) (R5)
FAMILY_ACCOUNT_NOT_...     FAILED_PRECONDITION  FAMILY_ACCOUNT_NOT_MUTUAL_AID: R13
NO_PROVINCE_POLICY         FAILED_PRECONDITION  the grantor's province has no policy
CERTIFICATE_REVOKED        UNAUTHENTICATED      the client certificate is revoked (operators
                                                or the CA's CRL)
REGION_NOT_REGISTERED      UNAUTHENTICATED /    the region is not in the registry (a
                           FAILED_PRECONDITION  certificate; a member acted on)
REGION_DISABLED            PERMISSION_DENIED /  the region is DISABLED (a certificate; a
                           FAILED_PRECONDITION  member acted on)
REGION_IN_PILOT            FAILED_PRECONDITION  a PILOT region: same province only (R5)
CROSS_PROVINCE_SUSPENDED   FAILED_PRECONDITION  the kill switch is pulled (R5)
CROSS_PROVINCE_LIMIT       FAILED_PRECONDITION  a pair's limit; metadata names it (R5)
CROSS_PROVINCE_QUIET_...   FAILED_PRECONDITION  CROSS_PROVINCE_QUIET_HOURS: none now (R5)
SELF_APPROVAL              PERMISSION_DENIED    four-eyes: a second operator must approve
CHANGE_NOT_PENDING         FAILED_PRECONDITION  the change request was decided already
CHANGE_REQUEST_NOT_FOUND   NOT_FOUND            no change request of that name
REGION_EXISTS              ALREADY_EXISTS       the region is registered already
BINDING_EXISTS             ALREADY_EXISTS       a live binding joins the same two members
BINDING_ID_TAKEN           ALREADY_EXISTS       the binding_id is in use in the caller's region
BINDING_NOT_FOUND          NOT_FOUND            no binding of that name in the caller's own
                                                namespace (elsewhere: REGION_NOT_PARTY)
BINDING_NOT_PENDING_...    FAILED_PRECONDITION  _CONFIRMATION / _REVIEW: wrong state (R11)
BINDING_CLOSED             FAILED_PRECONDITION  already revoked or ended (R10)
NOT_BENEFICIARY_REGION     PERMISSION_DENIED    only the beneficiary's region confirms (R11)
NOT_GRANTOR_REGION         PERMISSION_DENIED    only the grantor's region approves, or
                                                revokes as the grantor (R10, R11)
REGION_NOT_PARTY           PERMISSION_DENIED    the caller is no party to a binding or
                                                settlement of that name, or there is none
                                                (one answer, AIP-211)
IMPERSONATION              PERMISSION_DENIED    not the patient's own credential, or no such
                                                patient (R8); a settle attempt is recorded
NOT_TREATMENT_REGION       PERMISSION_DENIED    settling a treatment given in another region,
                                                or reversing another region's settlement
INSTITUTION_NOT_DESIGNATED FAILED_PRECONDITION  not a designated place (R7)
NON_MEDICAL_ITEMS          FAILED_PRECONDITION  supplements, cosmetics, daily goods (R7)
USE_NOT_ALLOWED            FAILED_PRECONDITION  a use the grantor's province forbids (R7)
NO_ACTIVE_BINDING          FAILED_PRECONDITION  no active binding to draw on (R10)
INSUFFICIENT_BALANCE       FAILED_PRECONDITION  short balance, partial not allowed (R6)
REFUND_EXCEEDS_PAYMENT     FAILED_PRECONDITION  more than mutual aid paid and kept (R6)
NOTHING_TO_REFUND          FAILED_PRECONDITION  everything is refunded already
RELEASE_EXCEEDS_BALANCE    FAILED_PRECONDITION  releasing more than the shareable balance
BALANCE_OVER_LIMIT         FAILED_PRECONDITION  funding past 10^13 fen in one balance
SETTLEMENT_ID_TAKEN        ALREADY_EXISTS       the settlement_id is in use in the caller's
                                                region
SETTLEMENT_NOT_FOUND       NOT_FOUND            no settlement of that name in the caller's
                                                own namespace (elsewhere: REGION_NOT_PARTY)
=========================  ===================  ==========================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum


class Category(Enum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass
class Refusal(Exception):
    category: Category
    reason: str
    message: str
    rule: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    violations: tuple[FieldViolation, ...] = ()

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        """Pickled by its fields (an exception's default pickling knows only its message)."""
        return Refusal, (self.category, self.reason, self.message, self.rule, self.metadata, self.violations)

    def to_json(self) -> bytes:
        """Stored as a request's answer, so that every retry of a refused request is refused alike."""
        return json.dumps({"category": self.category.value, "reason": self.reason, "message": self.message,
                           "rule": self.rule, "metadata": self.metadata,
                           "violations": [[v.field, v.description] for v in self.violations]},
                          ensure_ascii=False, sort_keys=True).encode()

    @staticmethod
    def from_json(data: bytes) -> "Refusal":
        fields = json.loads(data)
        return Refusal(Category(fields["category"]), fields["reason"], fields["message"], fields["rule"],
                       fields["metadata"], tuple(FieldViolation(f, d) for f, d in fields["violations"]))


MAX_VIOLATIONS = 20  # a refusal travels in response trailers, which clients cap (gRPC: 8 KiB soft, 16 KiB hard)


def invalid(violations: list[FieldViolation] | tuple[FieldViolation, ...], more: int = 0) -> Refusal:
    fields = ", ".join(v.field for v in violations) + (f" and {more} more" if more else "")
    listed = tuple(violations) + ((FieldViolation("request", f"{more} more invalid fields are not listed; fix "
                                                             "these and send it again"),) if more else ())
    return Refusal(Category.INVALID_ARGUMENT, "INVALID_REQUEST", f"invalid fields: {fields}", violations=listed)


class Violations:
    """Collects field violations so a request reports all its faults at once: one per field, the
    first found (a later check on the same field would only restate or contradict it), and at most
    MAX_VIOLATIONS, so that the refusal stays small enough for any client to read."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []
        self.more = 0

    def add(self, field_path: str, description: str) -> None:
        if any(v.field == field_path for v in self.items):
            return
        if len(self.items) < MAX_VIOLATIONS:
            self.items.append(FieldViolation(field_path, description))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.items:
            raise invalid(self.items, self.more)
