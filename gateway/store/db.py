"""Engines: each engine's own settings are in gateway.store.sqlite.engine and gateway.store.postgres.engine."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from gateway.store.postgres import engine as postgres
from gateway.store.sqlite import engine as sqlite


def make_engine(url: str, pool_size: int = 8, synchronous: str = "FULL", query_only: bool = False) -> Engine:
    """``synchronous`` (SQLite): FULL syncs the write-ahead log at each commit, so an acknowledged commit
    survives a power cut; NORMAL does not (see Settings.sqlite_synchronous). ``query_only`` (SQLite): the
    connections refuse to write (the server's readers beside the writer process). A PostgreSQL URL whose
    ``prepare_threshold`` is neither a whole number nor ``none`` raises ValueError."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite.make(parsed, pool_size, synchronous, query_only)
    return postgres.make(parsed, pool_size)


def make_loop_engine(url: str, pool_size: int = 8) -> Engine:
    """PostgreSQL: an engine for units of work run on the event loop (gateway.store.postgres.loop)."""
    return postgres.make_on_loop(make_url(url), pool_size)
