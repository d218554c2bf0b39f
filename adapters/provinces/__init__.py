"""One module a province: what its system speaks, as a ProvinceCodec (adapters.codec). The adapter of a
call is chosen from the caller's certificate (its province), never from the payload."""

from __future__ import annotations

from adapters.codec import ProvinceCodec
from adapters.provinces import beijing, guangdong, guangxi, hebei, hubei, jiangsu, shanghai

CODECS: dict[str, ProvinceCodec] = {m.CODEC.province: m.CODEC for m in
                                    (beijing, hebei, shanghai, jiangsu, hubei, guangdong, guangxi)}


def codec_of(region: str) -> ProvinceCodec | None:
    """The codec of the province a region (admdvs) belongs to, or None if the province has none."""
    return CODECS.get(region[:2])
