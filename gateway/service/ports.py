"""What the service layer needs from storage; gateway.store implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from gateway.domain.bindings import Binding, Party, Status
from gateway.domain.ledger import Transfer
from gateway.domain.members import Member
from gateway.domain.settlements import ActiveBinding, CredentialType, PaidLine, RefundRecord, Settlement


class Conflict(Exception):
    """A concurrent transaction won a uniqueness race or a lock; retrying is safe."""


class StoreUnavailable(Exception):
    """The database cannot take the call now and kept nothing of it; the caller may retry it as it is."""


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


class Ledger(Protocol):
    def balances(self, accounts: list[str], lock: bool = False) -> dict[str, int]: ...
    def post(self, entries: list[Transfer], at: datetime, settlement_seq: int | None = None) -> None: ...
    def totals(self, key: str) -> dict[str, int]: ...


class SettlementRepository(Protocol):
    def active_bindings(self, beneficiary: Party) -> list[tuple[ActiveBinding, Member]]: ...
    def add(self, settlement: Settlement) -> int: ...
    def get(self, settlement_id: str) -> Settlement | None: ...
    def page(self, member: Party, as_grantor: bool, start: datetime | None, end: datetime | None,
             after: int | None, limit: int) -> list[Settlement]: ...
    def refund(self, settlement: Settlement, refund: RefundRecord, plan: list[tuple[PaidLine, int]]) -> None: ...
    def record_impersonation(self, at: datetime, caller: str, beneficiary: Party | None,
                             credential: CredentialType, holder_hash: str, institution_code: str | None,
                             request_id: str | None) -> None: ...


class UnitOfWork(Protocol):
    members: MemberRepository
    requests: RequestLog
    bindings: BindingRepository
    cross_province: CrossProvinceSwitch
    ledger: Ledger
    settlements: SettlementRepository
    locks_rows: bool

    def __enter__(self) -> "UnitOfWork": ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., UnitOfWork]
"""Called as ``factory()`` for a read-write transaction, ``factory(readonly=True)`` for reads."""
