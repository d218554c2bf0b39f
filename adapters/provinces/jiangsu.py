"""Jiangsu (32): the national envelope with two local differences.

* Its mutual-aid app numbers relationships its own way (01 spouse, 02 father, ...), not GB/T 4761.
* It sends a binding's beneficiary as ``gjr_psn_no`` / ``gjr_certno`` / ``gjr_insuplc_admdvs``
  (被共济人) instead of ``mulaid_*``.
"""

from adapters import tables
from adapters.codec import ProvinceCodec
from gateway._proto.copay.v1 import bindings_pb2 as b

RELATION = {"01": b.RELATIONSHIP_SPOUSE, "02": b.RELATIONSHIP_FATHER, "03": b.RELATIONSHIP_MOTHER,
            "04": b.RELATIONSHIP_SON, "05": b.RELATIONSHIP_DAUGHTER, "06": b.RELATIONSHIP_ELDER_BROTHER,
            "07": b.RELATIONSHIP_YOUNGER_BROTHER, "08": b.RELATIONSHIP_ELDER_SISTER,
            "09": b.RELATIONSHIP_YOUNGER_SISTER, "10": b.RELATIONSHIP_PATERNAL_GRANDFATHER,
            "11": b.RELATIONSHIP_PATERNAL_GRANDMOTHER, "12": b.RELATIONSHIP_MATERNAL_GRANDFATHER,
            "13": b.RELATIONSHIP_MATERNAL_GRANDMOTHER, "14": b.RELATIONSHIP_PATERNAL_GRANDSON,
            "15": b.RELATIONSHIP_PATERNAL_GRANDDAUGHTER, "16": b.RELATIONSHIP_MATERNAL_GRANDSON,
            "17": b.RELATIONSHIP_MATERNAL_GRANDDAUGHTER, "18": b.RELATIONSHIP_SPOUSE_FATHER,
            "19": b.RELATIONSHIP_SPOUSE_MOTHER, "99": b.RELATIONSHIP_FAMILY_ACCOUNT_PROXY}
assert set(RELATION.values()) == set(tables.NATIONAL["relation"].values())

CODEC = ProvinceCodec("32", "Jiangsu 江苏省", codes={"relation": RELATION},
                      names={"mulaid_psn_no": "gjr_psn_no", "mulaid_certno": "gjr_certno",
                             "mulaid_insuplc_admdvs": "gjr_insuplc_admdvs"})
