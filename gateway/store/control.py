"""What operators set, in SQL: regions, directed pairs, the kill switch, revocations, published policy
versions, change requests, the audit log, and the daily usage the pairs' limits count.

Every gateway process keeps the operators' state in memory (``CACHE``) and reloads it when the
``control`` row's version moves: a unit of work asks for the version at most every REFRESH_SECONDS,
so a settlement costs no extra round trip on average, and a change made by any process is seen by
every other within a second. Every change appends an audit entry and moves the version in the same
transaction, under a lock on the ``control`` row, so changes and the audit chain are serial.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Iterator

from sqlalchemy import Connection, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from gateway.domain import audit
from gateway.domain.bindings import Party
from gateway.domain.changes import ChangeRequest, ChangeState
from gateway.domain.policies import Policy
from gateway.domain.records import (change_from_json, change_to_json, hhmm, json_text, parse_hhmm, policy_from_json,
                                    policy_to_json)
from gateway.domain.rollout import Control, Pair, PairLimits, Region, Revocations, RolloutState
from gateway.store.direct import Direct
from gateway.store.members import utc
from gateway.store.tables import (audit_log, beneficiary_usage, change_requests, control, pair_usage, policy_versions,
                                  province_pairs, regions, revoked_certificates)

REFRESH_SECONDS = 0.25
VERSION = Direct(select(control.c.version).where(control.c.id == 1))


def load(conn: Connection) -> Control:
    """The whole of what operators set, as of this transaction."""
    row = conn.execute(select(control).where(control.c.id == 1)).one()
    found_regions = {r.admdvs: Region(r.admdvs, r.display_name, RolloutState(r.state))
                     for r in conn.execute(select(regions))}
    pairs = {(p.grantor_province, p.other_province): _pair(p) for p in conn.execute(select(province_pairs))}
    revoked = conn.execute(select(revoked_certificates.c.serial, revoked_certificates.c.fingerprint)).all()
    policies: dict[str, list[Policy]] = {}
    for p in conn.execute(select(policy_versions).order_by(policy_versions.c.province, policy_versions.c.effective_at,
                                                           policy_versions.c.version)):
        policies.setdefault(p.province, []).append(policy_from_json(p.document, p.version, utc(p.effective_at)))
    return Control(row.version, row.kill_switch, found_regions, pairs,
                   Revocations(frozenset(r.serial for r in revoked if r.serial),
                               frozenset(r.fingerprint for r in revoked if r.fingerprint)),
                   {province: tuple(versions) for province, versions in policies.items()})


class ControlCache:
    """One per process; shared by its threads and the event loop's units of work (PostgreSQL) or its writer's
    batches (SQLite). No lock is held while the database is read: a unit of work on the event loop waits for
    the database by giving the loop back, and another one asking meanwhile must not block the loop's thread.

    On the event loop, one unit of work loads a new version and the others that find the same version wait for
    its state (a whole state is tens of milliseconds of the loop's time with many revoked certificates: after
    each change every call in flight would load it again); if that load fails or is cut, each loads its own."""

    def __init__(self) -> None:
        self._control: Control | None = None
        self._checked = float("-inf")
        self._forgotten = 0  # changes this process committed: a state read before one is not kept
        self._started = float("-inf")  # when the kept state's read began
        self._lock = threading.Lock()  # held only to compare and set, never across a read
        self._loading: dict[tuple[int, int], asyncio.Future[Control | None]] = {}  # on the loop: (version, forgotten)

    def current(self, conn: Connection, fresh: bool = False) -> Control:
        control = self._control
        if not fresh and control is not None and time.monotonic() - self._checked < REFRESH_SECONDS:
            return control
        forgotten, started = self._forgotten, time.monotonic()
        version = VERSION.first(conn, {}).version
        if control is None or control.version != version:
            control = self._load(conn, (version, forgotten))
        with self._lock:  # kept unless this process committed a change meanwhile
            if self._forgotten == forgotten and started > self._started:
                # Of readers that overlapped, the one that began last is kept, and its age counts from when it
                # began. A lower version is a state too (a database restored from a backup): any version but
                # the kept one is loaded.
                self._control, self._checked, self._started = control, started, started
        return control

    def _load(self, conn: Connection, key: tuple[int, int]) -> Control:
        """Loads the state, or on the event loop takes the one another unit of work is loading for the same
        version since the same change of this process's (a state of that version or later)."""
        if not in_greenlet():  # a thread (SQLite's writer, the readers, the console, tests)
            return load(conn)
        loading = self._loading.get(key)
        if loading is not None:
            loaded = await_only(asyncio.shield(loading))
            return loaded if loaded is not None else load(conn)
        self._loading[key] = loading = asyncio.get_running_loop().create_future()
        loaded = None
        try:
            loaded = load(conn)
            return loaded
        finally:
            del self._loading[key]
            loading.set_result(loaded)

    def forget(self) -> None:
        """After this process committed a change: the next unit of work reloads, and a reload that read the
        state before the commit is not kept after it."""
        with self._lock:
            self._forgotten += 1
            self._checked = float("-inf")


