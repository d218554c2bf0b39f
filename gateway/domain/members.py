"""Members: the insurance facts a region reports, and how a report applies.

Decisions where the issue was silent:

* A person (one ID-number hash) is actively insured (NORMAL or LAPSED) under
  at most one person number in one region. A second region claiming an active
  person is refused (MEMBER_ALREADY_ENROLLED): as in the national transfer
  procedure (转移接续), the old region reports the transfer out first.
* A transfer out is reported by the old region: a record for an existing
  member whose ``insuring_region`` is the destination. The member stays
  readable by the old region, marked TRANSFERRED_OUT with ``moved_to``; its
  bindings end by R14 (bindings issue).
* A person number, once used in a region, always names the same person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from gateway.domain.errors import Category, Refusal, Violations
from gateway.domain.identity import id_number_problem
from gateway.domain.regions import admdvs_problem

MAX_BATCH = 500
PSN_NO = re.compile(r"[A-Za-z0-9-]{1,40}")  # a person number, matched whole


class InsuranceType(StrEnum):
    EMPLOYEE = "employee"  # insutype 310: has a personal account
    RESIDENT = "resident"  # insutype 390


class EnrolmentStatus(StrEnum):
    NORMAL = "normal"
    LAPSED = "lapsed"  # 断缴: contributions lapsed, balance still usable
    TERMINATED = "terminated"
    TRANSFERRED_OUT = "transferred_out"

    @property
    def active(self) -> bool:
        return self in (EnrolmentStatus.NORMAL, EnrolmentStatus.LAPSED)


REPORTABLE = (EnrolmentStatus.NORMAL, EnrolmentStatus.LAPSED, EnrolmentStatus.TERMINATED)


@dataclass(frozen=True)
class Member:
    region: str
    psn_no: str
    id_hash: str
    insurance_type: InsuranceType
    status: EnrolmentStatus
    moved_to: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MemberReport:
    """One validated record; the ID number is already hashed."""

    psn_no: str
    id_hash: str
    insuring_region: str
    insurance_type: InsuranceType
    status: EnrolmentStatus


@dataclass(frozen=True)
class RawRecord:
    """A record as received, before validation (enums already mapped, None if unknown)."""

    psn_no: str
    id_number: str = field(repr=False)  # never printed, so never logged by accident
    insuring_region: str
    insurance_type: InsuranceType | None
    status: EnrolmentStatus | None


def validate_records(records: list[RawRecord], problems: Violations, path: str = "members") -> None:
    """Adds a violation per malformed field; never puts an ID number in a message."""
    if not records:
        problems.add(path, "at least one member record is required")
    if len(records) > MAX_BATCH:
        problems.add(path, f"at most {MAX_BATCH} records per batch, got {len(records)}")
        return
    seen: set[str] = set()
    for i, rec in enumerate(records):
        at = f"{path}[{i}]"
        if not PSN_NO.fullmatch(rec.psn_no):
            problems.add(f"{at}.psn_no", "must be 1 to 40 letters, digits or '-'")
        elif rec.psn_no in seen:
            problems.add(f"{at}.psn_no", f"person number {rec.psn_no} appears twice in the batch")
        seen.add(rec.psn_no)
        if (why := id_number_problem(rec.id_number)) is not None:
            problems.add(f"{at}.id_number", why)
        if (why := admdvs_problem(rec.insuring_region)) is not None:
            problems.add(f"{at}.insuring_region", why)
        if rec.insurance_type is None:
            problems.add(f"{at}.insurance_type", "must be INSURANCE_TYPE_EMPLOYEE or INSURANCE_TYPE_RESIDENT")
        if rec.status not in REPORTABLE:
            problems.add(f"{at}.enrolment_status",
                         "must be ENROLMENT_STATUS_NORMAL, ENROLMENT_STATUS_LAPSED or ENROLMENT_STATUS_TERMINATED")


def apply_report(caller: str, report: MemberReport, current: Member | None,
                 active_holder: Member | None, now: datetime) -> Member:
    """The member after ``caller`` reports ``report``.

    ``current`` is the caller's member with that person number, if any;
    ``active_holder`` is whoever is actively insured with that ID hash, if any.
    """
    if current is not None and current.id_hash != report.id_hash:
        raise Refusal(Category.FAILED_PRECONDITION, "ID_NUMBER_MISMATCH",
                      f"person number {report.psn_no} in region {caller} belongs to another person",
                      metadata={"region": caller, "psn_no": report.psn_no})
    if report.insuring_region != caller:
        if current is None:
            raise Refusal(Category.NOT_FOUND, "MEMBER_NOT_FOUND",
                          f"region {caller} has no member {report.psn_no} to report as transferred out",
                          rule="R14", metadata={"region": caller, "psn_no": report.psn_no,
                                                "insuring_region": report.insuring_region})
        return replace(current, insurance_type=report.insurance_type, status=EnrolmentStatus.TRANSFERRED_OUT,
                       moved_to=report.insuring_region, updated_at=now)
    if report.status.active and active_holder is not None and (
        active_holder.region, active_holder.psn_no) != (caller, report.psn_no):
        # Not which region: a region may learn that the person it reports is insured elsewhere (it must
        # wait for the transfer out), not where; the person can tell it.
        raise Refusal(Category.FAILED_PRECONDITION, "MEMBER_ALREADY_ENROLLED",
                      "this person is actively insured under another person number or in another region; that "
                      "enrolment must end or be reported as transferred out first", rule="R14",
                      metadata={"region": caller, "psn_no": report.psn_no})
    if current is None:
        return Member(caller, report.psn_no, report.id_hash, report.insurance_type, report.status, None, now, now)
    if (current.insurance_type, current.status, current.moved_to) == (report.insurance_type, report.status, None):
        return current
    return replace(current, insurance_type=report.insurance_type, status=report.status, moved_to=None, updated_at=now)
