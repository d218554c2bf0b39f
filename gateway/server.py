"""The gRPC server: mTLS with client certificates required, reflection,
health, limits, and a graceful stop on SIGTERM. On SQLite the database work
runs in a writer process (gateway.store.sqlite.writer); if it dies, the server stops
with a non-zero exit code, for its supervisor to restart it."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from gateway import policies
from gateway._proto.copay.v1 import (accounts_pb2, accounts_pb2_grpc, admin_pb2, admin_pb2_grpc, bindings_pb2,
                                     clearing_pb2, clearing_pb2_grpc,
                                     bindings_pb2_grpc, exchange_pb2, exchange_pb2_grpc,
                                     diagnostics_pb2, diagnostics_pb2_grpc, members_pb2, members_pb2_grpc,
                                     policies_pb2, policies_pb2_grpc, settlements_pb2, settlements_pb2_grpc)
from gateway.api.accounts import AccountsServicer
from gateway.api.admin import AdminServicer
from gateway.api.admission import Admission
from gateway.api.bindings import BindingsServicer
from gateway.api.call_stack import CallStack, Limits
from gateway.api.clearing import ClearingServicer
from gateway.api.diagnostics import DiagnosticsServicer
from gateway.api.exchange import LocalExchangeServicer
from gateway.api.members import MembersServicer
from gateway.api.policies import PoliciesServicer
from gateway.api.runner import Runner, ThreadPoolRunner
from gateway.api.settlements import SettlementsServicer
from gateway.config import ConfigError, Settings
from gateway.domain.identity import IdHasher
from gateway.heap import freeze_startup_objects
from gateway.observability import logs, native
from gateway.observability.metrics import Metrics
from gateway.observability.probes import ProbeServer, Readiness
from gateway.store import unit_of_work
from gateway.security.crl import CrlFile
from gateway.service import admin, clearing, retention, traffic
from gateway.service.traffic import Counts
from gateway.service.ports import StoreUnavailable, UnitOfWorkFactory
from gateway.store.db import make_engine, make_loop_engine
from gateway.store.postgres.loop import LoopRunner
from gateway.store.sqlite.lock import SqliteFileLock
from gateway.store.migrate import upgrade
from gateway.store.sqlite.wire import share
from gateway.store.sqlite.writer_process import WriterProcess
from gateway.console.listener import Console, tls_context

log = logging.getLogger("copay.server")
SERVICES = tuple(service.full_name for module in (members_pb2, bindings_pb2, policies_pb2, accounts_pb2,
                                                 settlements_pb2, diagnostics_pb2, admin_pb2, exchange_pb2,
                                                 clearing_pb2)
                 for service in module.DESCRIPTOR.services_by_name.values())


HANDSHAKE_TIMEOUT_MS = 5_000  # a TLS handshake not done by then is dropped (gRPC's default: 120 s)
PRUNE_EVERY_SECONDS = 3600
CLOSE_EVERY_SECONDS = 60
READERS = 2  # threads (and connections) for long reads beside the writer process (SQLite) or the event loop
READERS_NICE = 10  # ... at a lower priority than serving calls and writing
CONSOLE_POOL = 2  # connections the operator console reads with (and as many more at peaks)
TRAFFIC_EVERY_SECONDS = 2.0  # how often a process adds its cross-province counts to the database
CONTROL_POLL_SECONDS = 0.25  # how often the server reads the operators' state's version (revocations, regions)


def channel_options(settings: Settings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        # A second process on the same port fails to bind instead of taking a share of the connections.
        ("grpc.so_reuseport", 0),
        ("grpc.max_allowed_incoming_connections", settings.max_connections),
        ("grpc.server_handshake_timeout_ms", HANDSHAKE_TIMEOUT_MS),
        # Keepalive: ping idle clients every minute; refuse clients that ping
        # more than once per 10 s (two strikes, then GOAWAY).
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.max_connection_idle_ms", 30 * 60_000),
        # Behind a TCP load balancer a client keeps the one connection it opened: after max_connection_age
        # (gRPC adds jitter) it is asked to reconnect, so N gateways share the load again after one restarts
        # or is added. Calls in flight finish (the longest stream ends within stream_max_seconds).
        ("grpc.max_connection_age_ms", _ms(settings.max_connection_age_seconds)),
        ("grpc.max_connection_age_grace_ms", _ms(settings.stream_max_seconds + 10)),
    ]


def _ms(seconds: float) -> int:
    """Milliseconds as gRPC takes them, a C int: at most about 24.8 days."""
    return min(int(seconds * 1000), 2**31 - 1)


def credentials(settings: Settings) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(settings.path("server-key.pem").read_bytes(), settings.path("server.pem").read_bytes())],
        root_certificates=settings.path("ca.pem").read_bytes(), require_client_auth=True)


async def serve(settings: Settings) -> int:
    """Serves until SIGTERM or SIGINT; returns the process exit code."""
    native.capture()
    tls = credentials(settings)
    hasher = IdHasher(settings.id_hash_key())
    try:
        engine = make_engine(settings.database_url, settings.db_pool_size, settings.sqlite_synchronous)
    except ValueError as error:
        raise ConfigError(f"COPAY_DATABASE_URL: {error}") from None
    sqlite = engine.dialect.name == "sqlite"
    lock = SqliteFileLock(settings.database_url)
    if sqlite and not lock.acquire():
        raise ConfigError(f"another gateway already serves {settings.database_url} (it holds {lock.path}); "
                          "one gateway process per SQLite file, several need PostgreSQL")
    upgrade(engine)
    loop = asyncio.get_running_loop()
    metrics = Metrics()
    stopping = asyncio.Event()
    in_force = policies.load()
    db: Runner
    if sqlite:
        engine.dispose()  # the writer process has the database to itself
        in_force = share("policies", in_force)  # the writer gets them once, at start
        db = writer = WriterProcess(settings.database_url, (in_force,), settings.log_level, metrics.observe_commit,
                                    stopping.set, settings.sqlite_synchronous)
        await writer.start()
        # Long reads (a window's detail, the sums before a close) beside the writer, not in it: WAL readers.
        engine = make_engine(settings.database_url, READERS, query_only=True)
        reads: Runner = ThreadPoolRunner(READERS, unit_of_work.factory(engine), nice=READERS_NICE)
    else:  # calls on the event loop itself; long reads in threads beside it, on the blocking engine
        on_loop = make_loop_engine(settings.database_url, settings.db_pool_size)
        db = LoopRunner(settings.db_pool_size, on_loop, unit_of_work.factory(on_loop))
        reads = ThreadPoolRunner(READERS, unit_of_work.factory(engine), nice=READERS_NICE)
    # The console's own small pool (read-only on SQLite): it can never hold the connections calls need.
    console_engine = make_engine(settings.database_url, CONSOLE_POOL, query_only=sqlite)

    admission = Admission()
    crl = CrlFile(Path(settings.crl_file), settings.path("ca.pem").read_bytes()) if settings.crl_file else None
    await follow_control(db, admission, metrics, crl)  # the first state is in place before any call
    readiness = Readiness(db, _instant_checks(db, stopping))
    await readiness.check()  # /readyz answers from what it found from the first request on
    limits = Limits(calls_per_principal=settings.max_calls_per_principal,
                    calls=settings.max_concurrent_rpcs - settings.max_streams, streams=settings.max_streams,
                    streams_per_principal=settings.max_streams_per_principal,
                    stream_max_seconds=settings.stream_max_seconds)
    # The call stack's budgets refuse first, each refusal logged and counted. gRPC's own limit refuses before
    # any handler runs, leaving no trace: twice as high, it stays for what the budgets do not see (a call to no
    # such method; a call whose handler is done and whose answer is still being sent).
    server = grpc.aio.server(options=channel_options(settings),
                             maximum_concurrent_rpcs=min(2 * settings.max_concurrent_rpcs, 2**31 - 1))
    stack = CallStack(metrics, limits, admission)  # every method, wrapped: the server's one handler
    members, accounts = MembersServicer(db, hasher), AccountsServicer(db, hasher)
    bindings = BindingsServicer(db, hasher, in_force)
    settlements = SettlementsServicer(db, hasher, in_force, metrics)
    members_pb2_grpc.add_MembersServiceServicer_to_server(members, stack)
    bindings_pb2_grpc.add_BindingsServiceServicer_to_server(bindings, stack)
    policies_pb2_grpc.add_PoliciesServiceServicer_to_server(PoliciesServicer(db, in_force), stack)
    accounts_pb2_grpc.add_AccountsServiceServicer_to_server(accounts, stack)
    settlements_pb2_grpc.add_SettlementsServiceServicer_to_server(settlements, stack)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(db, reads, hasher, in_force), stack)
    clearing_servicer = ClearingServicer(db, reads, hasher)
    clearing_pb2_grpc.add_ClearingServiceServicer_to_server(clearing_servicer, stack)
    exchange_pb2_grpc.add_LocalExchangeServiceServicer_to_server(
        LocalExchangeServicer(members, bindings, settlements, accounts, clearing_servicer), stack)
    diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(DiagnosticsServicer(), stack)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, stack)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(reflection.aio.ReflectionServicer(
        (*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME)), stack)
    server.add_generic_rpc_handlers((stack,))
    try:
        port = _bind(server, settings.listen, tls)
        probes = _serve_metrics(metrics, settings.metrics_listen, readiness)
        console = _serve_console(settings, unit_of_work.factory(console_engine), admission)
    except ConfigError:
        await db.shutdown()
        if reads is not db:
            await reads.shutdown()
        lock.release()
        raise
    await server.start()
    freeze_startup_objects()
    for name in ("", *SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = settings.listen.rpartition(":")[0]
    log.info("listening", extra={"fields": {
        "address": f"{host}:{port}", "port": port, "metrics_port": probes.port if probes else None,
        "console_port": console.port if console else None,
        "database": engine.url.render_as_string(hide_password=True), "services": list(SERVICES),
        "event_loop": type(loop).__module__.partition(".")[0]}})  # uvloop, or asyncio (COPAY_EVENT_LOOP)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    pruning = loop.create_task(prune_requests(db, settings.request_retention_days))
    counting = loop.create_task(record_traffic(db, metrics.traffic))
    closing = loop.create_task(close_windows(db, reads, timedelta(minutes=settings.clearing_grace_minutes)))
    following = loop.create_task(keep_following_control(db, admission, metrics, crl))
    checking = loop.create_task(readiness.run()) if probes is not None else None
    await stopping.wait()
    log.info("shutting down", extra={"fields": {"grace_seconds": settings.shutdown_grace_seconds}})
    pruning.cancel()
    counting.cancel()
    closing.cancel()
    following.cancel()
    if checking is not None:
        checking.cancel()  # /readyz answers 503 (shutting down) until the process exits
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.shutdown_grace_seconds)
    logs.sum_up()  # the calls' lines of the last second that were counted instead of written
    await flush_traffic(db, metrics.traffic)  # what the last calls counted
    await db.shutdown()
    if reads is not db:
        await reads.shutdown()
    engine.dispose()
    lock.release()
    if probes is not None:
        await loop.run_in_executor(None, probes.close)
    if console is not None:
        await loop.run_in_executor(None, console.close)
    console_engine.dispose()
    if not isinstance(db, WriterProcess):
        log.info("stopped")
        return 0
    log.info("stopped", extra={"fields": {"commits": db.batches, "units_of_work": db.units,
                                          "writer_exit_code": db.exit_code}})
    return 0 if db.exit_code == 0 else 1


def _bind(server: grpc.aio.Server, listen: str, tls: grpc.ServerCredentials) -> int:
    try:
        return server.add_secure_port(listen, tls)
    except RuntimeError:
        raise ConfigError(f"COPAY_LISTEN {listen} cannot be bound: the address is in use (another gateway?) "
                          "or not one of this machine's") from None


def _serve_console(settings: Settings, read_uow: UnitOfWorkFactory, admission: Admission) -> Console | None:
    """The operator console (gateway.console), in threads of its own."""
    if settings.console_listen == "off":
        return None
    try:
        return Console(settings.console_listen, read_uow, admission, lambda: tls_context(
            str(settings.path("server.pem")), str(settings.path("server-key.pem")), str(settings.path("ca.pem"))))
    except OSError as error:
        raise ConfigError(f"COPAY_CONSOLE_LISTEN {settings.console_listen} cannot be served: "
                          f"{error.strerror or error}") from None


def _serve_metrics(metrics: Metrics, listen: str, readiness: Readiness) -> ProbeServer | None:
    """/metrics, /healthz and /readyz (gateway.observability.probes), in a thread of their own."""
    if listen == "off":
        return None
    host, _, port = listen.rpartition(":")
    try:
        return ProbeServer(metrics.registry, readiness.failures, host, int(port))
    except OSError as error:
        raise ConfigError(f"COPAY_METRICS_LISTEN {listen} cannot be served: {error.strerror or error}") from None


def _instant_checks(db: Runner, stopping: asyncio.Event) -> dict[str, Callable[[], str | None]]:
    """The readiness checks that read a flag (any thread may run them); the database's are Readiness's own."""
    checks: dict[str, Callable[[], str | None]] = {
        "shutdown": lambda: "the gateway is shutting down" if stopping.is_set() else None}
    if isinstance(db, WriterProcess):
        writer = db
        checks["writer"] = lambda: None if writer.alive else "the SQLite writer process is not running"
    return checks


async def follow_control(db: Runner, admission: Admission, metrics: Metrics, crl: CrlFile | None) -> None:
    """Takes in the operators' state if its version moved, and the CRL file if it changed."""
    newer = await db(admin.control_if_newer, admission.control.version)
    if newer is not None:
        admission.control = newer
        metrics.observe_control(newer, datetime.now(timezone.utc))
        log.info("operators' state loaded", extra={"fields": {"version": newer.version,
                                                             "kill_switch": newer.kill_switch}})
    if crl is not None and crl.refresh():
        admission.crl = crl.revocations


