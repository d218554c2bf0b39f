"""Hubei (42): the national interface as published, no local differences."""

from adapters.codec import ProvinceCodec

CODEC = ProvinceCodec("42", "Hubei 湖北省")
