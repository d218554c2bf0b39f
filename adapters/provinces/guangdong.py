"""Guangdong (44): credential types without the leading zero (1 e-voucher, 2 ID card, 3 social-security
card; the national 01/02/03 are read too, and the gateway answers with Guangdong's), and an error answer
that starts with the province's own tag, ``[GD-<reason>]``."""

from adapters import tables
from adapters.codec import ProvinceCodec
from gateway._proto.copay.v1 import settlements_pb2 as s

CODEC = ProvinceCodec(
    "44", "Guangdong 广东省",
    codes={"mdtrt_cert_type": {"1": s.CREDENTIAL_TYPE_E_VOUCHER, "2": s.CREDENTIAL_TYPE_ID_CARD,
                               "3": s.CREDENTIAL_TYPE_SOCIAL_SECURITY_CARD, **tables.NATIONAL["mdtrt_cert_type"]}},
    error_prefix=lambda reason, rule: f"[GD-{reason}]" + (f" {rule}" if rule else ""))
