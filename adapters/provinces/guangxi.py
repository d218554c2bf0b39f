"""Guangxi (45): an older system that still speaks the legacy field codes of the social-insurance
information system (金保工程) for people, regions (in the envelope too) and money, and its enrolment
status codes (aac008: 1 normal, 2 suspended, 3 terminated). Everything else is national."""

from adapters.codec import ProvinceCodec
from gateway._proto.copay.v1 import members_pb2 as m

LEGACY = {
    "psn_no": "aac001",  # 个人编号
    "certno": "aac002",  # 公民身份号码
    "mdtrt_cert_no": "aac002",  # the credential's holder, by the same number
    "insutype": "aae140",  # 险种类型
    "psn_insu_stas": "aac008",  # 人员参保状态
    "insuplc_admdvs": "aab301",  # 参保地行政区划
    "medfee_sumamt": "akc264",  # 医疗费总额
    "fund_pay_sumamt": "akb068",  # 统筹基金支付
    "psn_part_amt": "akc261",  # 个人负担
    "acct_mulaid_pay": "akb081",  # 共济支付
    "psn_cash_pay": "akb067",  # 个人现金支付
}
STATUS = {"1": m.ENROLMENT_STATUS_NORMAL, "2": m.ENROLMENT_STATUS_LAPSED, "3": m.ENROLMENT_STATUS_TERMINATED,
          "8": m.ENROLMENT_STATUS_TRANSFERRED_OUT}

CODEC = ProvinceCodec("45", "Guangxi 广西壮族自治区", names=LEGACY, codes={"psn_insu_stas": STATUS})
