"""National ID numbers: checked on arrival, then reduced to a keyed hash.

The 18-character resident ID (GB 11643) ends in an ISO 7064 MOD 11-2 check
character; the same format is used by permanent-residence cards for
foreigners and residence permits for Hong Kong, Macao and Taiwan residents.
The gateway keeps only ``HMAC-SHA256(server key, normalised number)``: without
the key the hash cannot be reversed by enumerating the (small) ID space.
Nothing here ever puts the number itself into a message.
"""

from __future__ import annotations

import hmac
import re

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    return _CHECK[sum(map(int.__mul__, map(int, first17), _WEIGHTS)) % 11]


def id_number_problem(raw: str) -> str | None:
    """Why ``raw`` is not a valid ID number, or None. Never echoes the value."""
    number = raw.strip().upper()
    if not _SHAPE.fullmatch(number):
        return "must be 17 digits followed by a digit or X"
    if check_character(number[:17]) != number[17]:
        return "check character does not match (GB 11643 MOD 11-2)"
    return None


class IdHasher:
    """Turns a valid ID number into the keyed hash that the gateway stores."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the ID hash key must be at least 32 bytes")
        self._key = key

    def __call__(self, id_number: str) -> str:
        number = id_number.strip().upper()
        return hmac.digest(self._key, number.encode("ascii"), "sha256").hex()

    def digest(self, data: bytes) -> str:
        """A keyed digest of other data that may hold ID numbers (a request's fingerprint): without the key
        it cannot be matched against guessed contents."""
        return hmac.digest(self._key, b"copay-gateway digest\0" + data, "sha256").hex()

    def __repr__(self) -> str:
        return "IdHasher(<key hidden>)"
