"""CPU time, read from Linux's /proc (0 elsewhere): of a process, of this one (the client), and of a
PostgreSQL server running on this machine, which shares its cores with the gateways and the client and
so bounds what they can do together."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_seconds(pid: int | str) -> float:
    """User + system CPU of a process (all its threads)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0


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
        """The server behind ``engine`` if it runs here, else None (SQLite, another machine, a container of
        its own): the parent of this connection's backend must be a process here that started when the server
        says it started (a process id of another machine or namespace is not enough)."""
        if engine.dialect.name != "postgresql":
            return None
        with engine.connect() as conn:
            backend, started = conn.execute(text(
                "SELECT pg_backend_pid(), extract(epoch FROM pg_postmaster_start_time())")).one()
        fields = _stat(backend)
        if fields is None:
            return None
        postmaster = fields[1]
        return cls(postmaster) if abs(_started(postmaster) - float(started)) < 2 else None

    def cpu_seconds(self) -> float:
        """The postmaster's CPU, its reaped children's and its live children's. A child reaped between the
        reads would be in neither total: the reaped total is read again, and all of it again if it moved."""
        for _ in range(10):
            reaped = self._reaped()
            live = sum(process_seconds(child) for child in children(self.postmaster))
            if self._reaped() == reaped:
                break
        return process_seconds(self.postmaster) + reaped + live

    def _reaped(self) -> float:
        fields = _stat(self.postmaster)
        return (int(fields[13]) + int(fields[14])) / TICKS if fields else 0.0


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command's name: state, ppid, ... (utime is [11])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _started(pid: int | str) -> float:
    """When a process started, in seconds since the epoch (0 if unknown)."""
    fields = _stat(pid)
    try:
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration):
        return 0.0
    return boot + int(fields[19]) / TICKS if fields else 0.0
