"""The metrics listener (COPAY_METRICS_LISTEN): ``/metrics``, ``/healthz``, ``/readyz``; any other path 404.

* ``/metrics``: the gateway's registry (Prometheus text, or OpenMetrics if asked; gzip if accepted).
* ``/healthz``: liveness, ``200 ok`` while the process serves.
* ``/readyz``: readiness, ``200 ok`` only if the database answers, its migrations are at this gateway's
  head, the SQLite writer process is alive and the gateway is not shutting down; else ``503`` and one
  line per failed check (``database: ...``, ``migrations: ...``, ``writer: ...``, ``shutdown: ...``).

The HTTP server runs in a thread of its own and never waits on the event loop. The checks that ask
the database run on the event loop (``Readiness.run``, every READY_EVERY_SECONDS, through the same
runner as calls: the SQLite writer or the PostgreSQL thread pool), one at a time, and leave their
outcome as an immutable snapshot that the HTTP thread reads. A check with no answer after
CHECK_TIMEOUT_SECONDS fails (it is not started again while it hangs); a snapshot older than
STALE_SECONDS fails too (the event loop is not getting round to it). The cheap checks (the writer
process, shutting down) read a flag at each request.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import MetricsHandler

from gateway.api.runner import Runner
from gateway.store.migrate import alembic_config

log = logging.getLogger("copay.probes")
READY_EVERY_SECONDS = 1.0
CHECK_TIMEOUT_SECONDS = 5.0
STALE_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 10.0  # a client that sends nothing for this long is dropped

Check = Callable[[], "str | None"]
"""A cheap check, safe from any thread: None if fine, else why not (a few words)."""


def head_revisions() -> tuple[str, ...]:
    """Where the migrations shipped with this gateway end (one revision, unless they branch)."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_revisions(uow_factory) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """Database work (``await db(database_revisions)``, in the SQLite writer or a PostgreSQL pool thread): a
    round trip to the database, and the revisions its migrations are at. Reads only."""
    with uow_factory(readonly=True) as uow:
        return tuple(MigrationContext.configure(uow._conn).get_current_heads())


class Readiness:
    def __init__(self, db: Runner, instant: dict[str, Check] | None = None) -> None:
        self._db = db
        self._head = head_revisions()
        self._instant = instant or {}
        self._snapshot: tuple[float, tuple[str, ...]] | None = None  # (when, failures), replaced whole
        self._pending: asyncio.Future[tuple[str, ...]] | None = None
        self._pending_since = 0.0

    async def check(self) -> None:
        """Asks the database (on the event loop); keeps what it found for the HTTP thread."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._db(database_revisions))
            self._pending_since = time.monotonic()
        failures: list[str] = []
        done, _ = await asyncio.wait({self._pending}, timeout=CHECK_TIMEOUT_SECONDS)
        if not done:
            failures.append(f"database: no answer for {time.monotonic() - self._pending_since:.0f} s")
        else:
            pending, self._pending = self._pending, None
            try:
                revisions = pending.result()
            except Exception as error:  # noqa: BLE001 - whatever stops the query, the database is not usable
                failures.append(f"database: unreachable ({_short(error)})")
            else:
                if set(revisions) != set(self._head):
                    failures.append(f"migrations: the database is at {', '.join(sorted(revisions)) or 'no revision'}"
                                    f", this gateway's head is {', '.join(sorted(self._head))}")
        before = self._snapshot[1] if self._snapshot else ()
        self._snapshot = (time.monotonic(), tuple(failures))
        if failures and tuple(failures) != before:
            log.warning("not ready", extra={"fields": {"failures": failures}})
        elif before and not failures:
            log.info("ready again")

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(READY_EVERY_SECONDS)
                try:
                    await self.check()
                except Exception:  # noqa: BLE001 - the next round tries again; a stale snapshot fails /readyz
                    log.exception("the readiness check failed")
        finally:
            if self._pending is not None:
                self._pending.cancel()

    def failures(self) -> list[str]:
        """Why the gateway is not ready; empty if it is. Safe from any thread."""
        failures = [f"{name}: {why}" for name, check in self._instant.items() if (why := check()) is not None]
        snapshot = self._snapshot
        if snapshot is None:
            return [*failures, "database: not checked yet"]
        at, found = snapshot
        if (age := time.monotonic() - at) > STALE_SECONDS:
            failures.append(f"checks: last ran {age:.0f} s ago (is the event loop blocked?)")
        return [*failures, *found]


class ProbeServer:
    """The HTTP listener, in a daemon thread."""

    def __init__(self, registry: CollectorRegistry, failures: Callable[[], list[str]], host: str, port: int) -> None:
        handler = type("Handler", (_Handler,), {"registry": registry, "failures": staticmethod(failures)})
        host = host.strip("[]")
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
        self._httpd = server_class((host, port), handler)  # OSError if the address is taken
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="probes", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Handler(MetricsHandler):
    failures: Callable[[], list[str]]
    timeout = REQUEST_TIMEOUT_SECONDS

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            super().do_GET()
        elif path == "/healthz":
            self._text(200, "ok\n")
        elif path == "/readyz":
            try:
                failures = self.failures()
            except Exception as error:  # noqa: BLE001 - a probe that cannot tell is not ready
                failures = [f"readiness: {_short(error)}"]
            self._text(503, "".join(f"{why}\n" for why in failures)) if failures else self._text(200, "ok\n")
        else:
            self._text(404, "not found: /metrics, /healthz or /readyz\n")

    def _text(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Logs nothing: scrapes and probes every few seconds would drown the call log."""


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first[:160]}" if first else type(error).__name__
