"""Instructions a call (``bench --instructions N``): the servers' own instructions for N calls of (a0), (a) and
(b), one at a time, counted by valgrind's callgrind.

The timed cases measure what a caller sees, but on a shared machine their CPU figures drift with its load by
more than a change on the hot path saves (10 to 20% between runs an hour apart here). An instruction count does
not: the same code and calls give the same count within a fraction of a percent, whatever the machine is doing,
so a before and after of a few percent shows. It counts the gateway's processes (the SQLite writer too) and
the bare echo server in user space only: not the kernel's work for their system calls, not the client, not
the database server, and one call at a time does not gather wake-ups as 64 in flight do. It needs valgrind;
each server runs under it, counting only while its case's calls are made."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Awaitable, Callable

import grpc

from gateway._proto.copay.v1 import diagnostics_pb2, diagnostics_pb2_grpc, settlements_pb2_grpc
from gateway._proto.copay.v1 import settlements_pb2 as spb
from gateway.bench import cpu, world

Call = Callable[[int], Awaitable[object]]
CASES = {"a0": "(a0) bare grpc.aio echo over mTLS", "a": "(a) echo over mTLS: the ceiling",
         "b": "(b) settle, one call at a time"}


def valgrind(out: Path) -> list[str]:
    """The command that runs a server under callgrind, counting nothing until told (``callgrind_control``);
    the processes it starts (the SQLite writer) too, each into a file of its own in ``out``."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("--instructions needs valgrind (Debian and Ubuntu: apt-get install valgrind)")
    shutil.rmtree(out, ignore_errors=True)  # an earlier run's dumps (the same --workdir) are not counted again
    out.mkdir(parents=True)
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes",
            f"--callgrind-out-file={out}/%p"]


def _control(pid: int, *args: str) -> None:
    """Tells the server and the processes it started (the SQLite writer); each must answer."""
    pids = [str(pid), *cpu.children(pid)]
    told = subprocess.run(["callgrind_control", *args, *pids], check=True, capture_output=True, text=True,
                          timeout=120)
    if missing := [each for each in pids if f"PID {each}:" not in told.stdout]:  # it says so there, and exits 0
        raise SystemExit(f"callgrind did not answer for process {', '.join(missing)}: {told.stdout}{told.stderr}")


def counted(out: Path, case: str) -> int:
    """The instructions of every process's dump for ``case``."""
    total = 0
    for dump in out.iterdir():
        lines = dump.read_text().splitlines()
        if f"desc: Trigger: dump {case}" in lines:
            total += next(int(line.split()[1]) for line in lines if line.startswith("totals:"))
    return total


async def count(pids: dict[str, int], ports: dict[str, int], certs: Path, calls: int, out: Path,
                claim: Callable[[int], spb.SettlementClaim]) -> dict[str, int]:
    """Each case: ``calls`` calls uncounted (caches, prepared statements), then ``calls`` counted, each settle
    on ``claim(n)``, then as long again with no call: what the server does meanwhile on its own (its timers:
    the operators' state polled, traffic counts) is taken off. The instructions a call of each, and the
    background's a call (``"idle"``: the largest of the cases')."""
    creds = grpc.ssl_channel_credentials((certs / "ca.pem").read_bytes(),
                                         (certs / f"region-{world.REGION}-key.pem").read_bytes(),
                                         (certs / f"region-{world.REGION}.pem").read_bytes())
    result: dict[str, int] = {}
    for case in CASES:
        async with grpc.aio.secure_channel(f"localhost:{ports[case]}", creds) as channel:
            if case == "b":
                stub = settlements_pb2_grpc.SettlementsServiceStub(channel)
                call: Call = lambda n: stub.Settle(spb.SettleRequest(request_id=f"instructions-{n}",  # noqa: E731
                                                                     claim=claim(n)))
            else:
                echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
                call = lambda n: echo.Echo(diagnostics_pb2.EchoRequest(message="ping"))  # noqa: E731
            for n in range(calls):
                await call(n)
            _control(pids[case], "--instr=on")
            began = time.monotonic()
            for n in range(calls, 2 * calls):
                await call(n)
            took = time.monotonic() - began
            _control(pids[case], "--dump=" + case)
            await asyncio.sleep(took)
            _control(pids[case], "--instr=off")
            _control(pids[case], f"--dump=idle-{case}")
        result[case], idle = per_call(out, case, calls)
        result["idle"] = max(result.get("idle", 0), idle)
    return result


def per_call(out: Path, case: str, calls: int) -> tuple[int, int]:
    """A call's instructions of ``case``, its server's own meanwhile (its ``idle-`` dumps) taken off; and
    that background's, a call."""
    idle = counted(out, f"idle-{case}")
    return round((counted(out, case) - idle) / calls), round(idle / calls)


def report(counts: dict[str, int], calls: int, loop: str) -> str:
    bare = counts["a0"]
    rows = [f"instructions a call, {calls:,} calls one at a time, the servers on {loop} "
            "(valgrind's callgrind: the servers' own, in user space; not the kernel's, the client's or the "
            "database's):"]
    for case, name in CASES.items():
        rows.append(f"  {name:<40} {counts[case]:>12,}  {counts[case] / bare:5.2f} x (a0)")
    rows.append(f"per-call stack ((a) minus (a0)): {counts['a'] - bare:,} instructions; taken off each case: "
                f"what its server did on its own for as long, at most {counts['idle']:,} a call")
    return "\n".join(rows)
