"""Members use cases: a region reports, reads and lists its own members."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from gateway.domain.errors import Category, Refusal
from gateway.domain.members import Member, MemberReport, apply_report
from gateway.service.accounts import release_all
from gateway.service.bindings import end_bindings_of
from gateway.service.once import RequestKey, in_transaction, run_once
from gateway.service.ports import UnitOfWork, UnitOfWorkFactory


def upsert_members(uow_factory: UnitOfWorkFactory, caller: str, reports: list[MemberReport], key: RequestKey,
                   render: Callable[[list[Member]], bytes]) -> bytes:
    """Applies every report or none; returns the rendered answer (replayed on retry)."""
    return run_once(uow_factory, key, lambda uow: report_members(uow, caller, reports), render)


def report_members(uow: UnitOfWork, caller: str, reports: list[MemberReport]) -> list[Member]:
    """Applies reports in order inside ``uow``; a later report sees the earlier ones."""
    now = datetime.now(timezone.utc)
    stored = []
    for report in reports:
        current = uow.members.get(caller, report.psn_no)
        holder = uow.members.active_holder(report.id_hash)
        member = apply_report(caller, report, current, holder, now)
        if member != current:
            uow.members.save(member)
            if current is not None and current.status.active and not member.status.active:
                end_bindings_of(uow, member)
                release_all(uow, member)
        stored.append(member)
    return stored


def get_member(uow_factory: UnitOfWorkFactory, region: str, psn_no: str) -> Member:
    member = in_transaction(uow_factory, lambda uow: uow.members.get(region, psn_no), readonly=True)
    if member is None:
        raise _not_found(region, {"psn_no": psn_no})
    return member


def lookup_member(uow_factory: UnitOfWorkFactory, region: str, id_hash: str) -> Member:
    member = in_transaction(uow_factory, lambda uow: uow.members.in_region_by_hash(region, id_hash), readonly=True)
    if member is None:
        raise _not_found(region, {})
    return member


def list_members(uow_factory: UnitOfWorkFactory, region: str, after_psn_no: str | None,
                 page_size: int) -> tuple[list[Member], bool]:
    """One page in person-number order, and whether more follow."""
    rows = in_transaction(uow_factory, lambda uow: uow.members.page(region, after_psn_no, page_size + 1),
                          readonly=True)
    return rows[:page_size], len(rows) > page_size


def _not_found(region: str, metadata: dict[str, str]) -> Refusal:
    return Refusal(Category.NOT_FOUND, "MEMBER_NOT_FOUND", f"no such member in region {region}",
                   metadata={"region": region, **metadata})