CACHE = ControlCache()


class SqlControl:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.changed = False  # the unit of work forgets the cache when it commits a change

    def current(self, fresh: bool = False) -> Control:
        return CACHE.current(self._conn, fresh)

    # --- changes: each under the control row's lock, each with its audit entry ---------------------------

    def lock(self) -> Control:
        """Locks the control row until commit (PostgreSQL; SQLite writes one at a time) and reads afresh."""
        self._conn.execute(select(control.c.id).where(control.c.id == 1).with_for_update())
        return load(self._conn)

    def append_audit(self, at: datetime, actor: str, action: str, target: str, reason: str, before: Any,
                     after: Any) -> audit.Entry:
        head = self._conn.execute(select(control.c.audit_seq, control.c.audit_hash).where(control.c.id == 1)).one()
        entry = audit.append((head.audit_seq, head.audit_hash), at, actor, action, target, reason, before, after)
        self._conn.execute(audit_log.insert().values(
            seq=entry.seq, at=entry.at, actor=actor, action=action, target=target, reason=reason,
            before=json_text(before), after=json_text(after), prev_hash=entry.prev_hash, hash=entry.hash))
        self._conn.execute(control.update().where(control.c.id == 1).values(
            version=control.c.version + 1, audit_seq=entry.seq, audit_hash=entry.hash))
        self.changed = True
        return entry

    def put_region(self, region: Region, at: datetime, by: str) -> None:
        values = {"display_name": region.name, "state": region.state.value, "updated_at": at, "updated_by": by}
        if self._conn.execute(regions.update().where(regions.c.admdvs == region.admdvs).values(values)).rowcount == 0:
            self._conn.execute(regions.insert().values(admdvs=region.admdvs, **values))

    def put_pair(self, pair: Pair, at: datetime, by: str) -> None:
        limits = pair.limits
        values = {"open": pair.open, "opens_at": pair.opens_at, "closes_at": pair.closes_at,
                  "per_beneficiary_daily": limits.per_beneficiary_daily,
                  "per_settlement_fen": limits.per_settlement_fen, "daily_fen": limits.daily_fen,
                  "quiet_from": hhmm(limits.quiet_from), "quiet_until": hhmm(limits.quiet_until),
                  "updated_at": at, "updated_by": by}
        where = and_(province_pairs.c.grantor_province == pair.grantor_province,
                     province_pairs.c.other_province == pair.other_province)
        if self._conn.execute(province_pairs.update().where(where).values(values)).rowcount == 0:
            self._conn.execute(province_pairs.insert().values(grantor_province=pair.grantor_province,
                                                              other_province=pair.other_province, **values))

    def set_kill_switch(self, pulled: bool, at: datetime, by: str) -> None:
        self._conn.execute(control.update().where(control.c.id == 1).values(
            kill_switch=pulled, kill_switch_at=at, kill_switch_by=by))

    def kill_switch(self) -> tuple[bool, datetime | None, str | None]:
        row = self._conn.execute(select(control).where(control.c.id == 1)).one()
        return row.kill_switch, row.kill_switch_at and utc(row.kill_switch_at), row.kill_switch_by

    def add_policy(self, policy: Policy, at: datetime, by: str) -> Policy:
        """Stores a published version, numbered after every stored version of the province and after
        ``policy.version`` (the shipped version's number)."""
        assert policy.effective_at is not None
        stored = self._conn.execute(select(policy_versions.c.version).where(
            policy_versions.c.province == policy.province)).scalars().all()
        numbered = replace(policy, version=max([policy.version, *stored]) + 1)
        self._conn.execute(policy_versions.insert().values(
            province=policy.province, version=numbered.version, effective_at=policy.effective_at,
            document=policy_to_json(numbered), published_by=by, published_at=at))
        return numbered

    def revoke(self, serial: str | None, fingerprint: str | None, principal: str | None, reason: str, by: str,
               at: datetime) -> int:
        return self._conn.execute(revoked_certificates.insert().values(
            serial=serial, fingerprint=fingerprint, principal=principal, reason=reason, revoked_by=by,
            revoked_at=at)).inserted_primary_key[0]

    # --- reads for operators -------------------------------------------------------------------------

    def region_rows(self) -> list[Any]:
        return self._conn.execute(select(regions).order_by(regions.c.admdvs)).all()

    def pair_rows(self) -> list[Any]:
        return self._conn.execute(select(province_pairs).order_by(province_pairs.c.grantor_province,
                                                                  province_pairs.c.other_province)).all()

    def revocation_rows(self) -> list[Any]:
        return self._conn.execute(select(revoked_certificates).order_by(revoked_certificates.c.seq)).all()

    def audit_head(self) -> tuple[int, str]:
        row = self._conn.execute(select(control.c.audit_seq, control.c.audit_hash).where(control.c.id == 1)).one()
        return row.audit_seq, row.audit_hash

    def audit_page(self, actor: str, action: str, target: str, start: datetime | None, end: datetime | None,
                   after: int | None, limit: int) -> list[audit.Entry]:
        query = select(audit_log)
        for column, value in ((audit_log.c.actor, actor), (audit_log.c.action, action), (audit_log.c.target, target)):
            if value:
                query = query.where(column == value)
        if start is not None:
            query = query.where(audit_log.c.at >= start)
        if end is not None:
            query = query.where(audit_log.c.at < end)
        if after is not None:
            query = query.where(audit_log.c.seq > after)
        return [_entry(r) for r in self._conn.execute(query.order_by(audit_log.c.seq).limit(limit))]

    def audit_entries(self) -> Iterator[audit.Entry]:
        """Every entry in sequence order, streamed (the log may be long)."""
        result = self._conn.execution_options(stream_results=True, yield_per=1000).execute(
            select(audit_log).order_by(audit_log.c.seq))
        for row in result:
            yield _entry(row)

    # --- change requests -----------------------------------------------------------------------------

    def add_request(self, request: ChangeRequest) -> None:
        self._conn.execute(change_requests.insert().values(id=request.id, kind=type(request.change).__name__,
                                                           change=change_to_json(request.change),
                                                           **_decision(request)))

    def save_request(self, request: ChangeRequest) -> None:
        self._conn.execute(change_requests.update().where(change_requests.c.id == request.id).values(
            **_decision(request)))

    def get_request(self, request_id: str, lock: bool = False) -> ChangeRequest | None:
        query = select(change_requests).where(change_requests.c.id == request_id)
        row = self._conn.execute(query.with_for_update() if lock else query).first()
        return _request(row) if row else None

    def page_requests(self, state: ChangeState | None, after: int | None, limit: int) -> list[tuple[int, ChangeRequest]]:
        query = select(change_requests)
        if state is not None:
            query = query.where(change_requests.c.state == state.value)
        if after is not None:
            query = query.where(change_requests.c.seq > after)
        return [(r.seq, _request(r)) for r in self._conn.execute(query.order_by(change_requests.c.seq).limit(limit))]

    # --- usage that the pairs' daily limits count ----------------------------------------------------

    def count_settlement(self, day: date, pair: Pair, beneficiary: Party, fen: int) -> str | None:
        """Counts one settlement crossing ``pair`` for ``beneficiary``; returns the daily limit it would pass
        (and counts nothing), or None. Conditional updates on rows locked until commit: racing settlements
        cannot pass a limit between them."""
        key = {"day": day, "grantor_province": pair.grantor_province, "other_province": pair.other_province}
        mine = {**key, "beneficiary_region": beneficiary.region, "beneficiary_psn_no": beneficiary.psn_no}
        self._insert_missing(beneficiary_usage, {**mine, "settlements": 0})
        self._insert_missing(pair_usage, {**key, "settlements": 0, "fen": 0})
        ceiling = pair.limits.per_beneficiary_daily
        counted = self._conn.execute(beneficiary_usage.update().where(
            *(beneficiary_usage.c[k] == v for k, v in mine.items()),
            *([beneficiary_usage.c.settlements < ceiling] if ceiling is not None else [])).values(
            settlements=beneficiary_usage.c.settlements + 1)).rowcount
        if counted != 1:
            return "per_beneficiary_daily"
        cap = pair.limits.daily_fen
        counted = self._conn.execute(pair_usage.update().where(
            *(pair_usage.c[k] == v for k, v in key.items()),
            *([pair_usage.c.fen + fen <= cap] if cap is not None else [])).values(
            settlements=pair_usage.c.settlements + 1, fen=pair_usage.c.fen + fen)).rowcount
        return None if counted == 1 else "daily_fen"

    def _insert_missing(self, table: Any, values: dict[str, Any]) -> None:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        self._conn.execute(dialect.insert(table).values(values).on_conflict_do_nothing())


