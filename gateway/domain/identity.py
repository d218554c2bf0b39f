"""National ID numbers: checked on arrival, then reduced to a keyed hash.

The 18-character resident ID (GB 11643) ends in an ISO 7064 MOD 11-2 check
character; the same format is used by permanent-residence cards for
foreigners and residence permits for Hong Kong, Macao and Taiwan residents.
The gateway keeps only ``HMAC-SHA256(server key, normalised number)``: without
the key the hash cannot be reversed by enumerating the (small) ID space.
Nothing here ever puts the number itself into a message.
"""

from __future__ import annotations

import hashlib
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
    """Turns a valid ID number into the keyed hash that the gateway stores.

    Each hash starts from a copy of an HMAC keyed once: ``hmac.digest`` looks the algorithm up in OpenSSL 3
    at every call, about 20 µs in a busy server against 5 for a copy (README, Benchmark)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the ID hash key must be at least 32 bytes")
        self._key = key
        self._ids = hmac.new(key, digestmod=hashlib.sha256)
        self._data = hmac.new(key, b"copay-gateway digest\0", hashlib.sha256)

    def __call__(self, id_number: str) -> str:
        mac = self._ids.copy()
        mac.update(id_number.strip().upper().encode("ascii"))
        return mac.hexdigest()

    def digest(self, data: bytes) -> str:
        """A keyed digest of other data that may hold ID numbers (a request's fingerprint): without the key
        it cannot be matched against guessed contents."""
        mac = self._data.copy()
        mac.update(data)
        return mac.hexdigest()

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return IdHasher, (self._key,)  # an HMAC in progress cannot be pickled; the key can

    def __repr__(self) -> str:
        return "IdHasher(<key hidden>)"
