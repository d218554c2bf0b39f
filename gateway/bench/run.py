"""The benchmark: the real server (a subprocess, mTLS, file-backed SQLite, or
``--database-url``; with ``--processes N``, N of them on one database), driven by an
asyncio gRPC client keeping N calls in flight, or with ``--rate`` starting calls at a
fixed rate (open loop, latency from each call's due time).

    (a0) a bare grpc.aio echo over the same mTLS (gateway.bench.bare): gRPC alone
    (a) Echo: the same server stack with no work, the ceiling
    (b) Settle, spread over many grantors
    (c) Settle, every call against one grantor
    (d) (b) again after a large history of prior settlements
    (e) (b) while an operator closes a large clearing window (one per turn), then reads
        its statement and pages through a region's detail, over and over

The cases take turns (``--rounds``), so that a machine whose speed drifts (a
shared virtual machine) slows them alike: on SQLite, (d) runs on a second
server over a copy of the database that was given the history, beside the
first. On another engine (``--database-url``), (d) runs afterwards on the grown
database, taking turns with a second echo ceiling, and is compared with (b) as
a share of the ceiling beside each. Each case warms up first. The table gives calls per second, p50 and p99 latency,
throughput as a share of the echo ceiling, and the CPU time the server (with
its SQLite writer) and the client spent per call (Linux), which says where the
time goes even when the machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Sequence

import grpc
from sqlalchemy import Engine, func, select

from gateway._proto.copay.v1 import clearing_pb2 as cpb
from gateway._proto.copay.v1 import clearing_pb2_grpc, diagnostics_pb2, diagnostics_pb2_grpc
from gateway._proto.copay.v1 import settlements_pb2 as spb
from gateway._proto.copay.v1 import settlements_pb2_grpc
from gateway.bench import clearing, cpu, instructions, world
from gateway.bench.cpu import DatabaseServer
from gateway.bench.wire import CountingProxy
from gateway.domain.clearing import window_of
from gateway.domain.identity import IdHasher
from gateway.security.pki import init_dev_pki
from gateway.sample import REGIONS
from gateway.seed import register_regions
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.tables import members

CHANNELS = 4
ROUND_SETTLE = 0.5  # seconds of unmeasured calls when a case takes its turn again


@dataclass(frozen=True)
class Result:
    name: str
    calls: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    server_cpu_us: float = 0.0
    client_cpu_us: float = 0.0
    database_cpu_us: float | None = None  # a PostgreSQL server on this machine; None for SQLite or a remote one

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


class Server:
    """A gateway process (``copay-gateway serve``), or another server given its command (case (a0))."""

    def __init__(self, folder: Path, url: str, name: str = "server", command: list[str] | None = None) -> None:
        self.log = folder / f"{name}.log"
        # A week's grace: the gateway does not close the windows that case (e) closes itself.
        env = {**os.environ, "COPAY_LISTEN": "127.0.0.1:0", "COPAY_METRICS_LISTEN": "off",
               "COPAY_CONSOLE_LISTEN": "off", "COPAY_CLEARING_GRACE_MINUTES": "10080",
               "COPAY_DATABASE_URL": url, "COPAY_CERTS_DIR": str(folder / "certs")}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command or [sys.executable, "-m", "gateway.cli", "serve"], stdout=out,
                                            stderr=subprocess.STDOUT, env=env)
        try:
            listening = self._wait_for_listening()
            self.port, self.loop = listening["port"], listening.get("event_loop", "an unnamed loop")
        except BaseException:  # not left running (nor its writer, which stops when the gateway goes)
            self.process.kill()
            self.process.wait()
            raise
        self.ports = [self.port]

    def _wait_for_listening(self) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines()[::-1]:
                if '"msg": "listening"' in line:
                    return json.loads(line)
            if self.process.poll() is not None:
                raise SystemExit(f"server exited:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise SystemExit("server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its children (the SQLite writer), all
        threads (Linux /proc; 0 elsewhere)."""
        pid = self.process.pid
        return sum(cpu.process_seconds(p) for p in [pid, *cpu.children(pid)])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        for line in self.log.read_text().splitlines()[::-1]:
            if '"msg": "stopped"' in line and "commits" in line:
                stopped = json.loads(line)
                print(f"  server: {stopped['units_of_work']:,} units of work in {stopped['commits']:,} commits",
                      flush=True)
                break
        self.log.write_text("")  # the next start's "listening" line is the one to read