# --- codecs ---------------------------------------------------------------------------------------------


def _pair(row: Any) -> Pair:
    limits = PairLimits(row.per_beneficiary_daily, row.per_settlement_fen, row.daily_fen, parse_hhmm(row.quiet_from),
                        parse_hhmm(row.quiet_until))
    return Pair(row.grantor_province, row.other_province, row.open, row.opens_at and utc(row.opens_at),
                row.closes_at and utc(row.closes_at), limits)


def _entry(row: Any) -> audit.Entry:
    return audit.Entry(row.seq, utc(row.at), row.actor, row.action, row.target, row.reason, json.loads(row.before),
                       json.loads(row.after), row.prev_hash, row.hash)


def _decision(request: ChangeRequest) -> dict[str, Any]:
    return {"state": request.state.value, "reason": request.reason, "requested_by": request.requested_by,
            "created_at": request.created_at, "decided_by": request.decided_by, "decided_at": request.decided_at,
            "decision_reason": request.decision_reason}


def _request(row: Any) -> ChangeRequest:
    return ChangeRequest(row.id, change_from_json(row.kind, row.change), ChangeState(row.state), row.reason,
                         row.requested_by, utc(row.created_at), row.decided_by,
                         row.decided_at and utc(row.decided_at), row.decision_reason)
