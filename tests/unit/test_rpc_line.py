"""A call's log line, written without the logging machinery, is the JSON the formatter would write."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
from typing import Iterator

import pytest

from gateway.observability import logs
from gateway.observability.logs import JsonFormatter, RpcLine

METHOD = "/copay.v1.SettlementsService/Settle"


def configured(monkeypatch, ok_lines_per_second: int = 0) -> Iterator[io.StringIO]:
    """What the configured log's stream receives; the root logger's handlers are put back afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setattr(sys, "stderr", stream)
    logs.configure("INFO", ok_lines_per_second)
    yield stream
    root.handlers[:], logs._handler, logs._sampling = handlers, None, None
    root.setLevel(level)


@pytest.fixture
def written(monkeypatch):
    yield from configured(monkeypatch)


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


@pytest.fixture
def sampled(monkeypatch):
    """The configured log with at most 2 successful calls' lines a second, on a clock the test sets."""
    clock = [1700000036.25]
    monkeypatch.setattr(logs.time, "time", lambda: clock[0])
    for stream in configured(monkeypatch, ok_lines_per_second=2):
        yield stream, clock


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_successes_beyond_the_budget_of_a_second_are_counted_and_summed_up_once_it_is_over(sampled):
    stream, clock = sampled
    settle, echo = RpcLine(METHOD), RpcLine("/copay.v1.DiagnosticsService/Echo")
    for n in range(4):
        settle.write("region/420100", "OK", 0.001, f"ok-{n}")
    echo.write("region/420100", "OK", 0.001, None)
    settle.write("region/420100", "FAILED_PRECONDITION", 0.001, "refused", "INSUFFICIENT_BALANCE", "R6")
    settle.write("region/420100", "INTERNAL", 0.001, "failed")  # an error without a reason: written too
    assert [(line["msg"], line["code"], line["request_id"]) for line in lines(stream)] == [
        ("rpc", "OK", "ok-0"), ("rpc", "OK", "ok-1"), ("rpc", "FAILED_PRECONDITION", "refused"),
        ("rpc", "INTERNAL", "failed")]
    clock[0] = 1700000037.5  # the next second: its first line sums the last one up first
    echo.write("region/420100", "OK", 0.001, "next")
    written = lines(stream)[4:]
    summary = [{k: line[k] for k in ("msg", "method", "code", "calls", "second", "per_second")}
               for line in written[:2]]
    assert summary == [
        {"msg": "rpc lines not written", "method": "/copay.v1.DiagnosticsService/Echo", "code": "OK", "calls": 1,
         "second": "2023-11-14T22:13:56+00:00", "per_second": 2},
        {"msg": "rpc lines not written", "method": METHOD, "code": "OK", "calls": 2,
         "second": "2023-11-14T22:13:56+00:00", "per_second": 2}]
    assert [(line["msg"], line["request_id"]) for line in written[2:]] == [("rpc", "next")]
    for n in range(2):  # the second of "next": one more written, one counted
        echo.write("region/420100", "OK", 0.001, f"later-{n}")
    clock[0] = 1700000038.5  # a second that begins with an error: the one before is summed up first
    echo.write("region/420100", "UNAVAILABLE", 0.001, "failed-later")
    assert [(line["msg"], line["request_id"] if line["msg"] == "rpc" else line["calls"])
            for line in lines(stream)[7:]] == [("rpc", "later-0"), ("rpc lines not written", 1),
                                               ("rpc", "failed-later")]


def test_a_clean_stop_sums_up_the_current_second(sampled):
    stream, _ = sampled
    for n in range(3):
        RpcLine(METHOD).write("region/420100", "OK", 0.001, f"ok-{n}")
    logs.sum_up()
    assert [(line["msg"], line.get("calls")) for line in lines(stream)] == [
        ("rpc", None), ("rpc", None), ("rpc lines not written", 1)]


def test_a_second_of_skipped_lines_is_summed_up_by_one_timer_when_no_call_follows(sampled):
    stream, clock = sampled
    clock[0] = 1700000036.999  # the second ends 1 ms from now
    timers: list[float] = []

    async def calls() -> None:
        loop = asyncio.get_running_loop()
        call_later = loop.call_later

        def counted(delay, callback, *args):  # type: ignore[no-untyped-def]
            if getattr(callback, "__self__", None) is logs._sampling:  # the sampling's timers, not asyncio.sleep's
                timers.append(delay)
            return call_later(delay, callback, *args)
        loop.call_later = counted  # type: ignore[method-assign]
        for n in range(4):
            RpcLine(METHOD).write("region/420100", "OK", 0.001, f"ok-{n}")
        assert timers == [pytest.approx(0.002, abs=1e-6)]  # one timer for the second, due just after it ends
        clock[0] = 1700000036.5  # the clock is set back before the timer comes: it waits for the second's end
        await until(lambda: len(timers) == 2)
        assert timers[1] == pytest.approx(0.501, abs=1e-6) and "rpc lines not written" not in stream.getvalue()
        clock[0] = 1700000037.0005
        await until(lambda: "rpc lines not written" in stream.getvalue())

    asyncio.run(calls())
    assert [(line["msg"], line.get("calls")) for line in lines(stream)] == [
        ("rpc", None), ("rpc", None), ("rpc lines not written", 2)]


async def until(condition) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + 10
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)
