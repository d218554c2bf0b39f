"""Every refusal the gateway gives, in one place.

A refusal carries a category (mapped to a gRPC status code at the edge), a
stable UPPER_SNAKE ``reason``, a message for people, the DOMAIN.md rule it
enforces when there is one, metadata naming the values involved (never an ID
number or a name), and field violations for malformed input.

Reasons in use:

=========================  ===================  ==========================================
reason                     category             meaning
=========================  ===================  ==========================================
INVALID_REQUEST            INVALID_ARGUMENT     malformed fields; see the field violations
REQUEST_ID_REUSED          INVALID_ARGUMENT     same request_id, different content (AIP-155)
UNKNOWN_PRINCIPAL          UNAUTHENTICATED      certificate names no region or operator
PRINCIPAL_NOT_ADMITTED     PERMISSION_DENIED    this kind of caller may not call the method
REGION_NOT_CALLER          PERMISSION_DENIED    a region acting for another region's members
MEMBER_NOT_FOUND           NOT_FOUND            no such member in the named region
ID_NUMBER_MISMATCH         FAILED_PRECONDITION  person number already held by another person
MEMBER_ALREADY_ENROLLED    FAILED_PRECONDITION  the person is actively insured under another
                                                person number or region (R14: report the
                                                transfer out first)
=========================  ===================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Category(Enum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"


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


def invalid(violations: list[FieldViolation] | tuple[FieldViolation, ...]) -> Refusal:
    fields = ", ".join(v.field for v in violations)
    return Refusal(Category.INVALID_ARGUMENT, "INVALID_REQUEST", f"invalid fields: {fields}",
                   violations=tuple(violations))


class Violations:
    """Collects field violations so a request reports all its faults at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def raise_if_any(self) -> None:
        if self.items:
            raise invalid(self.items)
