"""The benchmark command runs end to end (tiny sizes: this checks that it works, not how fast)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.bench import run


def test_bench_prints_every_case_without_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.main(["--seconds", "0.4", "--warmup", "0.2", "--rounds", "2", "--grantors", "20", "--prior", "40",
              "--in-flight", "4", "--window-lines", "300", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    rows = list(re.finditer(r"^\((\w)\) .*?\s+(\d+)\s+[\d.]+\s+[\d.]+\s+\d+%\s+(\d+)\s", out, re.M))
    assert sorted(m.group(1) for m in rows) == ["a", "b", "c", "d", "e"]
    assert all(int(m.group(2)) > 0 and m.group(3) == "0" for m in rows)  # calls made, no errors
    assert re.search(r"server: [\d,]+ units of work in [\d,]+ commits", out)
    assert "target (b) >= 50% of (a)" in out and "target (d) within 10% of (b)" in out
    assert "target (e) within 10% of (b)" in out
    # case (e) closed one window a turn, each of all its lines, and read a region's detail of it
    turns = re.findall(r"\(e\) closed a window of ([\d,]+) lines in [\d.]+ s, then read a statement and ([\d,]+) "
                       r"lines", out)
    assert len(turns) == 2 and all(closed == "300" and 0 < int(read) < 300 for closed, read in turns), out
    assert re.search(r"^\(d\) vs \(b\): [+-]\d+% \(they took turns\)", out, re.M)


def test_bench_times_a_clearing_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.main(["--clearing-lines", "3000", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert re.search(r"clearing window of 3,000 lines .*: close [\d.]+ s; a region's statement [\d.]+ ms; "
                     r"its detail, [\d,]+ lines in pages of 1,000", out), out
