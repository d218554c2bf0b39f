"""Statements in PostgreSQL's own placeholders (``$1``, ``$2``...), converted once per statement.

psycopg turns ``%(name)s`` into ``$n`` itself, and remembers the result only for a text of at most 4,096
bytes and 50 parameters: a settlement's combined statements (gateway.store.postgres.combine) are longer, and
were parsed again at every execution, about a tenth of a settlement's CPU (README, Benchmark). Here a text is
converted when its statement is made: a Direct statement's plan (gateway.store.direct) and a combined one
keep the result as long as they are kept. gateway.store.direct runs it on psycopg's raw cursor, which takes
``$n`` and a sequence of values as they are. What the conversion cannot be sure of goes to the driver as it
was."""

from __future__ import annotations

import re
from typing import NamedTuple

PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


class Raw(NamedTuple):
    sql: bytes
    names: tuple[str, ...]  # the parameter of each $n, in order


def convert(sql: str) -> Raw | None:
    """``sql`` with ``$n`` for each named parameter (a name used again keeps its number) and ``%`` for
    ``%%``; None for a text with any other ``%``, or not ASCII (its encoding is the connection's to choose)."""
    names: dict[str, int] = {}
    plain = True

    def number(match: re.Match[str]) -> str:
        nonlocal plain
        name = match.group(1)
        if name is None:
            plain = plain and match.group(0) == "%%"
            return "%"
        return f"${names.setdefault(name, len(names) + 1)}"

    text = PLACEHOLDER.sub(number, sql)
    return Raw(text.encode("ascii"), tuple(names)) if plain and sql.isascii() else None
