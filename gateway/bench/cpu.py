"""CPU time, read from Linux's /proc (0 elsewhere): of a process, of this one (the client), and of a
PostgreSQL server running on this machine, which shares its cores with the gateways and the client and
so bounds what they can do together."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


def process_seconds(pid: int | str, reaped: bool = False) -> float:
    """User + system CPU of a process (all its threads); with ``reaped``, also of the children it has
    waited for."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    t = os.times()
    return t.user + t.system


def children(pid: int | str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


class DatabaseServer:
    """A PostgreSQL server on this machine: its postmaster, every process it started (backends, WAL writer,
    checkpointer, autovacuum) and those it has reaped. Every database of that server counts."""

    def __init__(self, postmaster: str) -> None:
        self.postmaster = postmaster

    @classmethod
    def of(cls, engine: Engine) -> DatabaseServer | None:
        """The server behind ``engine`` if it runs here (a local address or socket, and the parent of this
        connection's backend is a ``postgres`` process visible here); None for SQLite or a remote server."""
        host: Any = engine.url.host or engine.url.query.get("host")
        if engine.dialect.name != "postgresql" or not (host in LOCAL_HOSTS or str(host).startswith("/")):
            return None
        with engine.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        fields = _stat(backend)
        if fields is None or _command(backend) != "postgres":
            return None
        postmaster = fields[1]
        return cls(postmaster) if _command(postmaster) == "postgres" else None

    def cpu_seconds(self) -> float:
        return process_seconds(self.postmaster, reaped=True) + sum(
            process_seconds(child) for child in children(self.postmaster))


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command's name: state, ppid, ... (utime is [11])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _command(pid: int | str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
