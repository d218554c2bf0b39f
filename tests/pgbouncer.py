"""PgBouncer (Debian's package ``pgbouncer``) in transaction pooling in front of the test PostgreSQL server,
started and stopped by the tests themselves: the session's shared one (``pgbouncer`` in tests/conftest.py),
or one of a test's own that it may kill and start again on the same address, as a failover behind a stable
address looks to the gateways."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url


def binary() -> str:
    """The pgbouncer program; the test is skipped without it, except under CI=true, where it fails."""
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
    if found is None:
        message = "pgbouncer is not installed (Debian's package pgbouncer)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the PgBouncer tests must run)")
        pytest.skip(message)
    return found


class PgBouncer:
    """Two server connections per database, so that every client's transactions share them. ``url`` gives a
    database URL's address through it, with psycopg's prepared statements off (Debian 12's PgBouncer, 1.18,
    does not keep them; README, Running N gateways against one PostgreSQL)."""

    def __init__(self, postgres_server: str, folder: Path) -> None:
        server = make_url(postgres_server)
        with socket.socket() as probe:  # a free port (another program could take it before pgbouncer does:
            probe.bind(("127.0.0.1", 0))  # then pgbouncer fails to start, and says why)
            self.port = probe.getsockname()[1]
        login = f"user={server.username or 'postgres'}" + (f" password={server.password}" if server.password else "")
        self._config = folder / "pgbouncer.ini"
        self._config.write_text(
            f"[databases]\n* = host={server.host or '127.0.0.1'} port={server.port or 5432} {login}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            "auth_type = any\npool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 500\n"
            "admin_users = postgres\nstats_period = 1\n")
        self._log = folder / "pgbouncer.log"
        self._binary = binary()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts it and waits until its admin console answers (so not another program on that port)."""
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []  # it will not run as root
        with self._log.open("ab") as out:
            self._process = process = subprocess.Popen([self._binary, *as_user, str(self._config)], stdout=out,
                                                       stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                with self._console() as conn:
                    assert conn.pgconn.exec_(b"SHOW VERSION").ntuples == 1
                if process.poll() is None:
                    return
            except psycopg.Error:  # not listening yet
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"pgbouncer did not start:\n{self._log.read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Gone at once, as a crash or a failover: every connection through it is cut."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def url(self, database_url: str) -> str:
        return make_url(database_url).set(host="127.0.0.1", port=self.port).update_query_dict(
            {"prepare_threshold": "none"}).render_as_string(hide_password=False)

    def transactions(self, database: str) -> int:
        """The transactions it has pooled for a database (its admin console's SHOW STATS, which speaks only
        the simple query protocol)."""
        with self._console() as conn:
            stats = conn.pgconn.exec_(b"SHOW STATS")
            columns = [stats.fname(i) for i in range(stats.nfields)]
            rows = [dict(zip(columns, (stats.get_value(t, i) for i in range(stats.nfields))))
                    for t in range(stats.ntuples)]
        return sum(int(row[b"total_xact_count"]) for row in rows if row[b"database"] == database.encode())

    def _console(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="pgbouncer",
                               autocommit=True, connect_timeout=5)
