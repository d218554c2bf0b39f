"""The instruction count's own bookkeeping (gateway.bench.instructions): a run starts from an empty folder, a
case's count is the sum of its dumps only, less its server's own meanwhile, a process callgrind does not
answer for stops the run, and a server that does not start is not left running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.bench import instructions, run


def test_a_run_starts_from_an_empty_folder(tmp_path: Path, valgrind: None) -> None:
    out = tmp_path / "callgrind"
    out.mkdir()
    (out / "123.1").write_text("desc: Trigger: dump b\ntotals: 999\n")  # an earlier run's, the same --workdir
    command = instructions.valgrind(out)
    assert list(out.iterdir()) == [] and command[:2] == ["valgrind", "--tool=callgrind"]


def test_a_case_counts_its_own_dumps_of_every_process(tmp_path: Path) -> None:
    dumps = {"1.1": ("a", 10), "1.2": ("b", 100), "2.1": ("b", 20), "1.3": ("idle-b", 7), "1.4": ("bb", 5000)}
    for name, (case, total) in dumps.items():
        (tmp_path / name).write_text(f"version: 1\ndesc: Trigger: dump {case}\nsummary: 0\ntotals: {total}\n")
    assert [instructions.counted(tmp_path, case) for case in ("a", "b", "idle-b", "c")] == [10, 120, 7, 0]


def test_a_call_counts_less_its_servers_background_for_as_long(tmp_path: Path) -> None:
    dumps = {"1.1": ("b", 1000), "2.1": ("b", 207), "1.2": ("idle-b", 90), "2.2": ("idle-b", 13), "1.3": ("a", 50)}
    for name, (case, total) in dumps.items():
        (tmp_path / name).write_text(f"version: 1\ndesc: Trigger: dump {case}\nsummary: 0\ntotals: {total}\n")
    assert instructions.per_call(tmp_path, "b", 5) == (221, 21)  # (1,207 - 103) / 5 = 220.8, 103 / 5 = 20.6
    assert instructions.per_call(tmp_path, "a", 5) == (10, 0)  # no background dumped: nothing taken off


def test_a_process_callgrind_does_not_answer_for_stops_the_run(valgrind: None) -> None:
    with pytest.raises(SystemExit, match=f"callgrind did not answer for process {os.getpid()}"):
        instructions._control(os.getpid(), "--instr=on")  # this test's own process runs under no valgrind


def test_a_server_that_does_not_start_is_not_left_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def keep(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(popen(*args, **kwargs))
        return started[-1]

    def never(self: run.Server) -> dict:
        raise SystemExit("server did not start")

    monkeypatch.setattr(run.subprocess, "Popen", keep)
    monkeypatch.setattr(run.Server, "_wait_for_listening", never)
    with pytest.raises(SystemExit, match="did not start"):
        run.Server(tmp_path, "", "stuck", [sys.executable, "-c", "import time; time.sleep(60)"])
    assert len(started) == 1 and started[0].poll() is not None  # killed, and waited for
