"""Prometheus metrics, on the gateway's own registry (served by gateway.observability.probes).

Calls are counted under the names that gRPC dashboards and alerts expect, as
grpc-ecosystem/go-grpc-prometheus and py-grpc-prometheus publish them:
``grpc_server_started_total``, ``grpc_server_handled_total`` (with
``grpc_code``, the status code's name), the ``grpc_server_handling_seconds``
histogram and ``grpc_server_msg_received_total`` / ``grpc_server_msg_sent_total``,
each labelled ``grpc_type`` (unary, server_stream, client_stream, bidi_stream),
``grpc_service`` (``copay.v1.MembersService``) and ``grpc_method`` (``GetMember``).
As in those libraries, a unary call receives one message and sends one if it
ends OK. Labels are declared in alphabetical order, so the exposition reads as
the Go exporter's does. What is ours alone is named ``copay_*``: refusals by
reason and rule, calls in flight, money settled and refunded, the operators'
switches, the SQLite writer's commits.

Also on the registry: the process (``process_*``: CPU, memory, open files) and
the Python runtime (``python_info``, ``python_gc_*``).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import OrderedDict
from itertools import accumulate
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Iterator

from prometheus_client import (CollectorRegistry, Counter, GCCollector, Gauge, Histogram, PlatformCollector,
                               ProcessCollector, disable_created_metrics)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from gateway.domain.errors import Refusal
from gateway.domain.rollout import Control
from gateway.service.traffic import Counts

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
GRPC_TYPES = ("unary", "server_stream", "client_stream", "bidi_stream")
CALL_STARTED_US: ContextVar[int] = ContextVar("call_started_us", default=0)
"""When the current call started (wall clock, microseconds since the epoch): set by the call stack, read by
``observe_settled`` and ``observe_refunded`` to tell money moved by this call from a replayed answer."""
disable_created_metrics()  # no *_created series beside each counter and histogram (as the Go exporter)
REMEMBERED = 4096  # settlements and refunds counted lately, so that a racing copy of a request is not counted again


def split_method(method: str) -> tuple[str, str]:
    """``/copay.v1.MembersService/GetMember`` -> ``("copay.v1.MembersService", "GetMember")``."""
    service, _, name = method.lstrip("/").rpartition("/")
    return service or "unknown", name


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.traffic = Counts()  # the cross-province counts per minute, for the operator console
        self.calls: list[RpcMetrics] = []  # one a method, read when /metrics is scraped (_CallCollector)
        r.register(_CallCollector(self.calls))
        self.refusals = Counter("copay_rpc_refusals", "Calls refused, by method, reason and rule (malformed "
                                "requests: reason MALFORMED_REQUEST)", ["method", "reason", "rule"], registry=r)

        self.revoked = Counter("copay_revoked_certificate_refusals", "Calls refused because the client "
                               "certificate is revoked", registry=r)
        self.settled_fen = Counter("copay_settled_fen", "Mutual aid paid by settlements made (fen), by use "
                                   "(a replayed answer is not counted again)", ["use"], registry=r)
        self.refunded_fen = Counter("copay_refunded_fen", "Mutual aid refunded by reversals made (fen), by use of "
                                    "the settlement", ["use"], registry=r)
        self.cross_province = Counter("copay_cross_province_settlements", "Cross-province settlements by province "
                                      "pair (grantor's province to the other's) and outcome (allowed, or the reason "
                                      "refused)", ["grantor_province", "other_province", "outcome"], registry=r)
        self.pair_open = Gauge("copay_province_pair_open", "1 if the pair is open now (switch, schedule and kill "
                               "switch), else 0", ["grantor_province", "other_province"], registry=r)
        self.kill_switch = Gauge("copay_kill_switch_pulled", "1 while the kill switch stops all cross-province "
                                 "mutual aid", registry=r)
        self.commit_units = Histogram("copay_db_commit_units", "Calls per SQLite commit (the writer's batches)",
                                      buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r)
        self.commit_latency = Histogram("copay_db_commit_seconds", "Time one SQLite commit of a batch took",
                                        buckets=LATENCY_BUCKETS, registry=r)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self._counted: OrderedDict[tuple[str, int], None] = OrderedDict()

    def rpc(self, method: str, grpc_type: str) -> "RpcMetrics":
        """The metrics of one method (its labels bound once; the call stack keeps one per method)."""
        assert grpc_type in GRPC_TYPES, grpc_type
        return RpcMetrics(self, method, grpc_type)

    def observe_commit(self, units: int, seconds: float) -> None:
        self.commit_units.observe(units)
        self.commit_latency.observe(seconds)

    def observe_settled(self, settlement: Any) -> None:
        """A Settle answered OK (a ``copay.v1.Settlement``): counts what mutual aid paid, unless the answer is
        a replay of one given before (its settlement was made before this call started) or was counted already."""
        made_us = settlement.create_time.ToMicroseconds()
        if made_us >= CALL_STARTED_US.get() and self._first_time(settlement.name, 0):
            self.settled_fen.labels(_use(settlement)).inc(settlement.mutual_aid_fen)

    def observe_refunded(self, settlement: Any) -> None:
        """A ReverseSettlement answered OK: counts the refund this call made (the settlement's latest), unless the
        answer is a replay of one given before."""
        if not settlement.refunds:
            return
        latest = max(settlement.refunds, key=lambda refund: refund.time.ToMicroseconds())
        made_us = latest.time.ToMicroseconds()
        if made_us >= CALL_STARTED_US.get() and self._first_time(settlement.name, made_us):
            self.refunded_fen.labels(_use(settlement)).inc(latest.amount_fen)

    def _first_time(self, name: str, at: int) -> bool:
        key = (name, at)
        if key in self._counted:
            return False
        self._counted[key] = None
        if len(self._counted) > REMEMBERED:
            self._counted.popitem(last=False)
        return True

    def observe_control(self, control: Control, now: datetime) -> None:
        """The operators' state as gauges: each pair's switch and the kill switch."""
        self.kill_switch.set(1 if control.kill_switch else 0)
        for (grantor_province, other_province), pair in control.pairs.items():
            self.pair_open.labels(grantor_province, other_province).set(
                1 if pair.open_at(now) and not control.kill_switch else 0)

    def observe_crossings(self, pairs: set[tuple[str, str]], outcome: str) -> None:
        for grantor_province, other_province in pairs:
            self.cross_province.labels(grantor_province, other_province, outcome).inc()
            self.traffic.add(grantor_province, other_province, outcome)


class RpcMetrics:
    """One method's call metrics. Each call: ``started()`` once, ``received()``/``sent()`` per message of a
    stream, ``handled()`` once when its status is known. Runs on the event loop only, so the counts are plain
    numbers, not Prometheus' locked values (seven updates a call): ``_CallCollector`` reads them when scraped."""

    def __init__(self, metrics: Metrics, method: str, grpc_type: str) -> None:
        service, name = split_method(method)
        self._metrics, self._method, self.labels = metrics, method, (name, service, grpc_type)
        self.started_count = self.received_count = self.sent_count = self.in_flight = 0
        self.handled_counts: dict[str, int] = {}
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # calls per latency bucket, the last one +Inf
        self.seconds = 0.0
        self._one_in = grpc_type in ("unary", "server_stream")  # one request message, counted at the start
        self._one_out = grpc_type in ("unary", "client_stream")  # one response message, if it ends OK
        metrics.calls.append(self)

    def started(self) -> None:
        CALL_STARTED_US.set(time.time_ns() // 1000)
        self.started_count += 1
        self.in_flight += 1
        if self._one_in:
            self.received_count += 1

    def received(self) -> None:
        self.received_count += 1

    def sent(self) -> None:
        self.sent_count += 1

    def handled(self, code: str, seconds: float, refusal: Refusal | None = None) -> None:
        self.handled_counts[code] = self.handled_counts.get(code, 0) + 1
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.seconds += seconds
        self.in_flight -= 1
        if self._one_out and code == "OK":
            self.sent_count += 1
        if refusal is not None:
            self._metrics.refusals.labels(self._method, refusal.reason, refusal.rule or "").inc()
            if refusal.reason == "CERTIFICATE_REVOKED":
                self._metrics.revoked.inc()


class _CallCollector:
    """The grpc_server_* families and copay_rpc_in_flight, from the methods' plain counts at scrape time (another
    thread reads what the event loop writes: each number is read whole, a scrape may see one call half counted)."""

    def __init__(self, calls: list[RpcMetrics]) -> None:
        self._calls = calls

    def collect(self) -> Iterator[Any]:
        call = ["grpc_method", "grpc_service", "grpc_type"]
        started = CounterMetricFamily("grpc_server_started", "RPCs started on the server", labels=call)
        handled = CounterMetricFamily("grpc_server_handled", "RPCs completed on the server, whatever their status "
                                      "(grpc_code: the status code's name)", labels=["grpc_code", *call])
        handling = HistogramMetricFamily("grpc_server_handling_seconds", "Time from the start of an RPC to its "
                                         "status, as the server sees it", labels=call)
        received = CounterMetricFamily("grpc_server_msg_received", "Request messages received (a unary call: "
                                       "one)", labels=call)
        sent = CounterMetricFamily("grpc_server_msg_sent", "Response messages sent (a unary call: one if it ends "
                                   "OK)", labels=call)
        in_flight = GaugeMetricFamily("copay_rpc_in_flight", "RPCs started and not yet completed (streams "
                                      "included)", labels=["grpc_method", "grpc_service"])
        for rpc in list(self._calls):
            labels = list(rpc.labels)
            started.add_metric(labels, rpc.started_count)
            for code, count in sorted(dict(rpc.handled_counts).items()):
                handled.add_metric([code, *labels], count)
            cumulative = list(accumulate(rpc.buckets))
            handling.add_metric(labels, [(floatToGoString(bound), count) for bound, count in
                                         zip((*LATENCY_BUCKETS, float("inf")), cumulative)], rpc.seconds)
            received.add_metric(labels, rpc.received_count)
            sent.add_metric(labels, rpc.sent_count)
            in_flight.add_metric(labels[:2], rpc.in_flight)
        yield from (started, handled, handling, received, sent, in_flight)


def _use(settlement: Any) -> str:
    """The settlement's use as the API names it (``USE_OUTPATIENT``)."""
    try:
        return settlement.DESCRIPTOR.fields_by_name["use"].enum_type.values_by_number[settlement.use].name
    except KeyError:
        return str(settlement.use)
