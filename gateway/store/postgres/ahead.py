"""The reads a unit of work asks for at once (``UnitOfWork.read_ahead``): with its BEGIN, one round trip.
Each answer is kept under the key its repository looks for, and taken by the repository's first ask. On the
wire: BEGIN, the window's lock (alone: what is read after it sees what committed while it waited), then every
other read as one statement (gateway.store.postgres.combine), the grantors' share rows, locked, last in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from gateway.service.ports import Ahead
from gateway.store.clearing import entering
from gateway.store.direct import Direct, together
from gateway.store.members import BY_NAME
from gateway.store.requests import FIND_REQUEST
from gateway.store.settlements import ACTIVE_BINDINGS, ACTIVE_SHARES, NEXT_NUMBER


def read_ahead(conn: Connection, ahead: Ahead) -> dict[tuple[Any, ...], Any]:
    asks: list[tuple[tuple[Any, ...], list[tuple[Direct, dict[str, Any]]]]] = []  # an answer is its last read's
    if ahead.window:  # first: its lock goes alone, and every read after it goes as one statement
        asks.append((("window", ahead.window), entering(conn, ahead.window)))
    if ahead.request:
        caller, request_id = ahead.request
        asks.append((("request", caller, request_id), [(FIND_REQUEST, {"caller": caller, "request_id": request_id})]))
    if member := ahead.member:
        asks.append((("member", member.region, member.psn_no),
                     [(BY_NAME, {"region": member.region, "psn_no": member.psn_no})]))
    if beneficiary := ahead.bindings:
        asks.append((("bindings", beneficiary.region, beneficiary.psn_no),
                     [(ACTIVE_BINDINGS, {"region": beneficiary.region, "psn_no": beneficiary.psn_no})]))
    if ahead.settlement:
        asks.append((("settlement",), [(NEXT_NUMBER, {})]))
    if ahead.shares and (beneficiary := ahead.bindings):  # last: it locks the rows it reads
        asks.append((("shares",), [(ACTIVE_SHARES, {"region": beneficiary.region, "psn_no": beneficiary.psn_no})]))
    answers = iter(together(conn, [read for _, reads in asks for read in reads]))
    found: dict[tuple[Any, ...], Any] = {}
    for key, reads in asks:
        rows = [next(answers) for _ in reads][-1]
        if key == ("shares",):  # each balance under its account, as the ledger asks (locked by this transaction)
            found.update((("share", row.account), row.balance) for row in rows)
        else:
            found[key] = rows[0].seq if key == ("settlement",) else rows
    return found
