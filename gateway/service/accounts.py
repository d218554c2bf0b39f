"""Grantors' shareable balances: funded and released by the grantor's region.

Decision (R14): when a grantor's enrolment ends or moves away, whatever is
left of the shareable balance is released back to the grantor's region at
once: the earmark was for the grantor's bindings, which have all ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from gateway.domain import ledger
from gateway.domain.bindings import Party, refuse
from gateway.domain.errors import Category, Refusal
from gateway.domain.members import InsuranceType, Member
from gateway.service.once import RequestKey, in_transaction, run_once
from gateway.service.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class Account:
    grantor: Party
    balance: int
    funded: int
    released: int
    spent: int
    refunded: int


def _grantor(uow: UnitOfWork, grantor: Party) -> Member:
    member = uow.members.get(grantor.region, grantor.psn_no)
    if member is None:
        raise Refusal(Category.NOT_FOUND, "MEMBER_NOT_FOUND", "the grantor is not a member known to the gateway",
                      metadata={"region": grantor.region, "psn_no": grantor.psn_no})
    return member


def account(uow: UnitOfWork, grantor: Party) -> Account:
    key = ledger.share(grantor)
    totals = uow.ledger.totals(key)
    return Account(grantor, uow.ledger.balances([key])[key], totals["funded"], totals["released"], totals["spent"],
                   totals["refunded"])


def fund(uow_factory: UnitOfWorkFactory, grantor: Party, amount: int, key: RequestKey,
         render: Callable[[Account], bytes]) -> bytes:
    def work(uow: UnitOfWork) -> Account:
        member = _grantor(uow, grantor)
        if member.insurance_type is not InsuranceType.EMPLOYEE:
            raise refuse("GRANTOR_NOT_EMPLOYEE_INSURED", "only employee-insured members have a personal account to "
                         "share", "R1", insurance_type=member.insurance_type.value)
        if not member.status.active:
            raise refuse("GRANTOR_ENROLMENT_ENDED", "the grantor's enrolment has ended", "R2",
                         enrolment_status=member.status.value)
        share = ledger.share(grantor)
        balance = uow.ledger.balances([share], lock=uow.locks_rows)[share]
        if balance + amount > ledger.MAX_FEN:
            raise refuse("BALANCE_OVER_LIMIT", f"a shareable balance holds at most {ledger.MAX_FEN} fen", None,
                         balance_fen=str(balance), requested_fen=str(amount))
        uow.ledger.post(ledger.fund(grantor, amount), datetime.now(timezone.utc))
        return account(uow, grantor)

    return run_once(uow_factory, key, work, render)


def release(uow_factory: UnitOfWorkFactory, grantor: Party, amount: int, key: RequestKey,
            render: Callable[[Account], bytes]) -> bytes:
    """Returns ``amount`` (0: everything) of the shareable balance to the grantor's region."""

    def work(uow: UnitOfWork) -> Account:
        _grantor(uow, grantor)
        share = ledger.share(grantor)
        balance = uow.ledger.balances([share], lock=uow.locks_rows)[share]
        wanted = amount or balance
        if wanted > balance:
            raise refuse("RELEASE_EXCEEDS_BALANCE", "cannot release more than the shareable balance", "R6",
                         balance_fen=str(balance), requested_fen=str(wanted))
        if wanted:
            uow.ledger.post(ledger.release(grantor, wanted), datetime.now(timezone.utc))
        return account(uow, grantor)

    return run_once(uow_factory, key, work, render)


def get(uow_factory: UnitOfWorkFactory, grantor: Party) -> Account:
    def work(uow: UnitOfWork) -> Account:
        _grantor(uow, grantor)
        return account(uow, grantor)

    return in_transaction(uow_factory, work, readonly=True)


def release_all(uow: UnitOfWork, member: Member) -> None:
    """R14: a grantor whose enrolment ended gets back what was earmarked and unspent."""
    grantor = Party(member.region, member.psn_no)
    share = ledger.share(grantor)
    balance = uow.ledger.balances([share], lock=uow.locks_rows)[share]
    if balance:
        uow.ledger.post(ledger.release(grantor, balance), member.updated_at)
