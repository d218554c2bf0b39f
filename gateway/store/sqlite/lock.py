"""One gateway process per SQLite file."""

from __future__ import annotations

import fcntl
from pathlib import Path

from sqlalchemy.engine import make_url


class SqliteFileLock:
    """Held by the one gateway that serves a SQLite file: a second one refuses to start.

    An advisory lock (``flock``) on ``{database}.lock``: the kernel releases it when the holder
    exits, however it exits, so a killed gateway never leaves a stale lock behind."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        self.path = Path(f"{database}.lock") if database and database != ":memory:" else None
        self._file = None

    def acquire(self) -> bool:
        if self.path is None:
            return True
        self._file = self.path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            return False
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
