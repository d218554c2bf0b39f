"""Request-log retention (gateway.service.retention) against real SQLite and PostgreSQL databases:
answers older than the cutoff are forgotten, a batch of BATCH at a time, and nothing newer; the
server's hourly job (gateway.server.prune_requests) and ``copay-gateway prune`` do the same."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select

from gateway.api.runner import ThreadPoolRunner
from gateway.server import prune_requests
from gateway.service import retention
from gateway.service.ports import PriorAnswer
from gateway.store import unit_of_work
from gateway.store.tables import request_log
from gateway.store.sqlite.writer_process import WriterProcess
from tests.conftest import BACKENDS
from tests.e2e.conftest import start_gateway

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
CALLER = "region/320300"
OLD = 2 * retention.BATCH + 5  # three batches: 1000, 1000, 5


def add_answers(engine: Engine, old: int, new: int, old_at: datetime) -> None:
    """Stores answers: ``old-*`` ones backdated to ``old_at``, ``new-*`` ones as of now.

    A few go through the request log's own ``add`` (as a call's answer does); the bulk is one
    executemany. The old ones are then backdated with an UPDATE."""
    now = datetime.now(timezone.utc)
    with unit_of_work.SqlUnitOfWork(engine) as uow:
        for name in ("old-add-1", "old-add-2", "new-add-1"):
            uow.requests.add(CALLER, name, PriorAnswer("fingerprint", b"answer"))
        uow.commit()
    rows = [{"caller": CALLER, "request_id": f"{kind}-{n}", "fingerprint": "fingerprint", "response": b"answer",
             "refused": n % 2 == 0, "created_at": now}
            for kind, count in (("old", old - 2), ("new", new - 1)) for n in range(count)]
    with engine.begin() as conn:
        conn.execute(request_log.insert(), rows)
        conn.execute(request_log.update().where(request_log.c.request_id.like("old-%")).values(created_at=old_at))


def stored(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(request_log.c.request_id)))


def expected_new(new: int) -> set[str]:
    return {"new-add-1", *(f"new-{n}" for n in range(new - 1))}


def test_forget_deletes_exactly_the_answers_older_than_the_cutoff_in_batches(engine):
    now = datetime.now(timezone.utc)
    cutoff = retention.cutoff(30, now)
    add_answers(engine, OLD, 20, old_at=cutoff - timedelta(seconds=1))
    with engine.begin() as conn:  # just inside the window: kept
        conn.execute(request_log.update().where(request_log.c.request_id == "new-0")
                     .values(created_at=cutoff + timedelta(seconds=1)))
    assert len(stored(engine)) == OLD + 20

    uow = unit_of_work.factory(engine)
    assert retention.forget_batch(uow, cutoff, limit=7) == 7  # a batch takes at most its limit
    assert retention.forget(uow, cutoff) == OLD - 7
    assert stored(engine) == expected_new(20)
    assert retention.forget(uow, cutoff) == 0


def test_forget_stops_after_a_full_last_batch(engine):
    cutoff = retention.cutoff(30)
    add_answers(engine, 2 * retention.BATCH, 3, old_at=cutoff - timedelta(days=1))
    assert retention.forget(unit_of_work.factory(engine), cutoff) == 2 * retention.BATCH
    assert stored(engine) == expected_new(3)


def test_the_servers_prune_job_forgets_the_backlog_at_start(engine, database_url, caplog):
    """gateway.server.prune_requests as serve() runs it: through the SQLite writer process, or a thread
    pool on PostgreSQL."""
    add_answers(engine, OLD, 5, old_at=datetime.now(timezone.utc) - timedelta(days=2))
    caplog.set_level(logging.INFO, logger="copay.server")

    async def run() -> None:
        if engine.dialect.name == "sqlite":
            db = WriterProcess(database_url)
            await db.start()
        else:
            db = ThreadPoolRunner(2, unit_of_work.factory(engine))
        job = asyncio.create_task(prune_requests(db, retention_days=1))
        try:
            deadline = time.monotonic() + 30
            while not [r for r in caplog.records if r.getMessage() == "request log pruned"]:
                assert not job.done(), job
                assert time.monotonic() < deadline, "the prune job did not report within 30 s"
                await asyncio.sleep(0.02)
        finally:
            job.cancel()
            await db.shutdown()

    asyncio.run(run())
    pruned = [r for r in caplog.records if r.getMessage() == "request log pruned"]
    assert [r.fields for r in pruned] == [{"requests": OLD, "retention_days": 1}]
    assert stored(engine) == expected_new(5)


def test_serve_prunes_the_backlog_at_start(engine, database_url, pki, tmp_path):
    """The real ``serve`` with COPAY_REQUEST_RETENTION_DAYS=1 starts the prune job: answers two days old
    are forgotten as soon as it serves, the newer ones kept."""
    add_answers(engine, 7, 3, old_at=datetime.now(timezone.utc) - timedelta(days=2))
    engine.dispose()  # nothing of the test's holds the database while the gateway works on it
    gateway = start_gateway(pki, database_url, tmp_path, COPAY_REQUEST_RETENTION_DAYS="1")
    try:
        deadline = time.monotonic() + 30  # well under a second on an idle machine
        while not (pruned := [entry for line in gateway.log().splitlines() if line.startswith("{")
                              and (entry := json.loads(line))["msg"] == "request log pruned"]):
            assert gateway.process.poll() is None, gateway.log()
            assert time.monotonic() < deadline, "serve did not prune within 30 s:\n" + gateway.log()
            time.sleep(0.05)
    finally:
        gateway.stop()
    assert [(e["requests"], e["retention_days"]) for e in pruned] == [(7, 1)]
    assert stored(engine) == expected_new(3)


def prune(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPAY_")}
    return subprocess.run([sys.executable, "-m", "gateway.cli", "prune", "--database-url", database_url, *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_prune_command_forgets_answers_older_than_its_retention_days(engine, database_url):
    add_answers(engine, 30, 4, old_at=datetime.now(timezone.utc) - timedelta(days=1, minutes=5))
    before = datetime.now(timezone.utc) - timedelta(days=1)
    done = prune(database_url, "--retention-days", "1")
    after = datetime.now(timezone.utc) - timedelta(days=1)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    match = re.fullmatch(r"forgot (\d+) request answers given before (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\n", done.stdout)
    assert match, done.stdout
    assert int(match[1]) == 30
    assert f"{before:%Y-%m-%d %H:%M}" <= match[2] <= f"{after:%Y-%m-%d %H:%M}"
    assert stored(engine) == expected_new(4)

    again = prune(database_url, "--retention-days", "1")
    assert again.stdout.startswith("forgot 0 request answers given before "), again.stdout


def test_prune_command_refuses_a_window_under_a_day_and_forgets_nothing(engine, database_url):
    add_answers(engine, 3, 2, old_at=datetime.now(timezone.utc) - timedelta(hours=13))
    done = prune(database_url, "--retention-days", "0.5")
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "COPAY_REQUEST_RETENTION_DAYS" in lines[0], lines
    assert len(stored(engine)) == 5
