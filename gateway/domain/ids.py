"""Time-ordered identifiers (UUIDv7, RFC 9562).

Settlements, bindings and refunds are named by a UUID whose first 48 bits are
the Unix time in milliseconds: new rows land at the right edge of the unique
index instead of at random pages, which keeps inserts fast in a large history.
"""

from __future__ import annotations

import secrets
import time
import uuid


def ordered_id() -> str:
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))
