"""The benchmark command runs end to end (tiny sizes: this checks that it works, not how fast): every case
in turns, the open loop at a fixed rate on both engines, several gateway processes on PostgreSQL, and the
clearing window timings."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway.bench import cpu, run

# case, calls/s, errors, server us, client us, db us
ROW = re.compile(r"^\((\w+)\) .*?\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(?:\d+%|-)\s+\d+%\s+(\d+)\s+(\d+)\s+(\d+)"
                 r"\s+(\d+|-)$", re.M)
BOUND = re.compile(r"^  \((\w+)\) ([\d,]+) us: at most ([\d,]+) calls/s; made ([\d,]+) \(\d+%\)$", re.M)


def bounds(out: str) -> dict[str, tuple[int, int, int]]:
    """Each case's CPU per call in all, the most calls a second the machine's cores allow at that cost, and
    the rate it made."""
    return {m.group(1): tuple(int(g.replace(",", "")) for g in m.group(2, 3, 4)) for m in BOUND.finditer(out)}
TINY = ["--warmup", "0.2", "--grantors", "20", "--in-flight", "4"]


def test_bench_prints_every_case_without_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.main(["--seconds", "0.4", "--rounds", "2", "--prior", "40", "--window-lines", "300",
              "--workdir", str(tmp_path), *TINY])
    out = capsys.readouterr().out
    rows = list(ROW.finditer(out))
    assert sorted(m.group(1) for m in rows) == ["a", "a0", "b", "c", "d", "e"], out
    assert all(int(m.group(2)) > 0 and m.group(3) == "0" for m in rows)  # calls made, no errors
    assert {m.group(6) for m in rows} == {"-"}  # SQLite: no database server of its own to measure
    assert sorted(bounds(out)) == ["a", "a0", "b", "c", "d", "e"], out
    assert re.search(r"server: [\d,]+ units of work in [\d,]+ commits", out)
    for target in ("(a) >= 80% of (a0)", "(b) >= 50% of (a)", "(b) >= 45% of (a0)", "(d) within 10% of (b)",
                   "(e) within 10% of (b)"):
        assert f"target {target}" in out
    asked = re.findall(r"^  (\(\w+\) >= \d+% of \(\w+\)): (?:none|[\d,]+ us) at the CPU it used, (?:none|[\d,]+ us) "
                       r"with \d+ cores; it took [\d,]+ us, \(\w+\) [\d,]+ us$",
                       out, re.M)
    assert asked == ["(a) >= 80% of (a0)", "(b) >= 50% of (a)", "(b) >= 45% of (a0)", "(c) >= 25% of (a)"], out
    assert re.search(r"^per-call stack \(server CPU of \(a\) minus \(a0\)\): -?\d+ us", out, re.M)
    assert re.search(r"^\(d\) vs \(b\): [+-]\d+% \(they took turns\)", out, re.M)
    # case (e) closed one window a turn, each of all its lines, and read a region's detail of it
    turns = re.findall(r"\(e\) closed a window of ([\d,]+) lines in [\d.]+ s, then read a statement and ([\d,]+) "
                       r"lines", out)
    assert len(turns) == 2 and all(closed == "300" and 0 < int(read) < 300 for closed, read in turns), out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bench_open_loop_at_a_fixed_rate(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """On PostgreSQL with two gateway processes behind the one client."""
    sqlite = backend == "sqlite"
    extra = [] if sqlite else ["--database-url", request.getfixturevalue("fresh_postgres")(), "--processes", "2"]
    run.main(["--rate", "150", "--seconds", "0.6", "--rounds", "1", "--workdir", str(tmp_path), *TINY, *extra])
    out = capsys.readouterr().out
    rows = {m.group(1): int(m.group(2)) for m in ROW.finditer(out) if m.group(3) == "0"}
    assert set(rows) == {"a0", "a", "b"}, out  # no errors
    cpu = {m.group(1): m.group(4, 5, 6) for m in ROW.finditer(out)}  # server, client, database
    if sqlite:
        assert {database for _, _, database in cpu.values()} == {"-"}, out
    else:  # measured (how well: tests/integration/test_bench_cpu.py; a few ms here, too few ticks to compare)
        assert all(database.isdigit() for _, _, database in cpu.values()), out
    assert sorted(bounds(out)) == ["a", "a0", "b"], out
    for case, (total, most, made) in bounds(out).items():  # in all: each part, rounded, adds up
        assert abs(total - sum(int(us) for us in cpu[case] if us != "-")) <= 2, out
        assert abs(most - (os.cpu_count() or 1) * 1e6 / total) <= 0.01 * most + 1 and made == rows[case], out
    assert all(100 <= rate <= 160 for rate in rows.values()), rows  # about the rate asked for, not as fast as can be
    limit = 10 if sqlite else 25
    assert f"target p99 of (b) < {limit} ms at 150/s" in out and "target (b) achieved >= 99% of 150/s" in out
    assert f"open loop at 150 calls/s, 0.6 s measured per case in 1 turns, after 0.2 s warm-up, " \
           f"{1 if sqlite else 2} gateway process(es), the servers on uvloop (COPAY_EVENT_LOOP)" in out, out  # all
    wire = re.search(r"^  \(b\) on the wire: ([\d.]+) statements in ([\d.]+) round trips to the database per settle",
                     out, re.M)
    if sqlite:
        assert wire is None
    else:  # BEGIN, the window's lock, 5 reads and the balances locked as one | 6 writes as one, COMMIT; the
        # gateway's own background reads add a little
        assert wire and 5 <= float(wire.group(1)) <= 5.5 and 2 <= float(wire.group(2)) <= 2.4, out


def test_bench_counts_instructions_a_call_under_valgrind(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        valgrind: None) -> None:
    """On SQLite, where a settlement's work runs in the writer process: it is counted too."""
    run.main(["--instructions", "5", "--grantors", "20", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    counts = {case: int(n.replace(",", "")) for case, n in re.findall(r"^  \((\w+)\) .*?\s+([\d,]+)  +[\d.]+ x \(a0\)$",
                                                                     out, re.M)}
    assert sorted(counts) == ["a", "a0", "b"], out
    assert "calls one at a time, the servers on uvloop (valgrind" in out, out  # the bare echo's loop too
    # The servers' own work in as long with no call is taken off: over five calls it moves the echoes' counts by
    # about as much as the gateway's stack adds to gRPC's (a few hundred then suffice), a settlement's not.
    assert 0 < counts["a0"] < counts["b"] and 0 < counts["a"] < counts["b"], out
    dumps = [dump.read_text().splitlines() for dump in (tmp_path / "callgrind").iterdir()]
    settled = {next(line.split(" -m ")[1].split()[0] for line in d if line.startswith("cmd:")):
               next(int(line.split()[1]) for line in d if line.startswith("totals:"))
               for d in dumps if "desc: Trigger: dump b" in d}
    assert sorted(settled) == ["gateway.cli", "gateway.store.sqlite.writer"], settled  # the gateway and its writer
    assert all(settled.values()), settled  # each counted something
    assert re.search(rf"^per-call stack \(\(a\) minus \(a0\)\): {counts['a'] - counts['a0']:,} instructions; "
                     r"taken off each case: what its server did on its own for as long, at most [\d,]+ a call$",
                     out, re.M), out


def test_a_failed_run_leaves_no_server_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def fails(*_: object, **__: object) -> None:
        raise RuntimeError("the client failed")

    monkeypatch.setattr(run, "run_cases", fails)
    before = set(cpu.children(os.getpid()))  # other tests' servers (PgBouncer) may be running
    with pytest.raises(RuntimeError, match="the client failed"):
        run.main(["--prior", "0", "--window-lines", "0", "--workdir", str(tmp_path), *TINY])
    assert set(cpu.children(os.getpid())) <= before  # the bare echo server and the gateway (its writer) stopped


def test_bench_times_a_clearing_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.main(["--clearing-lines", "3000", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert re.search(r"clearing window of 3,000 lines .*: close [\d.]+ s; a region's statement [\d.]+ ms; "
                     r"its detail, [\d,]+ lines in pages of 1,000", out), out
