"""Command-line values checked before anything is sent: amounts, counts, quiet hours, times, names.

Each function is an argparse ``type``: a bad value is refused locally, with the option named, before a
connection is opened.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from decimal import Decimal

from gateway.domain.clock import CHINA

_QUIET = re.compile(r"(([01][0-9]|2[0-3]):[0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9])")
_DIGITS = re.compile(r"[0-9]+")
_YUAN = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_MANY_DECIMALS = re.compile(r"[0-9]+\.[0-9]{3,}")
_CHANGE_PREFIX = "changeRequests/"


def yuan(text: str) -> int:
    """Yuan as fen, exactly: a positive amount with at most two decimals (never through a float)."""
    if _MANY_DECIMALS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} has more than two decimals: yuan go down to fen (0.01) and "
                                         "no further, e.g. 1.23")
    if not _YUAN.fullmatch(text) or Decimal(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of yuan above 0; write e.g. 2000 or 1999.99")
    return int(Decimal(text) * 100)


def count(text: str) -> int:
    """A whole number of at least 1 (fen, settlements)."""
    if not _DIGITS.fullmatch(text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 and at most 3600")
    return value


def quiet(text: str) -> tuple[str, str]:
    """``HH:MM-HH:MM`` as (from, until); it may cross midnight."""
    match = _QUIET.fullmatch(text)
    if match is None or match.group(1) == match.group(3):
        raise argparse.ArgumentTypeError(f"{text!r} is not two different times HH:MM-HH:MM, e.g. 22:00-06:00")
    return match.group(1), match.group(3)


def when(text: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is Asia/Shanghai time, as the gateway's days are."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time; write e.g. 2025-07-01T08:00+08:00 "
                                         "or 2025-07-01") from None
    return value if value.tzinfo else value.replace(tzinfo=CHINA)


def change_name(text: str) -> str:
    """``changeRequests/{id}`` from either that name or the bare id."""
    return text if text.startswith(_CHANGE_PREFIX) else _CHANGE_PREFIX + text
