"""Hebei (13): the national interface as published, no local differences."""

from adapters.codec import ProvinceCodec

CODEC = ProvinceCodec("13", "Hebei 河北省")
