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


_quoted = json.encoder.encode_basestring  # a JSON string, as json.dumps(ensure_ascii=False) writes it
_second: tuple[int, str] = (-1, "")  # the current second, and its text


def _ts_now() -> str:
    """Now, as ``_ts`` writes it (rounded to the microsecond as datetime does, then cut to the millisecond);
    the date and time of day are made once a second."""
    global _second
    now = time.time()
    second = int(now)
    micro = round((now - second) * 1e6)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    whole, text = _second
    if second != whole:
        text = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (second, text)
    return f"{text}.{micro // 1000:03d}+00:00"


class RpcLine:
    """The one line a method's calls log (logger copay.rpc, message "rpc"): the same JSON the formatter would
    make, its constant part encoded once, written straight to the log's stream under its handler's lock. The
    logging machinery and a general JSON encoder would cost a call more than the line itself (a record, the
    caller's frame, the handler chain, a dict walked). Without ``configure`` (a test running the stack in
    process), the line goes through logging as usual."""

    def __init__(self, method: str) -> None:
        self._method = method
        self._head = f', "level": "info", "logger": "copay.rpc", "msg": "rpc", "method": {_quoted(method)}, '

    def write(self, principal: str | None, code: str, seconds: float, request_id: str | None,
              reason: str | None = None, rule: str | None = None) -> None:
        if not RPC.isEnabledFor(logging.INFO):
            return
        latency_ms = round(seconds * 1000, 3)
        if _handler is None:
            fields: dict[str, object] = {"method": self._method, "principal": principal, "code": code,
                                         "latency_ms": latency_ms, "request_id": request_id}
            if reason is not None:
                fields["reason"] = reason
            if rule:
                fields["rule"] = rule
            RPC.info("rpc", extra={"fields": fields})
            return
        line = (f'{{"ts": "{_ts_now()}"{self._head}"principal": {_quoted(principal) if principal else "null"}, '
                f'"code": "{code}", "latency_ms": {latency_ms!r}, '
                f'"request_id": {_quoted(request_id) if request_id else "null"}')
        if reason is not None:
            line += f', "reason": {_quoted(reason)}'
        if rule:
            line += f', "rule": {_quoted(rule)}'
        with _handler.lock:  # type: ignore[union-attr]
            _handler.stream.write(line + "}\n")
            _handler.stream.flush()
