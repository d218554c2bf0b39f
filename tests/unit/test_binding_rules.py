"""The rules engine (gateway.domain.bindings.decide), one accepting and one
refusing case per rule, against the shipped province policies."""

from datetime import datetime, timezone

import pytest

from gateway.domain.bindings import Cause, Status, decide, end_cause
from gateway.domain.errors import Refusal
from gateway.domain.members import EnrolmentStatus as S, InsuranceType as T, Member
from gateway.domain.relationships import BROAD, NARROW, Relationship as R
from gateway.domain.rollout import Control, Pair, Region, RolloutState
from gateway.policies import load

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
POLICIES = load()


def person(region: str, who: str, kind=T.EMPLOYEE, status=S.NORMAL) -> Member:
    return Member(region, f"P-{who}", f"hash-{who}", kind, status, None, NOW, NOW)


def control(pair_open: bool, *regions: str) -> Control:
    """Every region LIVE; every cross-province pair among ``regions`` open both ways if ``pair_open``."""
    live = {r: Region(r, r, RolloutState.LIVE) for r in ALL}
    pairs = {(a[:2], b[:2]): Pair(a[:2], b[:2], True) for a in regions for b in regions if a[:2] != b[:2]}
    return Control(1, False, live, pairs if pair_open else {})


def outcome(grantor, beneficiary, relationship, pair_open=False):
    """``beneficiary`` is a Member, or the region code named for a member the gateway does not know."""
    known = isinstance(beneficiary, Member)
    where = beneficiary.region if known else beneficiary
    try:
        return decide(grantor, where, beneficiary if known else None, relationship, POLICIES[grantor.region[:2]],
                      control(pair_open, grantor.region, where), NOW)
    except Refusal as refusal:
        return (refusal.reason, refusal.rule)


XUZHOU, NANJING, WUHAN, JINGZHOU = "320300", "320100", "420100", "421000"
GUANGZHOU, YUNFU, NANNING, BEIJING = "440100", "445300", "450100", "110000"
ALL = (XUZHOU, NANJING, WUHAN, JINGZHOU, GUANGZHOU, YUNFU, NANNING, BEIJING, "310000")

CASES = [
    # R1: only employee-insured members can grant.
    ("R1 employee grantor accepted", person(WUHAN, "g"), person(WUHAN, "b"), R.SON, False, Status.ACTIVE),
    ("R1 resident grantor refused", person(WUHAN, "g", kind=T.RESIDENT), person(WUHAN, "b"), R.SON, False,
     ("GRANTOR_NOT_EMPLOYEE_INSURED", "R1")),
    # R2: lapsed contributions still grant; a terminated enrolment does not.
    ("R2 lapsed grantor accepted", person(WUHAN, "g", status=S.LAPSED), person(WUHAN, "b"), R.MOTHER, False,
     Status.ACTIVE),
    ("R2 terminated grantor refused", person(WUHAN, "g", status=S.TERMINATED), person(WUHAN, "b"), R.MOTHER, False,
     ("GRANTOR_ENROLMENT_ENDED", "R2")),
    ("R2 transferred-out grantor refused", person(WUHAN, "g", status=S.TRANSFERRED_OUT), person(WUHAN, "b"),
     R.MOTHER, False, ("GRANTOR_ENROLMENT_ENDED", "R2")),
    # R3: the beneficiary is insured (either scheme) in normal status.
    ("R3 resident beneficiary accepted", person(WUHAN, "g"), person(WUHAN, "b", kind=T.RESIDENT), R.DAUGHTER, False,
     Status.ACTIVE),
    ("R3 terminated beneficiary refused", person(WUHAN, "g"), person(WUHAN, "b", status=S.TERMINATED), R.DAUGHTER,
     False, ("BENEFICIARY_NOT_NORMALLY_INSURED", "R3")),
    ("R3 lapsed beneficiary refused", person(WUHAN, "g"), person(WUHAN, "b", status=S.LAPSED), R.DAUGHTER, False,
     ("BENEFICIARY_NOT_NORMALLY_INSURED", "R3")),
    ("R3 unknown beneficiary refused alike", person(WUHAN, "g"), JINGZHOU, R.DAUGHTER, False,
     ("BENEFICIARY_NOT_NORMALLY_INSURED", "R3")),
    # What the caller may know comes first: geography (R5) refuses before anything of the beneficiary is told.
    ("R5 before R3: terminated beneficiary in a closed province", person(XUZHOU, "g"),
     person(GUANGZHOU, "b", status=S.TERMINATED), R.MOTHER, False, ("CROSS_PROVINCE_CLOSED", "R5")),
    ("R5 before R3: unknown beneficiary in a closed province", person(XUZHOU, "g"), GUANGZHOU, R.MOTHER, False,
     ("CROSS_PROVINCE_CLOSED", "R5")),
    ("R5 before R3: unknown beneficiary outside the pooling region", person(GUANGZHOU, "g"), YUNFU, R.MOTHER, False,
     ("OUTSIDE_POOLING_REGION", "R5")),
    # R4: scope of the grantor's province; never the spouse's parents; never oneself.
    ("R4 sibling accepted under broad scope (Hubei)", person(WUHAN, "g"), person(JINGZHOU, "b"), R.YOUNGER_SISTER,
     False, Status.ACTIVE),
    ("R4 sibling refused under narrow scope (Beijing)", person(BEIJING, "g"), person(BEIJING, "b"), R.ELDER_BROTHER,
     False, ("RELATIVE_NOT_ELIGIBLE", "R4")),
    ("R4 maternal grandchild accepted (Guangxi)", person(NANNING, "g"), person(NANNING, "b"), R.MATERNAL_GRANDSON,
     False, Status.ACTIVE),
    ("R4 self-binding refused", person(WUHAN, "g"), person(WUHAN, "g"), R.SON, False, ("SELF_BINDING", "R4")),
    # R5: same province; same pooling region where the province says so; cross-province only when open.
    ("R5 Xuzhou grantor, Nanjing beneficiary accepted in Jiangsu", person(XUZHOU, "g"), person(NANJING, "b"),
     R.FATHER, False, Status.ACTIVE),
    ("R5 Guangzhou grantor, Yunfu beneficiary refused (same region only)", person(GUANGZHOU, "g"),
     person(YUNFU, "b"), R.FATHER, False, ("OUTSIDE_POOLING_REGION", "R5")),
    ("R5 Guangzhou pair in one region accepted, pending review", person(GUANGZHOU, "g"), person(GUANGZHOU, "b"),
     R.FATHER, False, Status.PENDING_REVIEW),
    ("R5 Jiangsu grantor, Guangdong beneficiary refused while closed", person(XUZHOU, "g"), person(GUANGZHOU, "b"),
     R.MOTHER, False, ("CROSS_PROVINCE_CLOSED", "R5")),
    ("R5 Jiangsu grantor, Guangdong beneficiary accepted once open", person(XUZHOU, "g"), person(GUANGZHOU, "b"),
     R.MOTHER, True, Status.ACTIVE),
    ("R5 same-region-only province never shares across provinces", person(GUANGZHOU, "g"), person(XUZHOU, "b"),
     R.MOTHER, True, ("OUTSIDE_POOLING_REGION", "R5")),
    # R11: Jiangsu spouse waits for confirmation; Shanghai waits for review.
    ("R11 Jiangsu spouse waits for confirmation", person(XUZHOU, "g"), person(NANJING, "b"), R.SPOUSE, False,
     Status.PENDING_CONFIRMATION),
    ("R11 Shanghai binding waits for review", person("310000", "g"), person("310000", "b"), R.SON, False,
     Status.PENDING_REVIEW),
    # R13: a family account is not mutual aid.
    ("R13 family-account proxy refused", person(WUHAN, "g"), person(WUHAN, "b"), R.FAMILY_ACCOUNT_PROXY, False,
     ("FAMILY_ACCOUNT_NOT_MUTUAL_AID", "R13")),
]


