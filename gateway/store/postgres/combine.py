"""Several statements sent as one (PostgreSQL): the driver's cost is per statement, not per row.

A settlement's statements went in three round trips already (pipeline mode), but each statement still cost
the gateway its own driver work and system calls: about 60 µs of CPU each, sixteen of them per settlement
(README, Benchmark). Here the writes queued for one round trip become one statement with ``WITH``, and reads
asked for together one ``UNION ALL``; each part keeps its own parameters (renamed ``w0_key``, ``r1_day``... in
the text; in ``$n``, its values follow those of the part before it) and its own answer. A combined text is the
same for every unit of work of the same shape, so the server prepares it once per connection like any other.

What stays apart, because one statement would change the meaning:
- Sub-statements of one ``WITH`` all see the database as it was before the statement and run in no set
  order: a write joins a group only if no other part of it writes the same table (inserts into one table
  excepted: they cannot touch each other's rows). Two debits of one share account can never meet in one
  statement, where only one of them would take effect.
- A statement reads from one snapshot, taken when it starts: the reads after one that takes a lock go in
  the next statement, so that they see what committed while it waited for the lock. An advisory lock goes
  alone. A ``FOR UPDATE`` read may end a statement of reads: the rows it locks are read again once the lock
  is granted, as PostgreSQL does for any locking read in READ COMMITTED, and a row committed while it waited
  is no more visible to it than alone (its own snapshot would be taken when it starts, before the wait), so
  it answers as it would alone; the reads before it answer as they would before it (the parts of a ``UNION
  ALL`` run in turn, none in parallel where rows are locked). A second ``FOR UPDATE`` read goes in the next
  statement: after the first one's wait, it must see a row committed meanwhile (a share account opened by the
  transaction it waited for), which the first's snapshot does not hold.
- ``BEGIN``, ``COMMIT`` and anything else that is not a plain write goes as it is. Plain: an INSERT of
  values (no ``SELECT``, no ``ON CONFLICT``: two upserts of one key in one statement fail), an UPDATE or
  DELETE that reads no table but its own.

Errors keep their meaning: a unique key or a CHECK fails the combined statement with the same SQLSTATE
(gateway.store.unit_of_work makes it a Conflict), and the transaction as a whole, as before.

Rows keep their order within a read: the parts of a ``UNION ALL`` are read in turn and a part's own
``ORDER BY`` holds in its sub-select. That is PostgreSQL's executor today, not the SQL standard (a parallel
plan could interleave): the readers that depend on order sort again (gateway.store.settlements.SqlSettlements.
active_bindings). A read's columns are cast to the types its statement declares: they must be the columns'
real types (a naive timestamp declared with a time zone would come back with one).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from gateway.store.postgres import placeholders

PARAMETER = re.compile(r"%\((\w+)\)s")


class Shape:
    """What combining needs to know of one compiled statement."""

    def __init__(self, sql: str, writes: tuple[str, bool] | None, alone: bool, types: Sequence[str],
                 locks: bool = False, raw: placeholders.Raw | None = None) -> None:
        """``raw``: the text already in ``$n`` (gateway.store.postgres.placeholders), if the caller has it."""
        self.sql = sql
        self.writes = writes  # (table, is an INSERT) for a plain write, else None
        self.alone = alone  # never combined as a read (an advisory lock; anything not a SELECT)
        self.locks = locks  # a FOR UPDATE read: ends a statement of reads
        self.types = types  # the SQL types of a read's columns
        raw = placeholders.convert(sql) if raw is None else raw
        self.names = raw.names if raw is not None else ()  # its values' names, in the order it takes them
        # Every % a named parameter (the one form renamed here), in $n, and no WITH of its own (one level only)
        self.combinable = sql.count("%") == len(PARAMETER.findall(sql)) and raw is not None \
            and not sql.lstrip().upper().startswith("WITH")


class Combined:
    """One statement made of several parts, each with its own parameters: in ``$n``, the first part's values
    first, in the order that part takes them, then the next part's."""

    def __init__(self, sql: str, shapes: Sequence[Shape], prefix: str) -> None:
        self.sql = sql
        self.raw = placeholders.convert(sql)
        names = tuple(f"{prefix}{i}_{name}" for i, shape in enumerate(shapes) for name in shape.names)
        if self.raw is None or self.raw.names != names:  # the parts' values could not simply follow each other
            raise ValueError(f"a combined statement takes its values in another order: {sql}")

    @staticmethod
    def parameters(given: list[list[Any]]) -> list[Any]:
        """The parts' values, each part's in its own order, as the combined statement takes them."""
        return [value for values in given for value in values]


