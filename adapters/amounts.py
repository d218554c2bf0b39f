"""Money in a province's payloads, converted exactly: inside the gateway money is integer fen.

Decimal yuan (the national interface: ``"50.00"``, ``"0.5"``, ``"30"``) or, for a province whose
system counts in fen, whole fen (``"5000"``). Anything else is refused with a precise reason, never
rounded: more than two decimals, a sign, an exponent, NaN, spaces, a JSON number, other text.
"""

from __future__ import annotations

import re

from adapters.envelope import CodecError

_YUAN = re.compile(r"(0|[1-9][0-9]{0,10})(?:\.([0-9]{1,2}))?")
_FEN = re.compile(r"0|[1-9][0-9]{0,12}")


def _why(value: str, unit: str) -> str:
    if value.startswith(("-", "+")):
        return "must not have a sign: amounts are never negative"
    if re.search(r"[eE]", value):
        return "must not have an exponent"
    if unit == "yuan" and re.fullmatch(r"[0-9]+\.[0-9]{3,}", value):
        return "more than two decimals: yuan go to the fen (0.01) and no further"
    if unit == "fen" and "." in value:
        return "whole fen, without decimals"
    if value.strip() != value or not value:
        return "must not be empty or have spaces"
    return f"not an amount in {unit}" + (" (decimal yuan, e.g. \"50.00\")" if unit == "yuan" else "")


def fen_from_yuan(value: object, field: str) -> int:
    """``"50.00"`` -> 5000."""
    if not isinstance(value, str):
        raise CodecError(field, "must be a decimal-yuan string such as \"50.00\"")
    match = _YUAN.fullmatch(value)
    if match is None:
        raise CodecError(field, _why(value, "yuan"))
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def yuan_from_fen(fen: int) -> str:
    """5000 -> ``"50.00"``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fen_from_fen(value: object, field: str) -> int:
    """``"5000"`` -> 5000, for a province that counts in fen."""
    if not isinstance(value, str) or not _FEN.fullmatch(value):
        raise CodecError(field, "must be whole fen as a string, such as \"5000\"" if not isinstance(value, str)
                         else _why(value, "fen"))
    return int(value)


def fen_text(fen: int) -> str:
    return str(fen)
