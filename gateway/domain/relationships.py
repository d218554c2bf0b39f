"""Relationships between a grantor and a beneficiary (R4, R13).

``Relationship.FATHER`` means the beneficiary is the grantor's father. The
spouse's parents and the "family account" proxy are listed so that they are
refused by their rule, never as an unknown value.
"""

from __future__ import annotations

from enum import StrEnum


class Relationship(StrEnum):
    SPOUSE = "spouse"
    FATHER = "father"
    MOTHER = "mother"
    SON = "son"
    DAUGHTER = "daughter"
    ELDER_BROTHER = "elder_brother"
    YOUNGER_BROTHER = "younger_brother"
    ELDER_SISTER = "elder_sister"
    YOUNGER_SISTER = "younger_sister"
    PATERNAL_GRANDFATHER = "paternal_grandfather"
    PATERNAL_GRANDMOTHER = "paternal_grandmother"
    MATERNAL_GRANDFATHER = "maternal_grandfather"
    MATERNAL_GRANDMOTHER = "maternal_grandmother"
    PATERNAL_GRANDSON = "paternal_grandson"
    PATERNAL_GRANDDAUGHTER = "paternal_granddaughter"
    MATERNAL_GRANDSON = "maternal_grandson"
    MATERNAL_GRANDDAUGHTER = "maternal_granddaughter"
    SPOUSE_FATHER = "spouse_father"
    SPOUSE_MOTHER = "spouse_mother"
    FAMILY_ACCOUNT_PROXY = "family_account_proxy"


R = Relationship
NARROW = frozenset({R.SPOUSE, R.FATHER, R.MOTHER, R.SON, R.DAUGHTER})
BROAD = NARROW | {R.ELDER_BROTHER, R.YOUNGER_BROTHER, R.ELDER_SISTER, R.YOUNGER_SISTER, R.PATERNAL_GRANDFATHER,
                  R.PATERNAL_GRANDMOTHER, R.MATERNAL_GRANDFATHER, R.MATERNAL_GRANDMOTHER, R.PATERNAL_GRANDSON,
                  R.PATERNAL_GRANDDAUGHTER, R.MATERNAL_GRANDSON, R.MATERNAL_GRANDDAUGHTER}
NEVER = frozenset({R.SPOUSE_FATHER, R.SPOUSE_MOTHER})  # R4: in no province
SCOPES = {"narrow": NARROW, "broad": BROAD}
