"""The benchmark's report (gateway.bench.run.report) on figures given by hand: each share asked is checked
against its ceiling, and says how much server CPU a call it would allow once the client and the database
have taken theirs."""

from __future__ import annotations

import argparse
import re

import pytest

from gateway.bench import run

ARGS = argparse.Namespace(rate=None, in_flight=64, seconds=6.0, rounds=5, warmup=2.0, processes=1)


def result(name: str, rate: float, server: float, client: float, database: float | None) -> run.Result:
    return run.Result(name, calls=round(rate * 10), errors=0, seconds=10.0, p50_ms=1.0, p99_ms=2.0, p999_ms=3.0,
                      server_cpu_us=server, client_cpu_us=client, database_cpu_us=database)


def allowed(out: str) -> dict[str, tuple[str, str]]:
    """Each share asked: what it allows the server at the CPU its case used, and with every core."""
    return {m[0]: m[1:] for m in re.findall(r"^  (\(\w+\) >= \d+% of \(\w+\)): (none|[\d,]+ us) at the CPU it "
                                            r"used, (none|[\d,]+ us) with 2 cores; it took [\d,]+ us, "
                                            r"\(\w+\) [\d,]+ us$", out, re.M)}


def targets(out: str) -> list[tuple[str, str]]:
    return re.findall(r"^target (.+?) +(met|MISSED)$", out, re.M)


def test_postgresql_shares_and_what_they_leave_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run.os, "cpu_count", lambda: 2)
    first = {"a0": result("(a0) bare", 2500, 400, 300, 0),
             "a": result("(a) echo", 2000, 500, 400, 0),  # exactly 80% of (a0): allows what it took
             "b": result("(b) settle", 400, 1500, 400, 600),  # 2,500 us a call at 400/s; 800/s asked
             "c": result("(c) one grantor", 250, 2000, 500, 1500)}  # 4,000 us at 250/s; 500/s asked
    out = run.report(first, {}, ARGS, "postgresql", "uvloop")
    # At the CPU used: in all, the cost times made / asked, less the client's and the database's; with every
    # core: 2 s of CPU a second over the rate asked, less the same.
    assert allowed(out) == {"(a) >= 80% of (a0)": ("500 us", "600 us"),  # 900 x 2,000 / 2,000 or 1,000; less 400
                            "(b) >= 40% of (a)": ("250 us", "1,500 us"),  # 2,500 x 400 / 800 or 2,500; less 1,000
                            "(c) >= 25% of (a)": ("none", "2,000 us")}, out  # 4,000 x 250 / 500 or 4,000; less 2,000
    assert targets(out) == [("(a) >= 80% of (a0)", "met"), ("(b) >= 40% of (a)", "MISSED"),
                            ("server CPU per settle (b) <= 700 us", "MISSED"), ("(c) >= 25% of (a)", "MISSED")], out
    assert "  (b) 2,500 us: at most 800 calls/s; made 400 (50%)" in out, out


@pytest.mark.parametrize("rate", [990.0, 1000.0, 1010.0])
def test_a_share_is_met_when_the_server_took_no_more_than_it_allows(rate: float,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run.os, "cpu_count", lambda: 2)
    first = {"a": result("(a) echo", 2000, 500, 400, None), "b": result("(b) settle", rate, 1000, 300, None),
             "c": result("(c) one grantor", 1000, 1000, 300, None)}
    out = run.report(first, {}, ARGS, "sqlite", "uvloop")  # no (a0): its shares are not asked
    spent = 1000
    left = int(allowed(out)["(b) >= 50% of (a)"][0].removesuffix(" us").replace(",", ""))
    assert (dict(targets(out))["(b) >= 50% of (a)"] == "met") == (rate >= 0.5 * 2000) == (left >= spent), out
    assert [name for name, _ in targets(out)] == ["(b) >= 50% of (a)", "(c) >= 25% of (a)"], out
