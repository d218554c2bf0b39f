"""A call's log line, written without the logging machinery, is the JSON the formatter would write."""

from __future__ import annotations

import io
import logging
import re
import sys

import pytest

from gateway.observability import logs
from gateway.observability.logs import JsonFormatter, RpcLine

METHOD = "/copay.v1.SettlementsService/Settle"


@pytest.fixture
def written(monkeypatch):
    """What the configured log's stream receives; the root logger's handlers are put back afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setattr(sys, "stderr", stream)
    logs.configure("INFO")
    yield stream
    root.handlers[:], logs._handler = handlers, None
    root.setLevel(level)


def the_formatters(fields: dict[str, object]) -> str:
    """The line the JSON formatter writes for these fields (the time cut out)."""
    record = logging.LogRecord("copay.rpc", logging.INFO, __file__, 1, "rpc", None, None)
    record.fields = fields
    return without_time(JsonFormatter().format(record))


def without_time(line: str) -> str:
    return re.sub(r'^\{"ts": "[^"]*", ', "{", line.rstrip("\n"))


ODD = 'a "quoted"\nid, 中文\\ \x00\x1f \u2028 😀 \udcff'  # quotes, controls, line separator, non-BMP, a lone surrogate


@pytest.mark.parametrize("args, fields", [
    (("region/420100", "OK", 0.0012345, "req-1"),
     {"principal": "region/420100", "code": "OK", "latency_ms": 1.234, "request_id": "req-1"}),
    ((None, "UNAUTHENTICATED", 2.5, None, "UNKNOWN_PRINCIPAL", None),
     {"principal": None, "code": "UNAUTHENTICATED", "latency_ms": 2500.0, "request_id": None,
      "reason": "UNKNOWN_PRINCIPAL"}),
    (("operator/ops", "FAILED_PRECONDITION", 0.0, ODD, "OVERDRAFT", "R5"),
     {"principal": "operator/ops", "code": "FAILED_PRECONDITION", "latency_ms": 0.0, "request_id": ODD,
      "reason": "OVERDRAFT", "rule": "R5"}),
    (("region/420100", "NOT_FOUND", 1e-08, "", "MEMBER_NOT_FOUND", ""),
     {"principal": "region/420100", "code": "NOT_FOUND", "latency_ms": 0.0, "request_id": None,
      "reason": "MEMBER_NOT_FOUND"}),
    (("region/420100", "OK", 123456789.5, None),
     {"principal": "region/420100", "code": "OK", "latency_ms": 123456789500.0, "request_id": None}),
])
def test_the_line_is_the_formatters_json_character_for_character(written, args, fields):
    RpcLine(METHOD).write(*args)
    line = written.getvalue()
    assert line.endswith("}\n") and line.count("\n") == 1  # one line, even for a request id with a newline
    assert re.match(r'\{"ts": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", ', line)
    assert without_time(line) == the_formatters({"method": METHOD, **fields})


@pytest.mark.parametrize("now", [1700000036.876, 1700000036.9999996, 1700000036.0, 1700000036.0004996,
                                 1700000036.0005, 1764288000.123456])
def test_the_time_is_the_formatters_to_the_millisecond(monkeypatch, now):
    monkeypatch.setattr(logs, "_second", (-1, ""))
    monkeypatch.setattr(logs.time, "time", lambda: now)
    assert logs._ts_now() == logs._ts(now)
    assert logs._ts_now() == logs._ts(now)  # the second's text, made once, is reused


def test_without_configure_the_line_goes_through_logging(caplog, monkeypatch):
    monkeypatch.setattr(logs, "_handler", None)
    caplog.set_level(logging.INFO, logger="copay.rpc")
    RpcLine(METHOD).write("region/420100", "NOT_FOUND", 0.002, "r", "MEMBER_NOT_FOUND", None)
    [record] = caplog.records
    assert (record.name, record.getMessage(), record.fields) == ("copay.rpc", "rpc", {
        "method": METHOD, "principal": "region/420100", "code": "NOT_FOUND", "latency_ms": 2.0,
        "request_id": "r", "reason": "MEMBER_NOT_FOUND"})
