"""The operators' state cache (gateway.store.control.ControlCache) holds no lock while it reads, so two
readers can overlap (units of work on the event loop do): a state read before this process committed a change
is not kept after it; any version other than the kept one is loaded, a lower one too."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from gateway.store import control
from gateway.store.control import ControlCache
from gateway.store.db import make_engine


@pytest.fixture
def conn(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def counting_loads(monkeypatch: pytest.MonkeyPatch, during: Any = None) -> list[int]:
    loads: list[int] = []
    real = control.load

    def load(conn):  # type: ignore[no-untyped-def]
        loads.append(1)
        found = real(conn)
        if during is not None:
            during()
        return found

    monkeypatch.setattr(control, "load", load)
    return loads


def in_a_thread(work: Any, what: str) -> None:
    """Runs ``work`` in a thread of its own, as another unit of work would, and waits at most 20 s for it: a
    cache that held its lock while it read would stop it, and the test fails instead of hanging."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), f"{what} waited for a read to end: the cache holds a lock while it reads"


def test_a_state_read_while_this_process_commits_a_change_is_not_kept(conn, monkeypatch) -> None:
    cache = ControlCache()
    loads = counting_loads(monkeypatch, during=lambda: in_a_thread(cache.forget, "the change's commit"))
    first = cache.current(conn)  # the change commits while the state is read
    assert cache.current(conn) == first and len(loads) == 2  # read again: the first reading was not kept


def test_a_state_is_kept_for_a_while_and_any_other_version_is_loaded_lower_ones_too(conn, monkeypatch) -> None:
    """A database restored from a backup goes back to a lower version: that state is the one to use."""
    cache = ControlCache()
    loads = counting_loads(monkeypatch)
    first = cache.current(conn)
    assert cache.current(conn) is first and len(loads) == 1  # kept: no second read within the refresh time
    conn.execute(text("UPDATE control SET version = version + 1"))
    assert cache.current(conn, fresh=True).version == first.version + 1 and len(loads) == 2
    conn.execute(text("UPDATE control SET version = version - 1, kill_switch = :on"), {"on": True})
    restored = cache.current(conn, fresh=True)
    assert (restored.version, restored.kill_switch) == (first.version, True) and len(loads) == 3
    assert cache.current(conn) is restored


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one writer, which conn is
def test_of_two_overlapping_readings_the_one_that_began_last_is_kept(database_url, conn, monkeypatch) -> None:
    """Reader A reads the state; while it does, another process commits a change and reader B reads and keeps
    the newer state; A's older reading, stored last, must not replace it."""
    cache = ControlCache()
    other = make_engine(database_url)
    newer: list[Any] = []
    started: list[int] = []

    def read_b() -> None:
        with other.connect() as b:
            newer.append(cache.current(b, fresh=True))

    def meanwhile() -> None:
        if not started:  # in A's read only (B's read calls it too)
            started.append(1)
            with other.begin() as change:
                change.execute(text("UPDATE control SET version = version + 1"))
            in_a_thread(read_b, "B")

    loads = counting_loads(monkeypatch, during=meanwhile)
    try:
        older = cache.current(conn)  # A: answers its own caller with what it read
        assert newer and newer[0].version == older.version + 1
        assert cache.current(conn) is newer[0] and len(loads) == 2  # kept: B's, with no third read
    finally:
        other.dispose()
