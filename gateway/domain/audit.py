"""The audit log: append-only and hash-chained.

Every operator action (a change request, its approval or rejection, an
immediate action) is one entry: who (the operator's principal, from the
certificate), when, what (an action and its target), why (a reason, always
given), and the state before and after. Each entry's hash covers its own
fields and the previous entry's hash, so that editing, reordering or deleting
any stored entry breaks the chain from that entry on; ``verify`` names the
first entry that does not hold. The head (last sequence number and hash) is
kept beside the log as well, so that cutting entries off the end is found too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

GENESIS = "0" * 64  # the "previous hash" of the first entry


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    reason: str
    before: Any  # JSON-ready state, or None
    after: Any
    prev_hash: str
    hash: str


def digest(seq: int, at: datetime, actor: str, action: str, target: str, reason: str, before: Any, after: Any,
           prev_hash: str) -> str:
    canonical = json.dumps([seq, at.isoformat(timespec="microseconds"), actor, action, target, reason, before, after,
                            prev_hash], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(head: tuple[int, str], at: datetime, actor: str, action: str, target: str, reason: str, before: Any,
           after: Any) -> Entry:
    """The entry that follows ``head`` (the last entry's sequence number and hash; (0, GENESIS) at first)."""
    seq, prev_hash = head[0] + 1, head[1]
    return Entry(seq, at, actor, action, target, reason, before, after, prev_hash,
                 digest(seq, at, actor, action, target, reason, before, after, prev_hash))


@dataclass(frozen=True)
class Break:
    seq: int  # the first entry that does not hold (or the head's, for a cut end)
    why: str


def verify(entries: Iterable[Entry], head: tuple[int, str]) -> tuple[int, Break | None]:
    """Walks the log in sequence order; returns how many entries were checked and the first break."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for e in entries:
        checked += 1
        if e.seq != expected_seq:
            why = "missing" if e.seq > expected_seq else "out of order or repeated"
            return checked, Break(expected_seq if e.seq > expected_seq else e.seq,
                                  f"entry {expected_seq} is {why}: found {e.seq} in its place")
        if digest(e.seq, e.at, e.actor, e.action, e.target, e.reason, e.before, e.after, e.prev_hash) != e.hash:
            return checked, Break(e.seq, f"entry {e.seq} was edited: its content does not match its hash")
        if e.prev_hash != prev_hash:  # the entry before was rewritten with a fresh hash, or this link was
            suspect = max(e.seq - 1, 1)
            return checked, Break(suspect, f"entry {suspect} was edited or replaced: the chain's link to it in "
                                           f"entry {e.seq} does not match")
        expected_seq, prev_hash = e.seq + 1, e.hash
    if (expected_seq - 1, prev_hash) != head:
        return checked, Break(expected_seq, f"the log ends at entry {expected_seq - 1}, but its head says "
                                            f"{head[0]}: entries were removed from the end")
    return checked, None
