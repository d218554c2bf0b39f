"""Shanghai (31): its system counts money in whole fen (分), as strings: ``"5000"`` is 50.00 yuan, in
requests and answers alike. Everything else is national."""

from adapters.codec import ProvinceCodec

CODEC = ProvinceCodec("31", "Shanghai 上海市", in_fen=True)