class Fleet:
    """Several gateway processes on one database (``--processes``), measured as one: the client spreads its
    calls over all of them, round robin, and their CPU is summed."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.ports = [port for server in servers for port in server.ports]
        self.loop = loops(servers)

    def cpu_seconds(self) -> float:
        return sum(server.cpu_seconds() for server in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def loops(servers: Iterable[Server | Fleet]) -> str:
    """The event loops the servers said they run on (their "listening" lines): one name if they agree."""
    return ", ".join(sorted({server.loop for server in servers}))


def bare_server(folder: Path, under: Sequence[str] = ()) -> Server:
    """Case (a0)'s server; ``under``: a command it runs under (valgrind's, for ``--instructions``)."""
    return Server(folder, "", "bare", [*under, sys.executable, "-m", "gateway.bench.bare", str(folder / "certs")])


@dataclass(frozen=True)
class Window:
    """One measured stretch of one case."""
    latencies: list[float]
    errors: int
    seconds: float
    calls: int  # calls started in the window (the CPU is divided by these)
    server_cpu: float
    client_cpu: float
    database_cpu: float


CPU = tuple[float, float, float]  # CPU seconds so far: the case's servers', the client's, the database server's
Meter = Callable[[], CPU]


async def drive(call: Callable[[], Awaitable[object]], in_flight: int, warmup: float, seconds: float,
                meter: Meter,
                alongside: Callable[[float], Awaitable[object]] | None = None) -> Window:
    """Keeps ``in_flight`` calls going; measures those that start after the warm-up, and the CPU the
    servers, the client and the database spent over the measured window. ``alongside(stop_at)`` runs over
    the measured window too (case (e)'s operator)."""
    latencies: list[float] = []
    errors = started = 0
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def worker() -> None:
        nonlocal errors, started
        while (began := time.perf_counter()) < stop_at:
            started += 1
            try:
                await call()
            except grpc.aio.AioRpcError:
                errors += 1
                continue
            if began >= measure_from:
                latencies.append(time.perf_counter() - began)

    async def measure() -> tuple[CPU, int]:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        before, calls0 = meter(), started
        if alongside is not None:
            await alongside(stop_at)
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        return _spent(before, meter()), started - calls0

    (spent, calls), *_ = await asyncio.gather(measure(), *(worker() for _ in range(in_flight)))
    return Window(latencies, errors, seconds, calls, *spent)


async def open_loop(call: Callable[[], Awaitable[object]], rate: float, warmup: float, seconds: float,
                    meter: Meter) -> Window:
    """Starts a call every 1/``rate`` seconds, whether or not earlier ones have finished, and counts each
    call's latency from the moment it was due to start, not from when it did (no coordinated omission: a
    stall delays the calls due during it, and they count it). Measures the calls due after the warm-up."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.05
    measure_from, stop_at = start + warmup, start + warmup + seconds
    running: set[asyncio.Task[None]] = set()

    async def one(due: float) -> None:
        nonlocal errors
        try:
            await call()
        except grpc.aio.AioRpcError:
            errors += 1
            return
        if due >= measure_from:
            latencies.append(time.perf_counter() - due)

    before: CPU | None = None
    due, n = start, 0
    while due < stop_at:
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        if due >= measure_from and before is None:
            before = meter()
        task = asyncio.create_task(one(due))
        running.add(task)
        task.add_done_callback(running.discard)
        n += 1
        due = start + n / rate
    if running:
        await asyncio.wait(set(running))
    after = meter()
    return Window(latencies, errors, seconds, max(1, int(rate * seconds)), *_spent(before or after, after))


def _meter(server: Server | Fleet, database: DatabaseServer | None) -> Meter:
    return lambda: (server.cpu_seconds(), cpu.own_seconds(), database.cpu_seconds() if database else 0.0)


def _spent(before: CPU, after: CPU) -> CPU:
    return (after[0] - before[0], after[1] - before[1], after[2] - before[2])


def summarize(name: str, windows: list[Window], database_measured: bool) -> Result:
    latencies = sorted(x for w in windows for x in w.latencies)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0
    calls = max(1, sum(w.calls for w in windows))
    return Result(name, len(latencies), sum(w.errors for w in windows), sum(w.seconds for w in windows),
                  pick(0.50), pick(0.99), pick(0.999), sum(w.server_cpu for w in windows) / calls * 1e6,
                  sum(w.client_cpu for w in windows) / calls * 1e6,
                  sum(w.database_cpu for w in windows) / calls * 1e6 if database_measured else None)


class Operator:
    """Case (e)'s operator: in each turn, closes the next window loaded for it, then reads a region's statement
    of it and pages once through that region's detail, as its finance office would. Keeps what each took."""

    def __init__(self, channel: grpc.aio.Channel, days: list[date]) -> None:
        self._stub = clearing_pb2_grpc.ClearingServiceStub(channel)
        self._days = iter(days)
        self.turns: list[tuple[int, float, int, float]] = []  # lines closed, seconds; detail lines read, seconds

    async def __call__(self, stop_at: float) -> None:
        if (day := next(self._days, None)) is None:
            return
        began = time.perf_counter()
        window = await self._stub.CloseClearingWindow(cpb.CloseClearingWindowRequest(
            name=f"clearingWindows/{day}", request_id=f"bench-close-{time.time_ns():x}", reason="benchmark"))
        closed = time.perf_counter()
        statement = f"regions/{clearing.REGIONS[0]}/clearingStatements/{day}"
        await self._stub.GetClearingStatement(cpb.GetClearingStatementRequest(name=statement))
        token, lines = "", 0
        while True:
            page = await self._stub.ListClearingLines(cpb.ListClearingLinesRequest(
                parent=statement, page_size=1000, page_token=token))
            lines += len(page.clearing_lines)
            if not (token := page.next_page_token):
                break
        self.turns.append((window.line_count, closed - began, lines, time.perf_counter() - closed))


def claim(i: int) -> spb.SettlementClaim:
    return spb.SettlementClaim(
        beneficiary=f"regions/{world.REGION}/members/{world.beneficiary(i).psn_no}",
        credential=spb.Credential(type=spb.CREDENTIAL_TYPE_E_VOUCHER, holder_id_number=world.beneficiary_id(i)),
        institution=spb.Institution(code="H4201000001", kind=spb.INSTITUTION_KIND_HOSPITAL, designated=True,
                                    region=world.REGION),
        use=spb.USE_OUTPATIENT, total_fen=100, personal_part_fen=100)


async def run_cases(servers: dict[str, Server | Fleet], certs: Path, args: argparse.Namespace,
                    database: DatabaseServer | None = None, ceiling: str = "(a) echo over mTLS: the ceiling",
                    windows_to_close: list[date] | None = None) -> dict[str, Result]:
    """Runs the cases named in ``servers``, each against its server (or fleet), taking turns: each keeps
    ``--in-flight`` calls going, or with ``--rate`` starts calls at that rate (open loop). The CPU of
    ``database`` is measured beside each case's servers'."""
    creds = grpc.ssl_channel_credentials((certs / "ca.pem").read_bytes(),
                                         (certs / f"region-{world.REGION}-key.pem").read_bytes(),
                                         (certs / f"region-{world.REGION}.pem").read_bytes())
    channels = {port: [grpc.aio.secure_channel(f"localhost:{port}", creds,
                                               options=[("grpc.use_local_subchannel_pool", 1)])
                       for _ in range(CHANNELS)] for server in servers.values() for port in server.ports}

    def stubs(case: str, stub: Callable[[grpc.aio.Channel], Any]) -> list[Any]:
        """One stub a channel, over every process of the case's server: calls go round robin."""
        return [stub(c) for port in servers.get(case, servers["a"]).ports for c in channels[port]]

    claims = [claim(i) for i in range(args.grantors)]
    rng = random.Random(7)
    run_id = f"{time.time_ns():x}"
    numbers = itertools.count()

    def echo_call(case: str) -> Callable[[], Awaitable[object]]:
        echo = stubs(case, diagnostics_pb2_grpc.DiagnosticsServiceStub)
        request = diagnostics_pb2.EchoRequest(message="ping")
        return lambda: echo[next(numbers) % len(echo)].Echo(request)

    def settle_call(tag: str, pick: Callable[[], int]) -> Callable[[], Awaitable[object]]:
        settle = stubs(tag, settlements_pb2_grpc.SettlementsServiceStub)

        def call() -> Awaitable[object]:
            n = next(numbers)
            return settle[n % len(settle)].Settle(spb.SettleRequest(request_id=f"{run_id}-{tag}-{n}",
                                                                    claim=claims[pick()]))
        return call

    calls: dict[str, tuple[str, Callable[[], Callable[[], Awaitable[object]]]]] = {
        "a0": ("(a0) bare grpc.aio echo over mTLS", lambda: echo_call("a0")),
        "a": (ceiling, lambda: echo_call("a")),
        "b": (f"(b) settle over {args.grantors:,} grantors",
              lambda: settle_call("b", lambda: rng.randrange(args.grantors))),
        "c": ("(c) settle, every call on one grantor", lambda: settle_call("c", lambda: 0)),
        "d": (f"(d) settle over {args.grantors:,} grantors, after {args.prior:,} settlements",
              lambda: settle_call("d", lambda: rng.randrange(args.grantors))),
        "e": (f"(e) (b) while closing windows of {args.window_lines:,} lines",
              lambda: settle_call("e", lambda: rng.randrange(args.grantors))),
    }
    made = {case: calls[case][1]() for case in servers}
    operator_channel = None
    alongside: dict[str, Operator] = {}
    if "e" in servers:
        operator_channel = grpc.aio.secure_channel(f"localhost:{servers['e'].ports[0]}", grpc.ssl_channel_credentials(
            (certs / "ca.pem").read_bytes(), (certs / "operator-ops-key.pem").read_bytes(),
            (certs / "operator-ops.pem").read_bytes()))
        alongside["e"] = Operator(operator_channel, windows_to_close or [])
    windows: dict[str, list[Window]] = {case: [] for case in servers}
    for round_ in range(args.rounds):  # cases take turns, so a drift in machine speed hits them alike
        for case, server in servers.items():
            warmup, seconds = args.warmup if round_ == 0 else ROUND_SETTLE, args.seconds / args.rounds
            meter = _meter(server, database)
            windows[case].append(await (
                open_loop(made[case], args.rate, warmup, seconds, meter) if args.rate else
                drive(made[case], args.in_flight, warmup, seconds, meter, alongside.get(case))))
    results = {case: summarize(calls[case][0], windows[case], database is not None) for case in servers}
    for last in results.values():
        print(f"  {last.name}: {last.rate:.0f} calls/s, p50 {last.p50_ms:.2f} ms, p99 {last.p99_ms:.2f} ms, "
              f"p99.9 {last.p999_ms:.2f} ms, CPU per call: server {last.server_cpu_us:.0f} us, "
              f"client {last.client_cpu_us:.0f} us{_database_us(last, ', database ')}", flush=True)
    if operator := alongside.get("e"):
        for closed, close_s, read, read_s in operator.turns:
            print(f"  (e) closed a window of {closed:,} lines in {close_s:.2f} s, then read a statement and "
                  f"{read:,} lines of its detail in {read_s:.2f} s", flush=True)
    for channel in [c for group in channels.values() for c in group] + ([operator_channel] if operator_channel else []):
        await channel.close()
    return results


async def on_the_wire(folder: Path, url: str, args: argparse.Namespace, calls: int = 300, warmup: int = 50) -> str:
    """Statements and round trips to the database per settle (b), one call at a time, counted by a proxy in
    front of the database (gateway.bench.wire) under a gateway of their own."""
    proxy = CountingProxy(url)
    server = await asyncio.to_thread(Server, folder, await proxy.start(), "server-wire")
    certs = folder / "certs"
    channel = grpc.aio.secure_channel(f"localhost:{server.port}", grpc.ssl_channel_credentials(
        (certs / "ca.pem").read_bytes(), (certs / f"region-{world.REGION}-key.pem").read_bytes(),
        (certs / f"region-{world.REGION}.pem").read_bytes()))
    stub = settlements_pb2_grpc.SettlementsServiceStub(channel)
    rng, run_id = random.Random(11), f"{time.time_ns():x}"
    try:
        for n in range(warmup + calls):
            if n == warmup:
                proxy.reset()
            await stub.Settle(spb.SettleRequest(request_id=f"{run_id}-wire-{n}",
                                                claim=claim(rng.randrange(args.grantors))))
        statements, trips = proxy.statements / calls, proxy.round_trips / calls
    finally:
        await channel.close()
        await asyncio.to_thread(server.stop)
        await proxy.stop()
    return (f"  (b) on the wire: {statements:.1f} statements in {trips:.1f} round trips to the database per settle "
            f"({calls} settles one at a time, counted by a proxy in front of the database)")


def report(first: dict[str, Result], second: dict[str, Result], args: argparse.Namespace, engine: str,
           loop: str) -> str:
    """The table and the targets; ``second`` holds (d) and an echo ceiling measured in turns with it, if (d)
    ran after the other cases (on PostgreSQL)."""
    bare = first.get("a0")
    rows = [f"{'case':<62} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>8} {'vs (a0)':>7} "
            f"{'vs (a)':>7} {'errors':>6} {'server us':>9} {'client us':>9} {'db us':>6}"]
    for phase in (first, second):
        for r in phase.values():
            rows.append(f"{r.name:<62} {r.rate:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.p999_ms:>8.2f} "
                        f"{f'{r.rate / bare.rate:.0%}' if bare else '-':>7} {r.rate / phase['a'].rate:>7.0%} "
                        f"{r.errors:>6} {r.server_cpu_us:>9.0f} {r.client_cpu_us:>9.0f} "
                        f"{_database_us(r) or '-':>6}")
    share = {case: r.rate / phase["a"].rate for phase in (first, second) for case, r in phase.items()}
    checks: list[tuple[str, bool]] = []
    if bare:
        rows.append(f"\nper-call stack (server CPU of (a) minus (a0)): "
                    f"{first['a'].server_cpu_us - bare.server_cpu_us:.0f} us")
    cores = os.cpu_count() or 1
    rows.append(f"\nCPU per call in all (server + client + database), and the most calls a second that this "
                f"machine's {cores} cores allow at that cost:")
    for case, r in first.items():
        rows.append(f"  ({case}) {_in_all(r):,.0f} us: at most {cores * 1e6 / _in_all(r):,.0f} calls/s; "
                    f"made {r.rate:,.0f} ({r.rate * _in_all(r) / (cores * 1e6):.0%})")
    if args.rate:
        limit = 10 if engine == "sqlite" else 25
        checks += [(f"p99 of (b) < {limit} ms at {args.rate:g}/s", first["b"].p99_ms < limit),
                   (f"(b) achieved >= 99% of {args.rate:g}/s", first["b"].rate >= 0.99 * args.rate)]
    else:
        goals = [("a", "a0", 0.80)] if bare else []  # (case, of which case, the least share)
        goals += ([("b", "a", 0.50)] + ([("b", "a0", 0.45)] if bare else [])) if engine == "sqlite" else \
            [("b", "a", 0.40)]
        goals.append(("c", "a", 0.25))
        # At the CPU a case used here, its rate goes as the inverse of its cost a call: the rate asked allows
        # in all its cost times (made / asked), of which the client and the database keep what they took. With
        # every core busy (more processes, a lighter loop) it would allow at most the cores over the rate asked.
        rows.append("\nServer CPU a call that each share asked allows, the client's and the database's CPU a call "
                    "taken as they were: at the CPU its case used here, and with every core:")
        for case, base, least in goals:
            r, ceiling = first[case], first[base]
            asked, kept = least * ceiling.rate, r.client_cpu_us + (r.database_cpu_us or 0.0)
            rows.append(f"  ({case}) >= {least:.0%} of ({base}): {_us(_in_all(r) * r.rate / asked - kept)} at the "
                        f"CPU it used, {_us(cores * 1e6 / asked - kept)} with {cores} cores; it took "
                        f"{r.server_cpu_us:,.0f} us, ({base}) {ceiling.server_cpu_us:,.0f} us")
            checks.append((f"({case}) >= {least:.0%} of ({base})", r.rate >= least * ceiling.rate))
        if engine != "sqlite":
            checks.insert(-1, ("server CPU per settle (b) <= 700 us", first["b"].server_cpu_us <= 700))
    rows.append("")
    if "d" in share:
        # (d) and (b) are compared as shares of the echo ceiling beside each: the same one when they
        # took turns; when (d) ran later, the machine's speed may have drifted in between.
        checks.append(("(d) within 10% of (b)", abs(share["d"] / share["b"] - 1) <= 0.10))
        rows.append(f"(d) vs (b): {share['d'] / share['b'] - 1:+.0%} " + (
            "(they took turns)" if "d" in first else
            f"as shares of the echo ceiling beside each; {second['d'].rate / first['b'].rate - 1:+.0%} in calls/s"))
    if "e" in share:
        checks.append(("(e) within 10% of (b)", share["e"] / share["b"] - 1 >= -0.10))
        rows.append(f"(e) vs (b): {share['e'] / share['b'] - 1:+.0%} (settle throughput during closes)")
    rows += [f"target {name:<36} {'met' if ok else 'MISSED'}" for name, ok in checks]
    load = f"open loop at {args.rate:g} calls/s" if args.rate else f"{args.in_flight} calls in flight"
    rows.append(f"({load}, {args.seconds:g} s measured per case in {args.rounds} turns, "
                f"after {args.warmup:g} s warm-up, {args.processes} gateway process(es), the servers on "
                f"{loop} (COPAY_EVENT_LOOP), "
                f"{os.cpu_count()} cores shared by client and servers;\n"
                f" latency from each call's due time in open loop; server us / client us / db us: CPU time the "
                f"servers, the client and a PostgreSQL server on this machine spent per measured call)")
    return "\n".join(rows)


def count_instructions(folder: Path, url: str, args: argparse.Namespace) -> str:
    """``--instructions``: the bare echo server and a gateway, each under valgrind (gateway.bench.instructions)."""
    out = folder / "callgrind"
    under = instructions.valgrind(out)
    with ThreadPoolExecutor(2) as pool:  # both start under valgrind at once: several seconds each
        starting = [pool.submit(bare_server, folder, under),
                    pool.submit(Server, folder, url, command=[*under, sys.executable, "-m", "gateway.cli", "serve"])]
    started = [each.result() for each in starting if each.exception() is None]
    if len(started) < len(starting):
        for server in started:
            server.stop()
        raise next(error for each in starting if (error := each.exception()) is not None)
    bare, gateway = started
    try:
        per_call = asyncio.run(instructions.count(
            {"a0": bare.process.pid, "a": gateway.process.pid, "b": gateway.process.pid},
            {"a0": bare.port, "a": gateway.port, "b": gateway.port}, folder / "certs", args.instructions, out,
            lambda n: claim(n % args.grantors)))
    finally:
        for server in (gateway, bare):
            server.stop()
    return instructions.report(per_call, args.instructions, loops([bare, gateway]))


def _in_all(result: Result) -> float:
    """A call's CPU: the servers', the client's and the database's."""
    return max(result.server_cpu_us + result.client_cpu_us + (result.database_cpu_us or 0.0), 1.0)


def _us(allowed: float) -> str:
    return f"{allowed:,.0f} us" if allowed > 0 else "none"


def _database_us(result: Result, before: str = "") -> str:
    """The database server's CPU per call, if it was measured (a PostgreSQL server on this machine)."""
    return "" if result.database_cpu_us is None else f"{before}{result.database_cpu_us:.0f}"


def _load_windows(engine: Engine, args: argparse.Namespace) -> list[date]:
    """Past clearing windows for case (e), one per turn: days that ended less than the server's week of grace
    ago, the oldest first (windows close in order)."""
    if not 1 <= args.rounds <= 6:
        raise SystemExit("case (e) closes a window of the last week in each turn: use --rounds 1 to 6, "
                         "or --window-lines 0")
    today = window_of(datetime.now(timezone.utc))
    days = [today - timedelta(days=args.rounds + 1 - k) for k in range(args.rounds)]
    print(f"loading {args.rounds} clearing windows of {args.window_lines:,} lines for case (e)", flush=True)
    for day in days:
        clearing.load(engine, args.window_lines, day)
    return days


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="copay-gateway bench",
        description="Measure the real server (a subprocess over mTLS, on a SQLite file or --database-url) with an "
                    "asyncio gRPC client keeping N calls in flight (or, with --rate, at a fixed arrival rate): "
                    "(a0) a bare grpc.aio echo, what gRPC alone costs; (a) the gateway's echo, the ceiling; (b) "
                    "settle over many grantors; (c) settle against one grantor; (d) (b) again after a large "
                    "history; (e) (b) while an operator closes and reads clearing windows. Prints calls per "
                    "second, p50, p99 and p99.9 latency, the shares of the echo ceilings and CPU time per call.")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per case (default: 10)")
    parser.add_argument("--warmup", type=float, default=2,
                        help="warm-up seconds before a case's first turn (default: 2)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="cases take turns this many times, each turn measured seconds/rounds (default: 5)")
    parser.add_argument("--in-flight", type=int, default=64,
                        help="calls the client keeps in flight at once (default: 64)")
    parser.add_argument("--grantors", type=int, default=10_000,
                        help="funded grantors with active bindings loaded before the cases; cases (b) and (d) "
                             "spread their calls over them (default: 10000)")
    parser.add_argument("--prior", type=int, default=1_000_000,
                        help="prior settlements for case (d); 0 skips it (default: 1000000)")
    parser.add_argument("--rate", type=float, metavar="R",
                        help="open loop: start R calls a second, whatever is in flight, and count latency from "
                             "each call's due time; runs (a0), (a) and (b) only")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="N gateway processes on the one database (needs --database-url), the client's "
                             "calls spread over them round robin; figures are their total (default: 1)")
    parser.add_argument("--window-lines", type=int, default=200_000,
                        help="lines in each past clearing window loaded for case (e), which closes one per turn "
                             "while it settles; 0 skips it (default: 200000)")
    parser.add_argument("--workdir", help="keep the database and logs here (default: a temporary folder)")
    parser.add_argument("--database-url", help="an empty database to use instead of a SQLite file in the workdir, "
                        "e.g. postgresql+psycopg://postgres@127.0.0.1/bench")
    parser.add_argument("--instructions", type=int, metavar="N",
                        help="instead of the timed cases: the servers' own instructions a call of (a0), (a) and "
                             "(b), N calls one at a time, counted by valgrind (the same from run to run, unlike "
                             "CPU time: for a before and after)")
    parser.add_argument("--clearing-lines", type=int, metavar="N",
                        help="instead of the cases: load a clearing window of N lines into the (empty) database, "
                             "then time its close, a statement and a region's detail")
    args = parser.parse_args(argv)
    folder = Path(args.workdir or tempfile.mkdtemp(prefix="copay-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.clearing_lines:
        engine = make_engine(args.database_url or f"sqlite:///{folder / 'clearing.db'}")
        upgrade(engine)
        print(clearing.measure(engine, args.clearing_lines))
        engine.dispose()
        return
    init_dev_pki(folder / "certs")
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(members)).scalar():
            raise SystemExit(f"{engine.url.render_as_string(hide_password=True)} already holds members; "
                             "the benchmark needs an empty database")
    hasher = IdHasher(bytes.fromhex((folder / "certs" / "id-hash.key").read_text()))
    print(f"loading {args.grantors:,} funded grantors with active bindings into {folder}", flush=True)
    world.load_pairs(engine, args.grantors, hasher)
    register_regions(engine, [r for r in REGIONS if r.admdvs == world.REGION])
    if args.instructions:
        print(count_instructions(folder, url, args))
        engine.dispose()
        return
    servers: dict[str, Server | Fleet] = {}
    if args.rate:  # open loop: the ceilings and (b)
        args.prior = args.window_lines = 0
    if args.processes > 1 and engine.dialect.name == "sqlite":
        raise SystemExit("--processes needs --database-url: one gateway process serves a SQLite file")
    days_to_close = _load_windows(engine, args) if args.window_lines else []
    if args.prior and engine.dialect.name == "sqlite":  # (d) on a copy that gets the history, in turns with (b)
        history = folder / "history.db"
        raw = engine.raw_connection()  # outside any transaction, which VACUUM needs
        try:
            raw.driver_connection.execute("VACUUM INTO ?", (str(history),))  # type: ignore[union-attr]
        finally:
            raw.close()
        history_engine = make_engine(f"sqlite:///{history}")
        print(f"loading {args.prior:,} prior settlements into a copy", flush=True)
        world.load_history(history_engine, args.prior, args.grantors)
        history_engine.dispose()
        servers["d"] = Server(folder, f"sqlite:///{history}", "server-d")
    server = Fleet([Server(folder, url, f"server-{k}") for k in range(args.processes)]) if args.processes > 1 \
        else Server(folder, url)
    gateway_cases = ("a", "b") if args.rate else ("a", "b", "c", *(("e",) if days_to_close else ()))
    servers = {"a0": bare_server(folder), **{case: server for case in gateway_cases}, **servers}
    database = DatabaseServer.of(engine)
    try:
        first = asyncio.run(run_cases(servers, folder / "certs", args, database, windows_to_close=days_to_close))
    finally:  # a failed run leaves no server behind either
        for running in set(servers.values()):
            running.stop()
    wire = asyncio.run(on_the_wire(folder, url, args)) if engine.dialect.name != "sqlite" else ""
    second: dict[str, Result] = {}
    if args.prior and "d" not in servers:  # another engine: (d) later, in place, beside an echo of its own
        print(f"loading {args.prior:,} prior settlements", flush=True)
        world.load_history(engine, args.prior, args.grantors)
        server = Server(folder, url)
        second = asyncio.run(run_cases({"a": server, "d": server}, folder / "certs", args, database,
                                       ceiling="(a) echo again, in turns with (d)"))
        server.stop()
    print(report(first, second, args, engine.dialect.name, loops(servers.values())))
    if wire:
        print(wire)
    print(f"(database: {engine.url.render_as_string(hide_password=True)})")
    engine.dispose()
