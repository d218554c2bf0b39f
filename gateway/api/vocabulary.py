"""One vocabulary in and out: protobuf enums <-> domain enums, matched by name
(``INSURANCE_TYPE_EMPLOYEE`` <-> ``InsuranceType.EMPLOYEE``), and the same enum names, as a client
sends them, in error metadata (``wire_metadata``)."""

from __future__ import annotations

from enum import Enum
from typing import Generic, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from gateway._proto.copay.v1 import admin_pb2, bindings_pb2, members_pb2, policies_pb2, settlements_pb2
from gateway.domain.bindings import Cause, Status
from gateway.domain.changes import ChangeState
from gateway.domain.members import EnrolmentStatus, InsuranceType
from gateway.domain.policies import Geography, GrantorOrder, Use
from gateway.domain.relationships import Relationship
from gateway.domain.rollout import RolloutState
from gateway.domain.settlements import CredentialType, InstitutionKind, ItemCategory

E = TypeVar("E", bound=Enum)


class EnumMap(Generic[E]):
    def __init__(self, wire: EnumTypeWrapper, domain: type[E]) -> None:
        prefix = wire.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
        self._to_domain = {v.number: domain[v.name.removeprefix(prefix)] for v in wire.DESCRIPTOR.values if v.number}
        self._to_wire = {d: n for n, d in self._to_domain.items()}
        self._domain = domain
        self._names = {v.number: v.name for v in wire.DESCRIPTOR.values}
        missing = set(domain) - set(self._to_wire)
        if missing:
            raise ValueError(f"{wire.DESCRIPTOR.name} lacks {sorted(m.name for m in missing)}")
        self.names = [v.name for v in wire.DESCRIPTOR.values if v.number]

    def domain(self, number: int) -> E | None:
        """None for UNSPECIFIED or a number this build does not know."""
        return self._to_domain.get(number)

    def wire(self, value: E) -> int:
        return self._to_wire[value]

    def name(self, value: str) -> str:
        """The wire name of a domain value (``spouse_mother`` -> ``RELATIONSHIP_SPOUSE_MOTHER``); unknown: as is."""
        try:
            return self._names[self._to_wire[self._domain(value)]]
        except (KeyError, ValueError):
            return value


INSURANCE_TYPES = EnumMap(members_pb2.InsuranceType, InsuranceType)
ENROLMENT_STATUSES = EnumMap(members_pb2.EnrolmentStatus, EnrolmentStatus)
RELATIONSHIPS = EnumMap(bindings_pb2.Relationship, Relationship)
BINDING_STATUSES = EnumMap(bindings_pb2.BindingStatus, Status)
CAUSES = EnumMap(bindings_pb2.TransitionCause, Cause)
USES = EnumMap(settlements_pb2.Use, Use)
CREDENTIALS = EnumMap(settlements_pb2.CredentialType, CredentialType)
KINDS = EnumMap(settlements_pb2.InstitutionKind, InstitutionKind)
ITEMS = EnumMap(settlements_pb2.ItemCategory, ItemCategory)
GEOGRAPHIES = EnumMap(policies_pb2.Geography, Geography)
GRANTOR_ORDERS = EnumMap(policies_pb2.GrantorOrder, GrantorOrder)
ROLLOUT_STATES = EnumMap(admin_pb2.RolloutState, RolloutState)
CHANGE_STATES = EnumMap(admin_pb2.ChangeState, ChangeState)

# Error metadata keys whose values are domain enum values (comma-separated for ``items``).
METADATA = {"relationship": RELATIONSHIPS, "insurance_type": INSURANCE_TYPES, "enrolment_status": ENROLMENT_STATUSES,
            "status": BINDING_STATUSES, "use": USES, "items": ITEMS, "credential_type": CREDENTIALS,
            "state": CHANGE_STATES}


def wire_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """Error metadata with enum values named as on the wire, as the client sent them."""
    return {key: ",".join(METADATA[key].name(v) for v in value.split(",")) if key in METADATA else value
            for key, value in metadata.items()}
