"""Protobuf enums <-> domain enums, matched by name: ``INSURANCE_TYPE_EMPLOYEE`` <-> ``InsuranceType.EMPLOYEE``."""

from __future__ import annotations

from enum import Enum
from typing import Generic, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

E = TypeVar("E", bound=Enum)


class EnumMap(Generic[E]):
    def __init__(self, wire: EnumTypeWrapper, domain: type[E]) -> None:
        prefix = wire.DESCRIPTOR.values[0].name.removesuffix("UNSPECIFIED")
        self._to_domain = {v.number: domain[v.name.removeprefix(prefix)] for v in wire.DESCRIPTOR.values if v.number}
        self._to_wire = {d: n for n, d in self._to_domain.items()}
        missing = set(domain) - set(self._to_wire)
        if missing:
            raise ValueError(f"{wire.DESCRIPTOR.name} lacks {sorted(m.name for m in missing)}")
        self.names = [v.name for v in wire.DESCRIPTOR.values if v.number]

    def domain(self, number: int) -> E | None:
        """None for UNSPECIFIED or a number this build does not know."""
        return self._to_domain.get(number)

    def wire(self, value: E) -> int:
        return self._to_wire[value]