# Keyed by the shapes themselves (kept alive by the key: an id could be reused by another shape).
_WRITES: dict[tuple[Shape, ...], Combined] = {}
_READS: dict[tuple[Shape, ...], Combined] = {}
CACHED = 256  # distinct shapes remembered; more are built again each time


def _renamed(sql: str, prefix: str) -> str:
    return PARAMETER.sub(lambda m: f"%({prefix}_{m.group(1)})s", sql)


def write_groups(items: list[tuple[Shape, Any]]) -> list[list[tuple[Shape, Any]]]:
    """Splits single-row statements, in order, into groups that may go as one statement each."""
    groups: list[list[tuple[Shape, Any]]] = []
    written: dict[str, bool] | None = None  # in the last group: table -> only inserted into; None: closed
    for shape, params in items:
        plain = shape.writes is not None and shape.combinable
        if plain and written is not None and _joins(written, *shape.writes):  # type: ignore[misc]
            groups[-1].append((shape, params))
        else:
            groups.append([(shape, params)])
            written = {} if plain else None
        if plain and written is not None:
            table, inserts = shape.writes  # type: ignore[misc]
            written[table] = written.get(table, True) and inserts
    return groups


def _joins(written: dict[str, bool], table: str, inserts: bool) -> bool:
    return table not in written or (inserts and written[table])


def writes(group: list[tuple[Shape, Any]]) -> Combined:
    """``WITH w0 AS (...), w1 AS (...) <last>``: the group's writes as one statement."""
    key = tuple(shape for shape, _ in group)
    found = _WRITES.get(key)
    if found is None:
        parts = [_renamed(shape.sql, f"w{i}") for i, (shape, _) in enumerate(group)]
        sql = "WITH " + ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts[:-1])) + " " + parts[-1]
        found = _remember(_WRITES, key, Combined(sql, key, "w"))
    return found


def read_groups(shapes: list[Shape]) -> list[list[int]]:
    """The positions of the reads, in order, grouped into statements: an advisory lock alone, a ``FOR
    UPDATE`` read last."""
    groups: list[list[int]] = []
    open_group = False
    for i, shape in enumerate(shapes):
        free = not shape.alone and shape.combinable
        if free and open_group:
            groups[-1].append(i)
        else:
            groups.append([i])
        open_group = free and not shape.locks
    return groups


def reads(shapes: list[Shape]) -> Combined:
    """``SELECT 0, a, b, NULL, NULL FROM (...) UNION ALL SELECT 1, NULL, NULL, c, d FROM (...)``: each read's
    columns in slots of their own, typed, and the first column saying which read a row answers."""
    key = tuple(shapes)
    found = _READS.get(key)
    if found is None:
        slots = [t for shape in shapes for t in shape.types]
        branches, start = [], 0
        for i, shape in enumerate(shapes):
            names = [f"c{k}" for k in range(len(shape.types))]
            own = range(start, start + len(names))
            columns = [f"q{i}.c{k - start}" if k in own else f"NULL::{slot}" for k, slot in enumerate(slots)]
            branches.append(f"SELECT {i} AS part, {', '.join(columns)} FROM ({_renamed(shape.sql, f'r{i}')}) "
                            f"AS q{i}({', '.join(names)})")
            start += len(names)
        found = _remember(_READS, key, Combined(" UNION ALL ".join(branches), key, "r"))
    return found


def split(rows: list[Sequence[Any]], shapes: list[Shape], convert: list[Callable[[Sequence[Any]], Any]]) \
        -> list[list[Any]]:
    """A combined read's rows back into each read's rows, converted as that read's own would be."""
    bounds, start = [], 1
    for shape in shapes:
        bounds.append((start, start + len(shape.types)))
        start += len(shape.types)
    answers: list[list[Any]] = [[] for _ in shapes]
    for raw in rows:
        part = raw[0]
        low, high = bounds[part]
        answers[part].append(convert[part](raw[low:high]))
    return answers


def _remember(cache: dict[tuple[Shape, ...], Combined], key: tuple[Shape, ...], combined: Combined) -> Combined:
    if len(cache) < CACHED:
        cache[key] = combined
    return combined
