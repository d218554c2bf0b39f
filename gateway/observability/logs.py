"""JSON logs, one object per line, on stderr.

Call sites pass structured fields as ``extra={"fields": {...}}``. Nothing in
the gateway logs request content, so no ID number or name can reach a log.
"""

from __future__ import annotations

import asyncio
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


def configure(level: str = "INFO", ok_lines_per_second: int = 0) -> None:
    """``ok_lines_per_second``: the calls' lines of successful calls written in a second of the clock, at most,
    the others counted (``Sampling``); 0: every line."""
    global _handler, _sampling
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(JsonFormatter())
    _sampling = Sampling(ok_lines_per_second) if ok_lines_per_second else None
    root = logging.getLogger()
    root.handlers[:] = [_handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)


class Sampling:
    """Under load, the lines of successful calls beyond ``per_second`` in one second of the clock are not
    written: each such call is counted for its method, and the second is summed up in one line a method
    (message "rpc lines not written": ``method``, ``code`` OK, ``calls``, ``second``) once it is over, by the
    next call's line or a timer on the event loop. A refusal or an error is always written, and every call is
    counted in the metrics as before. Written, a line costs its call about 16 µs of CPU, a quarter of the call
    stack (README, Benchmark); what the lines of a flood of successes would tell, the summary and the metrics
    tell."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._second = -1
        self._written = 0
        self._skipped: dict[str, int] = {}

    def admits(self, method: str, now: float) -> bool:
        """Whether a successful call's line is written now; counts it if not."""
        if int(now) != self._second:
            self.roll(now)
        if self._written < self.per_second:
            self._written += 1
            return True
        if not self._skipped:
            self._arm(now)
        self._skipped[method] = self._skipped.get(method, 0) + 1
        return False

    def roll(self, now: float) -> None:
        """If the second of ``now`` is another one: sums up the one before, and counts afresh."""
        second = int(now)
        if second != self._second:
            self.sum_up()
            self._second, self._written = second, 0

    def sum_up(self) -> None:
        """Writes the lines that sum up what was not written (at a clean stop, the current second's too)."""
        if self._skipped:
            ts = datetime.fromtimestamp(self._second, timezone.utc).isoformat()
            for method, calls in sorted(self._skipped.items()):
                RPC.info("rpc lines not written", extra={"fields": {
                    "method": method, "code": "OK", "calls": calls, "second": ts, "per_second": self.per_second}})
            self._skipped = {}

    def _arm(self, now: float) -> None:
        """A timer for just after the current second, on the running event loop (without one, the next line
        sums the second up)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(self._second + 1 - now + 0.001, self._tick)

    def _tick(self) -> None:
        now = time.time()
        self.roll(now)
        if self._skipped:  # the clock was set back: the second is not over yet
            self._arm(now)


def sum_up() -> None:
    """At a clean stop: sums up the lines of the current second not written."""
    if _sampling is not None:
        _sampling.sum_up()


_handler: logging.StreamHandler | None = None  # type: ignore[type-arg]
_sampling: Sampling | None = None
RPC = logging.getLogger("copay.rpc")


_quoted = json.encoder.encode_basestring  # a JSON string, as json.dumps(ensure_ascii=False) writes it
_second: tuple[int, str] = (-1, "")  # the current second, and its text


def _ts_now(now: float | None = None) -> str:
    """Now (or ``now``), as ``_ts`` writes it (rounded to the microsecond as datetime does, then cut to the
    millisecond); the date and time of day are made once a second."""
    global _second
    if now is None:
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
        if _sampling is not None:
            now = time.time()
            if code != "OK":  # a refusal or an error: always written
                _sampling.roll(now)
            elif not _sampling.admits(self._method, now):
                return
        else:
            now = None
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
        line = (f'{{"ts": "{_ts_now(now)}"{self._head}"principal": {_quoted(principal) if principal else "null"}, '
                f'"code": "{code}", "latency_ms": {latency_ms!r}, '
                f'"request_id": {_quoted(request_id) if request_id else "null"}')
        if reason is not None:
            line += f', "reason": {_quoted(reason)}'
        if rule:
            line += f', "rule": {_quoted(rule)}'
        with _handler.lock:  # type: ignore[union-attr]
            _handler.stream.write(line + "}\n")
            _handler.stream.flush()
