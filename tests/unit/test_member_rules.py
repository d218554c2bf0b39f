"""How a region's report applies to what the gateway knows (gateway.domain.members)."""

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from gateway.domain.errors import Category, Refusal, Violations
from gateway.domain.members import (MAX_BATCH, EnrolmentStatus as S, InsuranceType as T, Member, MemberReport,
                                    RawRecord, apply_report, validate_records)

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
EARLIER = datetime(2026, 1, 1, tzinfo=timezone.utc)
ID = "11010519491231002X"


def member(region="320300", psn="P1", id_hash="h1", status=S.NORMAL, moved_to=None):
    return Member(region, psn, id_hash, T.EMPLOYEE, status, moved_to, EARLIER, EARLIER)


def report(psn="P1", id_hash="h1", pooling="320300", status=S.NORMAL, kind=T.EMPLOYEE):
    return MemberReport(psn, id_hash, pooling, kind, status)


def test_new_member_is_created():
    got = apply_report("320300", report(), None, None, NOW)
    assert got == Member("320300", "P1", "h1", T.EMPLOYEE, S.NORMAL, None, NOW, NOW)


def test_unchanged_report_changes_nothing():
    current = member()
    assert apply_report("320300", report(), current, current, NOW) is current


def test_status_change_keeps_creation_time():
    got = apply_report("320300", report(status=S.TERMINATED), member(), member(), NOW)
    assert (got.status, got.created_at, got.updated_at) == (S.TERMINATED, EARLIER, NOW)


def test_lapsed_contributions_stay_active():
    assert S.LAPSED.active and S.NORMAL.active and not S.TERMINATED.active and not S.TRANSFERRED_OUT.active


def test_person_number_of_another_person_is_refused():
    with pytest.raises(Refusal) as err:
        apply_report("320300", report(id_hash="h2"), member(), None, NOW)
    assert err.value.reason == "ID_NUMBER_MISMATCH"


def test_person_active_in_another_region_is_refused_until_transferred_out():
    with pytest.raises(Refusal) as err:
        apply_report("320100", report(pooling="320100"), None, member(), NOW)
    assert (err.value.category, err.value.reason, err.value.rule) == (
        Category.FAILED_PRECONDITION, "MEMBER_ALREADY_ENROLLED", "R14")
    assert "320300" not in str(err.value.metadata) + err.value.message  # not where the person is insured


def test_terminated_enrolment_elsewhere_does_not_block_a_new_one():
    got = apply_report("320100", report(pooling="320100"), None, None, NOW)
    assert got.region == "320100" and got.status is S.NORMAL


def test_terminated_report_is_accepted_even_if_active_elsewhere():
    got = apply_report("320100", report(pooling="320100", status=S.TERMINATED), None, member(), NOW)
    assert got.status is S.TERMINATED


def test_transfer_out_marks_member_and_destination():
    got = apply_report("320300", report(pooling="440100"), member(), member(), NOW)
    assert (got.status, got.moved_to, got.region) == (S.TRANSFERRED_OUT, "440100", "320300")


def test_transfer_out_of_unknown_member_is_refused():
    with pytest.raises(Refusal) as err:
        apply_report("320300", report(pooling="440100"), None, None, NOW)
    assert (err.value.category, err.value.reason) == (Category.NOT_FOUND, "MEMBER_NOT_FOUND")


def test_member_transferred_back_is_active_again():
    gone = member(status=S.TRANSFERRED_OUT, moved_to="440100")
    got = apply_report("320300", report(), gone, None, NOW)
    assert (got.status, got.moved_to) == (S.NORMAL, None)


def raw(**kw):
    base = dict(psn_no="P1", id_number=ID, insuring_region="320300", insurance_type=T.EMPLOYEE, status=S.NORMAL)
    return RawRecord(**{**base, **kw})


@pytest.mark.parametrize("record, field", [
    (raw(psn_no=""), "members[0].psn_no"),
    (raw(psn_no="a b"), "members[0].psn_no"),
    (raw(id_number="123"), "members[0].id_number"),
    (raw(insuring_region="32030"), "members[0].insuring_region"),
    (raw(insuring_region="990100"), "members[0].insuring_region"),
    (raw(insurance_type=None), "members[0].insurance_type"),
    (raw(status=None), "members[0].enrolment_status"),
    (raw(status=S.TRANSFERRED_OUT), "members[0].enrolment_status"),
])
def test_malformed_record_names_its_field(record, field):
    problems = Violations()
    validate_records([record], problems)
    assert [v.field for v in problems.items] == [field]
    assert all(ID not in v.description for v in problems.items)


def test_empty_oversized_and_duplicate_batches_are_refused():
    for records, expected in [([], "members"), ([raw()] * (MAX_BATCH + 1), "members"),
                              ([raw(), replace(raw(), id_number=ID)], "members[1].psn_no")]:
        problems = Violations()
        validate_records(records, problems)
        assert [v.field for v in problems.items] == [expected]


def test_every_fault_is_reported_at_once():
    problems = Violations()
    validate_records([raw(psn_no="", id_number="1"), raw(psn_no="P2", insurance_type=None)], problems)
    assert {v.field for v in problems.items} == {"members[0].psn_no", "members[0].id_number",
                                                 "members[1].insurance_type"}
    with pytest.raises(Refusal) as err:
        problems.raise_if_any()
    assert (err.value.category, err.value.reason, len(err.value.violations)) == (
        Category.INVALID_ARGUMENT, "INVALID_REQUEST", 3)