@pytest.mark.parametrize("grantor, beneficiary, relationship, pair_open, expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules_engine(grantor, beneficiary, relationship, pair_open, expected):
    assert outcome(grantor, beneficiary, relationship, pair_open) == expected


@pytest.mark.parametrize("province", sorted(POLICIES))
@pytest.mark.parametrize("relationship", [R.SPOUSE_FATHER, R.SPOUSE_MOTHER])
def test_spouses_parents_are_refused_in_every_province(province, relationship):
    region = {"11": BEIJING, "31": "310000"}.get(province, f"{province}0100")
    assert outcome(person(region, "g"), person(region, "b"), relationship, True) == ("RELATIVE_NOT_ELIGIBLE", "R4")


def test_every_province_policy_is_narrow_or_broad_and_names_its_sources():
    for policy in POLICIES.values():
        assert policy.scope in (NARROW, BROAD) and policy.sources
    assert {"11", "13", "31", "32", "42", "44", "45"} <= POLICIES.keys()


@pytest.mark.parametrize("status, as_grantor, cause", [
    (S.TERMINATED, True, Cause.GRANTOR_TERMINATED), (S.TERMINATED, False, Cause.BENEFICIARY_TERMINATED),
    (S.TRANSFERRED_OUT, True, Cause.GRANTOR_TRANSFERRED), (S.TRANSFERRED_OUT, False, Cause.BENEFICIARY_TRANSFERRED),
    (S.LAPSED, True, None), (S.NORMAL, False, None)])
def test_r14_which_status_changes_end_bindings(status, as_grantor, cause):
    assert end_cause(person(WUHAN, "m", status=status), as_grantor) == cause


def test_an_r3_refusal_tells_nothing_of_the_beneficiarys_enrolment():
    terminated, lapsed = person(JINGZHOU, "t", status=S.TERMINATED), person(JINGZHOU, "l", status=S.LAPSED)
    refusals = []
    for beneficiary in (terminated, lapsed, None):
        with pytest.raises(Refusal) as err:
            decide(person(WUHAN, "g"), JINGZHOU, beneficiary, R.SON, POLICIES["42"], control(False), NOW)
        refusals.append((err.value.reason, err.value.message, err.value.metadata))
    assert refusals[0] == refusals[1] == refusals[2] and refusals[0][2] == {}
