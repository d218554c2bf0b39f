"""Prometheus metrics on their own HTTP port (localhost by default)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from gateway.domain.errors import Refusal
from gateway.domain.rollout import Control

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter("copay_rpc_calls", "RPCs handled, by method and status code",
                             ["method", "code"], registry=self.registry)
        self.latency = Histogram("copay_rpc_latency_seconds", "RPC latency, by method and status code",
                                 ["method", "code"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.refusals = Counter("copay_rpc_refusals", "Calls refused, by method, reason and rule (malformed "
                                "requests: reason MALFORMED_REQUEST)", ["method", "reason", "rule"],
                                registry=self.registry)

        self.revoked = Counter("copay_revoked_certificate_refusals", "Calls refused because the client "
                               "certificate is revoked", registry=self.registry)
        self.cross_province = Counter("copay_cross_province_settlements", "Cross-province settlements by province "
                                      "pair (grantor's province to the other's) and outcome (allowed, or the reason "
                                      "refused)", ["grantor_province", "other_province", "outcome"],
                                      registry=self.registry)
        self.pair_open = Gauge("copay_province_pair_open", "1 if the pair is open now (switch, schedule and kill "
                               "switch), else 0", ["grantor_province", "other_province"], registry=self.registry)
        self.kill_switch = Gauge("copay_kill_switch_pulled", "1 while the kill switch stops all cross-province "
                                 "mutual aid", registry=self.registry)
        self.commit_units = Histogram("copay_db_commit_units", "Calls per SQLite commit (the writer's batches)",
                                      buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=self.registry)
        self.commit_latency = Histogram("copay_db_commit_seconds", "Time one SQLite commit of a batch took",
                                        buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe_commit(self, units: int, seconds: float) -> None:
        self.commit_units.observe(units)
        self.commit_latency.observe(seconds)

    def observe(self, method: str, code: str, seconds: float, refusal: Refusal | None = None) -> None:
        self.calls.labels(method, code).inc()
        self.latency.labels(method, code).observe(seconds)
        if refusal is not None:
            self.refusals.labels(method, refusal.reason, refusal.rule or "").inc()
            if refusal.reason == "CERTIFICATE_REVOKED":
                self.revoked.inc()

    def observe_control(self, control: Control, now: datetime) -> None:
        """The operators' state as gauges: each pair's switch and the kill switch."""
        self.kill_switch.set(1 if control.kill_switch else 0)
        for (grantor_province, other_province), pair in control.pairs.items():
            self.pair_open.labels(grantor_province, other_province).set(
                1 if pair.open_at(now) and not control.kill_switch else 0)

    def observe_crossings(self, pairs: set[tuple[str, str]], outcome: str) -> None:
        for grantor_province, other_province in pairs:
            self.cross_province.labels(grantor_province, other_province, outcome).inc()

    def serve(self, host: str, port: int) -> int:
        """Starts the /metrics endpoint; returns the bound port (``port`` may be 0)."""
        httpd, _thread = start_http_server(port, addr=host, registry=self.registry)
        return httpd.server_address[1]
