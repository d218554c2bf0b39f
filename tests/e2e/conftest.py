"""The real gateway: ``python -m gateway.cli serve`` in a subprocess on
127.0.0.1, ephemeral ports, real mTLS with the dev PKI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from gateway._proto.copay.v1 import members_pb2_grpc
from gateway.seed import register_regions
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from tests.conftest import BACKENDS

STARTUP_SECONDS = 30
WITH_PGBOUNCER = pytest.mark.parametrize("shared_database", [*BACKENDS, "pgbouncer"], indirect=True, scope="module")


@dataclass
class Gateway:
    process: subprocess.Popen
    log_path: Path
    pki: Path
    database_url: str
    address: str = ""
    metrics_port: int = 0
    console_port: int = 0
    channels: list[grpc.Channel] = field(default_factory=list)

    def channel(self, cert: str | None = "region-320300", ca: str = "ca.pem") -> grpc.Channel:
        creds = grpc.ssl_channel_credentials(
            root_certificates=(self.pki / ca).read_bytes(),
            private_key=(self.pki / f"{cert}-key.pem").read_bytes() if cert else None,
            certificate_chain=(self.pki / f"{cert}.pem").read_bytes() if cert else None)
        channel = grpc.secure_channel(self.address, creds, options=[("grpc.ssl_target_name_override", "localhost")])
        self.channels.append(channel)
        return channel

    def members(self, cert: str | None = "region-320300") -> members_pb2_grpc.MembersServiceStub:
        return members_pb2_grpc.MembersServiceStub(self.channel(cert))

    def log(self) -> str:
        return self.log_path.read_text()

    def writer_pid(self) -> int:
        """The SQLite writer process's id, from its start-up log line."""
        for line in self.log().splitlines():
            if '"msg": "database writer started"' in line:
                return json.loads(line)["pid"]
        raise AssertionError("no writer process (PostgreSQL?)")

    def calls(self, *request_ids: str, timeout: float = 5.0) -> list[dict]:
        """The JSON log lines of calls with these request ids, waiting for them: a refused call's
        status reaches the client before the gateway writes its log line."""
        deadline = time.monotonic() + timeout
        while True:
            entries = [json.loads(line) for line in self.log().splitlines() if '"msg": "rpc"' in line]
            found = [e for e in entries if e.get("request_id") in request_ids]
            if len(found) >= len(request_ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def logged(self, method: str, code: str, after: int = 0, timeout: float = 5.0) -> list[dict]:
        """The JSON log lines about ``method`` past the log's first ``after`` lines, waiting until one of them
        is the ``rpc`` line of a call that ended ``code`` (as ``calls``)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = [json.loads(line) for line in self.log().splitlines()[after:] if line.startswith("{")]
            found = [e for e in entries if e.get("method") == method]
            if any(e["msg"] == "rpc" and e.get("code") == code for e in found) or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def stop(self) -> int:
        for channel in self.channels:
            channel.close()
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)


def start_gateway(pki: Path, database_url: str, folder: Path, **env: str) -> Gateway:
    """Starts a gateway on a migrated database, with the sample regions registered LIVE."""
    engine = make_engine(database_url)
    upgrade(engine)
    register_regions(engine)
    engine.dispose()
    log_path = folder / f"gateway-{time.monotonic_ns()}.log"
    environment = {**os.environ, "COPAY_LISTEN": "127.0.0.1:0", "COPAY_METRICS_LISTEN": "127.0.0.1:0",
                   "COPAY_CONSOLE_LISTEN": "127.0.0.1:0", "COPAY_DATABASE_URL": database_url, "COPAY_CERTS_DIR": str(pki), **env}
    with log_path.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], stdout=out,
                                   stderr=subprocess.STDOUT, env=environment)
    gateway = Gateway(process, log_path, pki, database_url)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if line.startswith("{") and (entry := json.loads(line)).get("msg") == "listening":
                gateway.address, gateway.metrics_port = f"127.0.0.1:{entry['port']}", entry["metrics_port"]
                gateway.console_port = entry["console_port"]
                return gateway
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited with {process.returncode}:\n{log_path.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"gateway did not start in {STARTUP_SECONDS}s:\n{log_path.read_text()}")


@pytest.fixture(scope="module", params=BACKENDS)
def shared_database(request: pytest.FixtureRequest, pki: Path, tmp_path_factory: pytest.TempPathFactory):
    """Gateway processes sharing one database, and its engine: two on PostgreSQL, one on SQLite (one writer
    per file). The ledger's invariants are checked when the module is done. A module may also ask for
    "pgbouncer" (``WITH_PGBOUNCER``): two gateways on PostgreSQL through a PgBouncer in transaction pooling,
    their transactions sharing two server connections."""
    from tests.invariants import check_ledger

    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    url = f"sqlite:///{folder / 'copay.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("fresh_postgres")()
    bouncer = request.getfixturevalue("pgbouncer") if request.param == "pgbouncer" else None
    served = bouncer.url(url) if bouncer else url
    gateways = [start_gateway(pki, served, folder) for _ in range(1 if request.param == "sqlite" else 2)]
    engine = make_engine(url)
    yield gateways, engine
    for gw in gateways:
        gw.stop()
    if bouncer:  # the gateways' transactions did go through it
        assert bouncer.transactions(engine.url.database) >= 20
    check_ledger(engine)
    engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'copay.db'}"
    return request.getfixturevalue("fresh_postgres")()


@pytest.fixture(scope="module")
def gateway(pki: Path, backend_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One gateway per module and backend; tests use distinct person numbers and request ids."""
    upgrade(make_engine(backend_url))
    gw = start_gateway(pki, backend_url, tmp_path_factory.mktemp("gateway"))
    yield gw
    gw.stop()


def details(err: grpc.RpcError) -> tuple[error_details_pb2.ErrorInfo | None, list[tuple[str, str]]]:
    """The ErrorInfo and the (field, description) violations of a refused call."""
    status = rpc_status.from_call(err)
    info, violations = None, []
    for any_detail in status.details if status else []:
        if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_detail.Unpack(info)
        elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            any_detail.Unpack(bad)
            violations = [(v.field, v.description) for v in bad.field_violations]
    return info, violations
