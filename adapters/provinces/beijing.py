"""Beijing (11): the national interface as published, no local differences."""

from adapters.codec import ProvinceCodec

CODEC = ProvinceCodec("11", "Beijing 北京市")
