"""The national code tables (两定接口 and the standards they use), local code -> canonical enum number.
A province's module replaces the tables where its codes differ. Where several local codes mean the
same thing, the first listed is the one the gateway writes.

* ``insutype`` 险种类型: 310 employee basic, 390 urban-rural resident basic.
* ``psn_insu_stas`` 参保状态: 1 normal, 2 suspended (暂停参保: contributions lapsed, read as LAPSED),
  4 terminated, 0 not insured (read as terminated: no rights either way; the gateway writes 4). The gateway writes ``8`` for a member transferred out (its own code: the national
  table has none).
* ``mdtrt_cert_type`` 就诊凭证类型: 01 e-voucher, 02 ID card, 03 social-security card; with it
  ``mdtrt_cert_no``, read as the ID number of the credential's holder (R8 compares it with the patient's).
* ``relation``: family relationship, GB/T 4761-2008 家庭关系代码 (10 配偶, 51 父亲, ...); a spouse's
  parents (53/55, 54/56) are listed so that the refusal names R4; 99 is a "family account" proxy
  (亲情账户), refused by R13.
* ``med_type`` 医疗类别: 11/12/13/14 outpatient, 21/22 inpatient, 41 pharmacy purchase; premiums
  have no national code: 91 resident premium (代缴居民医保费), 92 long-term-care premium, 93 commercial
  health insurance.
* ``list_type`` 目录类别: 101/102 drugs, 201 medical services, 301 medical consumables; non-medical
  goods (R7): 901 health supplements, 902 cosmetics, 903 daily goods.
* ``fixmedins_type`` 定点医药机构类型: 1 medical institution, 2 retail pharmacy.
* ``bind_stas``, ``revoke_rea``: binding status and revocation reason (this interface's own codes).
* ``cnfm_flag``: a statement confirmed (1) or disputed (0), for 3261.
"""

from __future__ import annotations

from gateway._proto.copay.v1 import bindings_pb2 as b
from gateway._proto.copay.v1 import clearing_pb2 as c
from gateway._proto.copay.v1 import members_pb2 as m
from gateway._proto.copay.v1 import settlements_pb2 as s

TRANSFERRED_OUT = "8"

NATIONAL: dict[str, dict[str, int]] = {
    "insutype": {"310": m.INSURANCE_TYPE_EMPLOYEE, "390": m.INSURANCE_TYPE_RESIDENT},
    "psn_insu_stas": {"1": m.ENROLMENT_STATUS_NORMAL, "2": m.ENROLMENT_STATUS_LAPSED,
                      "4": m.ENROLMENT_STATUS_TERMINATED, "0": m.ENROLMENT_STATUS_TERMINATED, TRANSFERRED_OUT: m.ENROLMENT_STATUS_TRANSFERRED_OUT},
    "mdtrt_cert_type": {"01": s.CREDENTIAL_TYPE_E_VOUCHER, "02": s.CREDENTIAL_TYPE_ID_CARD,
                        "03": s.CREDENTIAL_TYPE_SOCIAL_SECURITY_CARD},
    "relation": {"10": b.RELATIONSHIP_SPOUSE, "51": b.RELATIONSHIP_FATHER, "52": b.RELATIONSHIP_MOTHER,
                 "20": b.RELATIONSHIP_SON, "30": b.RELATIONSHIP_DAUGHTER, "71": b.RELATIONSHIP_ELDER_BROTHER,
                 "73": b.RELATIONSHIP_YOUNGER_BROTHER, "75": b.RELATIONSHIP_ELDER_SISTER,
                 "77": b.RELATIONSHIP_YOUNGER_SISTER, "61": b.RELATIONSHIP_PATERNAL_GRANDFATHER,
                 "62": b.RELATIONSHIP_PATERNAL_GRANDMOTHER, "63": b.RELATIONSHIP_MATERNAL_GRANDFATHER,
                 "64": b.RELATIONSHIP_MATERNAL_GRANDMOTHER, "41": b.RELATIONSHIP_PATERNAL_GRANDSON,
                 "42": b.RELATIONSHIP_PATERNAL_GRANDDAUGHTER, "43": b.RELATIONSHIP_MATERNAL_GRANDSON,
                 "44": b.RELATIONSHIP_MATERNAL_GRANDDAUGHTER, "55": b.RELATIONSHIP_SPOUSE_FATHER,
                 "53": b.RELATIONSHIP_SPOUSE_FATHER, "56": b.RELATIONSHIP_SPOUSE_MOTHER,
                 "54": b.RELATIONSHIP_SPOUSE_MOTHER, "99": b.RELATIONSHIP_FAMILY_ACCOUNT_PROXY},
    "med_type": {"11": s.USE_OUTPATIENT, "12": s.USE_OUTPATIENT, "13": s.USE_OUTPATIENT, "14": s.USE_OUTPATIENT,
                 "21": s.USE_INPATIENT, "22": s.USE_INPATIENT, "41": s.USE_PHARMACY, "91": s.USE_RESIDENT_PREMIUM,
                 "92": s.USE_LONG_TERM_CARE_PREMIUM, "93": s.USE_COMMERCIAL_HEALTH_INSURANCE},
    "list_type": {"101": s.ITEM_CATEGORY_DRUG, "102": s.ITEM_CATEGORY_DRUG, "201": s.ITEM_CATEGORY_MEDICAL_SERVICE,
                  "301": s.ITEM_CATEGORY_MEDICAL_DEVICE, "901": s.ITEM_CATEGORY_HEALTH_SUPPLEMENT,
                  "902": s.ITEM_CATEGORY_COSMETIC, "903": s.ITEM_CATEGORY_DAILY_GOODS},
    "fixmedins_type": {"1": s.INSTITUTION_KIND_HOSPITAL, "2": s.INSTITUTION_KIND_PHARMACY},
    "bind_stas": {"1": b.BINDING_STATUS_PENDING_CONFIRMATION, "2": b.BINDING_STATUS_PENDING_REVIEW,
                  "3": b.BINDING_STATUS_ACTIVE, "4": b.BINDING_STATUS_REVOKED, "5": b.BINDING_STATUS_ENDED},
    "cnfm_flag": {"1": c.CLEARING_VERDICT_CONFIRMED, "0": c.CLEARING_VERDICT_DISPUTED},
    "revoke_rea": {"1": b.TRANSITION_CAUSE_GRANTOR_REQUEST, "2": b.TRANSITION_CAUSE_BENEFICIARY_REQUEST,
                   "3": b.TRANSITION_CAUSE_CONFIRMATION_DECLINED, "4": b.TRANSITION_CAUSE_REVIEW_REJECTED},
}