async def keep_following_control(db: Runner, admission: Admission, metrics: Metrics, crl: CrlFile | None) -> None:
    """Every CONTROL_POLL_SECONDS: a change made on any gateway process applies here within a second."""
    while True:
        await asyncio.sleep(CONTROL_POLL_SECONDS)
        try:
            await follow_control(db, admission, metrics, crl)
        except StoreUnavailable:
            pass  # the next poll tries again; calls meanwhile are answered under the last state
        except Exception:  # noqa: BLE001
            log.exception("reading the operators' state failed; the last state stays in force")


async def close_windows(db: Runner, reads: Runner, grace: timedelta) -> None:
    """Every minute, closes the clearing windows whose day ended more than ``grace`` ago (gateway.service.clearing);
    with several processes, each window still closes once."""
    while True:
        try:
            tallies = await reads(clearing.tallies, clearing.last_due(grace))
            for window in await db(clearing.close_due, grace, None, tallies):
                log.info("clearing window closed", extra={"fields": {"window": window.day.isoformat(),
                                                                     "lines": window.lines, "net_paid_fen": window.fen}})
        except Exception:  # noqa: BLE001 - the next minute tries again; serving goes on
            log.exception("closing clearing windows failed")
        await asyncio.sleep(CLOSE_EVERY_SECONDS)


async def record_traffic(db: Runner, counts: Counts) -> None:
    """Every few seconds, adds this process's cross-province counts to the database (gateway.service.traffic)."""
    while True:
        await asyncio.sleep(TRAFFIC_EVERY_SECONDS)
        await flush_traffic(db, counts)


async def flush_traffic(db: Runner, counts: Counts) -> None:
    if not (taken := counts.take()):
        return
    try:
        await db(traffic.record, taken)
    except Exception:  # noqa: BLE001 - kept for the next try; serving goes on
        counts.put_back(taken)
        log.exception("recording cross-province traffic failed")


async def prune_requests(db: Runner, retention_days: float) -> None:
    """Every hour, forgets answers older than the retention window (gateway.service.retention)."""
    while True:
        try:
            pruned = 0
            before = retention.cutoff(retention_days)
            while True:
                batch = await db(retention.forget_batch, before)
                pruned += batch
                if batch < retention.BATCH:
                    break
            if pruned:
                log.info("request log pruned", extra={"fields": {"requests": pruned,
                                                                 "retention_days": retention_days}})
        except Exception:  # noqa: BLE001 - the next hour tries again; serving goes on
            log.exception("pruning the request log failed")
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
