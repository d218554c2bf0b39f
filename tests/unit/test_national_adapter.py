from decimal import Decimal

import pytest

from adapters.national import CodecError, fen_from_yuan, member_record_from_1101, yuan_from_fen
from gateway.domain.members import EnrolmentStatus, InsuranceType


@pytest.mark.parametrize("yuan, fen", [("50.00", 5000), ("0.01", 1), ("30", 3000), (12, 1200),
                                       (Decimal("1999.99"), 199999), ("-0.30", -30), (" 7.5 ", 750)])
def test_yuan_amounts_become_exact_fen(yuan, fen):
    assert fen_from_yuan(yuan) == fen


@pytest.mark.parametrize("bad", [0.1, "0.001", "abc", "", "NaN", "Infinity", True])
def test_inexact_or_malformed_amounts_are_refused(bad):
    with pytest.raises(CodecError):
        fen_from_yuan(bad, "psn_part_amt")


@pytest.mark.parametrize("fen, yuan", [(5000, "50.00"), (1, "0.01"), (0, "0.00"), (-30, "-0.30")])
def test_fen_become_two_place_yuan(fen, yuan):
    assert yuan_from_fen(fen) == yuan and fen_from_yuan(yuan) == fen


def answer_1101(*insuinfo, cert_type="01"):
    return {"baseinfo": {"psn_no": "32030000000001", "psn_cert_type": cert_type, "certno": "11010519491231002X",
                         "psn_name": "张三"}, "insuinfo": list(insuinfo)}


def test_1101_answer_prefers_the_employee_enrolment():
    record = member_record_from_1101(answer_1101(
        {"insutype": "390", "psn_insu_stas": "1", "insuplc_admdvs": "320300"},
        {"insutype": "310", "psn_insu_stas": "2", "insuplc_admdvs": "320300"},
        {"insutype": "410", "psn_insu_stas": "1", "insuplc_admdvs": "320300"}))
    assert (record.psn_no, record.insuring_region, record.insurance_type, record.status) == (
        "32030000000001", "320300", InsuranceType.EMPLOYEE, EnrolmentStatus.LAPSED)
    assert "张三" not in repr(record) and "11010519491231002X" not in repr(record)


def test_1101_answer_without_basic_insurance_or_with_another_credential_is_refused():
    with pytest.raises(CodecError) as err:
        member_record_from_1101(answer_1101({"insutype": "410", "psn_insu_stas": "1"}))
    assert err.value.field == "insuinfo"
    with pytest.raises(CodecError):
        member_record_from_1101(answer_1101({"insutype": "310"}, cert_type="06"))


def test_unknown_status_is_left_for_validation():
    assert member_record_from_1101(answer_1101({"insutype": "310", "psn_insu_stas": "0"})).status is None
