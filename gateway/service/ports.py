"""What the service layer needs from storage; gateway.store implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from gateway.domain.bindings import Binding, Party, Status
from gateway.domain.members import Member


class Conflict(Exception):
    """A concurrent transaction won a uniqueness race or a lock; retrying is safe."""


@dataclass(frozen=True)
class PriorAnswer:
    fingerprint: str
    response: bytes


class MemberRepository(Protocol):
    def get(self, region: str, psn_no: str) -> Member | None: ...
    def active_holder(self, id_hash: str) -> Member | None: ...
    def in_region_by_hash(self, region: str, id_hash: str) -> Member | None: ...
    def save(self, member: Member) -> None: ...
    def page(self, region: str, after_psn_no: str | None, limit: int) -> list[Member]: ...


class RequestLog(Protocol):
    def find(self, caller: str, request_id: str) -> PriorAnswer | None: ...
    def add(self, caller: str, request_id: str, answer: PriorAnswer) -> None: ...


class BindingRepository(Protocol):
    def get(self, binding_id: str) -> Binding | None: ...
    def live_between(self, grantor: Party, beneficiary: Party) -> Binding | None: ...
    def live_of(self, member: Party) -> list[Binding]: ...
    def page(self, member: Party, as_grantor: bool, status: Status | None, after: int | None,
             limit: int) -> list[Binding]: ...
    def add(self, binding: Binding) -> Binding: ...
    def save(self, binding: Binding, known: int) -> None: ...


class CrossProvinceSwitch(Protocol):
    def is_open(self, one: str, other: str) -> bool: ...
    def set_open(self, one: str, other: str, is_open: bool, actor: str, at: datetime) -> None: ...


class UnitOfWork(Protocol):
    members: MemberRepository
    requests: RequestLog
    bindings: BindingRepository
    cross_province: CrossProvinceSwitch

    def __enter__(self) -> "UnitOfWork": ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., UnitOfWork]
"""Called as ``factory()`` for a read-write transaction, ``factory(readonly=True)`` for reads."""
