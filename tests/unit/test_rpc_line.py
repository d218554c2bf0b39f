"""A call's log line, written without the logging machinery, is the JSON the formatter would write."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from datetime import datetime, timezone

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


def the_formatters(fields: dict[str, object]) -> dict[str, object]:
    record = logging.LogRecord("copay.rpc", logging.INFO, __file__, 1, "rpc", None, None)
    record.fields = fields
    return json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize("args, fields", [
    (("region/420100", "OK", 0.0012345, "req-1"),
     {"principal": "region/420100", "code": "OK", "latency_ms": 1.234, "request_id": "req-1"}),
    ((None, "UNAUTHENTICATED", 2.5, None, "UNKNOWN_PRINCIPAL", None),
     {"principal": None, "code": "UNAUTHENTICATED", "latency_ms": 2500.0, "request_id": None,
      "reason": "UNKNOWN_PRINCIPAL"}),
    (("operator/ops", "FAILED_PRECONDITION", 0.0, 'a "quoted"\nid, 中文\\', "OVERDRAFT", "R5"),
     {"principal": "operator/ops", "code": "FAILED_PRECONDITION", "latency_ms": 0.0,
      "request_id": 'a "quoted"\nid, 中文\\', "reason": "OVERDRAFT", "rule": "R5"}),
])
def test_the_line_is_the_formatters_json(written, args, fields):
    RpcLine(METHOD).write(*args)
    line = written.getvalue()
    assert line.endswith("}\n") and line.count("\n") == 1  # one line, even for a request id with a newline
    entry = json.loads(line)
    expected = the_formatters({"method": METHOD, **fields})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry.pop("ts"))
    expected.pop("ts")
    assert entry == expected
    assert list(entry) == list(expected)  # the same order of fields too


def test_the_time_is_now_to_the_millisecond(written):
    before = datetime.now(timezone.utc)
    for _ in range(3):  # the second's text is made once and reused
        RpcLine(METHOD).write("region/420100", "OK", 0.001, None)
    after = datetime.now(timezone.utc)
    for line in written.getvalue().splitlines():
        at = datetime.fromisoformat(json.loads(line)["ts"])
        assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= at <= after


def test_without_configure_the_line_goes_through_logging(caplog, monkeypatch):
    monkeypatch.setattr(logs, "_handler", None)
    caplog.set_level(logging.INFO, logger="copay.rpc")
    RpcLine(METHOD).write("region/420100", "NOT_FOUND", 0.002, "r", "MEMBER_NOT_FOUND", None)
    [record] = caplog.records
    assert (record.name, record.getMessage(), record.fields) == ("copay.rpc", "rpc", {
        "method": METHOD, "principal": "region/420100", "code": "NOT_FOUND", "latency_ms": 2.0,
        "request_id": "r", "reason": "MEMBER_NOT_FOUND"})
