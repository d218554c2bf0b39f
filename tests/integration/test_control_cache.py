"""The operators' state cache (gateway.store.control.ControlCache) holds no lock while it reads, so two
readers can overlap (units of work on the event loop do): a state read before this process committed a change
is not kept after it; any version other than the kept one is loaded, a lower one too."""

from __future__ import annotations

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


def test_a_state_read_while_this_process_commits_a_change_is_not_kept(conn, monkeypatch) -> None:
    cache = ControlCache()
    loads = counting_loads(monkeypatch, during=cache.forget)  # the change commits while the state is read
    first = cache.current(conn)
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
