"""Messages between the server and its SQLite writer process (gateway.store.sqlite.writer).

A message is a 4-byte big-endian length and a pickle. The server sends lists of
calls, ``(call_id, function, arguments)``; the writer answers each batch with
``(commit_seconds, [(call_id, ok, result or exception)])``. Functions travel by
reference (module-level functions only); a ``Shared`` dict, which both
processes hold from the start, travels by name. Both ends are this program and
the socket pair is private to the two processes, so nothing a caller sends is
ever unpickled as code.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any, Callable, TypeVar

T = TypeVar("T")
HEADER = struct.Struct("!I")
Call = tuple[int, Callable[..., Any], tuple[Any, ...]]
Outcome = tuple[int, bool, Any]


class WriterFailure(Exception):
    """An unexpected error in the writer; the writer logged its cause. The caller gets INTERNAL."""


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


_SHARED: dict[str, "Shared"] = {}  # this process's shared objects, by name


class Shared(dict):  # type: ignore[type-arg]
    """A dict that both processes hold from the start (the policies in force): it is pickled
    by name, not by content. ``share`` makes one."""

    def __init__(self, name: str, content: dict[Any, Any]) -> None:
        super().__init__(content)
        self.name = name

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return _shared, (self.name,)


def share(name: str, content: dict[Any, Any]) -> Shared:
    """``content`` as a Shared dict of this process, registered under ``name``."""
    _SHARED[name] = Shared(name, content)
    return _SHARED[name]


def _shared(name: str) -> Shared:
    return _SHARED[name]


def dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def dumps_each(items: list[T], replace: Callable[[T, Exception], T | None],
               message: Callable[[list[T]], object] = lambda items: items) -> tuple[bytes, int]:
    """``message(items)`` pickled at once (objects shared between items are written once), and how
    many items it holds: if some item cannot be pickled, ``replace`` says what goes in its place
    (None: leave it out)."""
    try:
        return dumps(message(items)), len(items)
    except Exception:  # noqa: BLE001 - find the item at fault
        kept = []
        for item in items:
            try:
                dumps(item)
                kept.append(item)
            except Exception as error:  # noqa: BLE001
                if (instead := replace(item, error)) is not None:
                    kept.append(instead)
        return dumps(message(kept)), len(kept)


def frames(buffer: bytearray) -> list[bytes]:
    """Takes every complete frame off the front of ``buffer``."""
    found = []
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + size:
            break
        found.append(bytes(buffer[HEADER.size:HEADER.size + size]))
        del buffer[:HEADER.size + size]
    return found
