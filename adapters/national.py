"""National interface (两定接口) codes and amounts.

* Amounts travel as decimal yuan with at most two places; inside the gateway
  money is integer fen. Floats are refused: 0.1 + 0.2 is not 0.3.
* ``insutype``: 310 employee basic, 390 urban-rural resident basic.
* ``psn_insu_stas``: 1 normal, 2 suspended (暂停参保: contributions lapsed,
  read here as LAPSED), 4 terminated; 0 (not insured) is not a member.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.domain.members import EnrolmentStatus, InsuranceType, RawRecord

INSUTYPE = {"310": InsuranceType.EMPLOYEE, "390": InsuranceType.RESIDENT}
PSN_INSU_STAS = {"1": EnrolmentStatus.NORMAL, "2": EnrolmentStatus.LAPSED, "4": EnrolmentStatus.TERMINATED}
RESIDENT_ID_CARD = "01"  # psn_cert_type: 居民身份证 (户口簿)


class CodecError(ValueError):
    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


def fen_from_yuan(value: str | int | Decimal, field: str = "amount") -> int:
    if isinstance(value, (float, bool)):
        raise CodecError(field, "must be a decimal string or integer, not a float")
    try:
        yuan = Decimal(str(value).strip())
    except InvalidOperation:
        raise CodecError(field, "not a decimal amount in yuan") from None
    if not yuan.is_finite() or yuan.as_tuple().exponent < -2:  # type: ignore[operator]
        raise CodecError(field, "at most two decimal places (fen)")
    return int(yuan * 100)


def yuan_from_fen(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def member_record_from_1101(output: dict[str, Any]) -> RawRecord:
    """The member facts of a 1101 (人员信息获取) answer. The employee enrolment
    wins over a resident one; names in ``baseinfo`` are never read."""
    base = output.get("baseinfo") or {}
    if base.get("psn_cert_type", RESIDENT_ID_CARD) != RESIDENT_ID_CARD:
        raise CodecError("baseinfo.psn_cert_type", "only resident ID numbers (01) identify members")
    enrolments = [i for i in output.get("insuinfo") or [] if i.get("insutype") in INSUTYPE]
    if not enrolments:
        raise CodecError("insuinfo", "no basic medical insurance enrolment (insutype 310 or 390)")
    chosen = min(enrolments, key=lambda i: i["insutype"])  # "310" before "390"
    return RawRecord(psn_no=str(base.get("psn_no", "")), id_number=str(base.get("certno", "")),
                     insuring_region=str(chosen.get("insuplc_admdvs", "")),
                     insurance_type=INSUTYPE[chosen["insutype"]],
                     status=PSN_INSU_STAS.get(str(chosen.get("psn_insu_stas", ""))))
