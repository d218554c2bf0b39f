"""JSON logs, one object per line, on stderr.

Call sites pass structured fields as ``extra={"fields": {...}}``. Nothing in
the gateway logs request content, so no ID number or name can reach a log.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _ts(record.created), "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _ts(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")


_handler: logging.StreamHandler | None = None  # type: ignore[type-arg]
RPC = logging.getLogger("copay.rpc")


def configure(level: str = "INFO") -> None:
    global _handler
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [_handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)


def rpc_line(fields: dict[str, object]) -> None:
    """The one line a call logs (logger copay.rpc, message "rpc"): the same JSON the formatter makes, written
    straight to the log's stream under its handler's lock. The logging machinery would cost a call more than
    this line itself (a record, the caller's frame, the handler chain). Without ``configure`` (a test running
    the stack in process), the line goes through logging as usual."""
    if not RPC.isEnabledFor(logging.INFO):
        return
    if _handler is None:
        RPC.info("rpc", extra={"fields": fields})
        return
    line = json.dumps({"ts": _ts(time.time()), "level": "info", "logger": "copay.rpc", "msg": "rpc", **fields},
                      ensure_ascii=False)
    with _handler.lock:  # type: ignore[union-attr]
        _handler.stream.write(line + "\n")
        _handler.stream.flush()
