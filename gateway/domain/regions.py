"""Pooling regions are named by 6-digit administrative division codes (admdvs).

The first two digits are the province; only the codes GB/T 2260 assigns to
provinces are accepted, so a typo such as ``990100`` is caught at the edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_ADMDVS = re.compile(r"[0-9]{6}")


def admdvs_problem(code: str) -> str | None:
    """Why ``code`` is not a pooling-region code, or None."""
    if not _ADMDVS.fullmatch(code):
        return "must be a 6-digit administrative division code (admdvs), for example 320300"
    if code[:2] not in PROVINCES:
        return f"'{code[:2]}' is not a province code"
    return None


def province_of(admdvs: str) -> str:
    return admdvs[:2]


@dataclass(frozen=True)
class Scoped:
    """An id a caller chose (or the gateway made) in one region's own namespace, such as
    ``regions/{region}/bindings/{id}``: no region can take, or probe, another's ids."""

    region: str
    id: str
