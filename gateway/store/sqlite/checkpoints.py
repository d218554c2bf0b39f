"""WAL checkpoints for the SQLite writer, mostly off its path.

A commit appends the pages it changed to the write-ahead log; a checkpoint
copies them into the database file and syncs it, and only a checkpoint that
leaves nothing behind lets the log start again from its beginning. SQLite's
own checkpoints run inside the commit that crosses 1,000 pages, so every few
dozen batches one commit also waited for a sync of megabytes: measured here,
a commit's p99 went from 0.2 ms to 25 ms, its maximum past 100 ms, with every
caller of the gateway waiting behind it.

Here the writer's connection never checkpoints in a commit. A thread of the
writer process, with a connection of its own, runs PASSIVE checkpoints every
few milliseconds; they copy and sync while the writer goes on writing. Pages
committed during such a pass stay behind, so the log would grow for as long
as the load lasts; once it is past ``RESTART_PAGES``, the writer, between two
batches (after answering the first), copies what the last pass left itself.
That is a short pause instead of a long one, and the next transaction starts
the log afresh. Both checkpoints are PASSIVE: neither waits for a reader.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger("copay.writer")
PASS_INTERVAL = 0.05  # seconds between two background passes
RESTART_PAGES = 4000  # log pages (4 KiB each) past which the writer helps the log restart


class Checkpointer:
    def __init__(self, engine: Engine, interval: float = PASS_INTERVAL, restart_pages: int = RESTART_PAGES) -> None:
        self._connection = engine.raw_connection()
        self._interval = interval
        self._restart_pages = restart_pages
        self._lock = threading.Lock()  # held during a pass: two checkpoints never run at once
        self._stop = threading.Event()
        self._log_pages = 0  # pages in the log at the end of the last pass
        self._due_at = restart_pages  # log pages past which the writer catches up
        self.passes = self.catch_ups = 0
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cursor = self._connection.cursor()
        while not self._stop.wait(self._interval):
            try:
                with self._lock:
                    _busy, self._log_pages, _copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.passes += 1
            except Exception:  # noqa: BLE001 - a failed pass is retried; the writer's commits do not depend on it
                log.exception("background checkpoint failed")

    def catch_up(self, writer: Any) -> None:
        """On the writer's connection, outside a transaction: if the log is long and no pass is
        running, copy what the last pass left, so that the next transaction restarts the log."""
        if self._log_pages > self._due_at and self._lock.acquire(blocking=False):
            try:
                _busy, pages, copied = writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                # A reader on an old snapshot keeps the log from restarting: wait for more pages
                # before trying again, rather than pausing after every batch.
                self._due_at = self._restart_pages if copied == pages else pages + self._restart_pages
                self._log_pages = 0
                self.catch_ups += 1
            finally:
                self._lock.release()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._connection.close()
