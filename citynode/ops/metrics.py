"""Prometheus metrics of one node (`GET /metrics`, through `prometheus-client`).

Each app has its own `CollectorRegistry` (tests run several nodes in one process; the global
default registry would mix them). Two kinds of metric:

- measured on the request path: request latency histograms by route (the route's pattern, never
  the raw path, so the label set stays bounded), search latency, requests by status;
- read at scrape time from the node's state (`Snapshot`): current records by origin, per-peer
  sync lag and last success, rejected records (by reason and peer) and refused requests (by
  reason), every change-log follower's lag (search index, SPARQL store, ...: the app's
  FOLLOWINGS list), the sync worker's queue, push notices and outbound requests, and the
  process's memory and open files.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Final

import msgspec
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

#: Request latency buckets in seconds: most answers take milliseconds, a slow page a second.
LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
#: Routes whose latency is also search latency (local search, live search, a peer's search).
SEARCH_ROUTES: Final = frozenset({"/api/search", "/search", "/search.atom", "/fed/v1/search"})


class PeerState(msgspec.Struct, frozen=True, kw_only=True):
    did: str
    city: str
    state: str
    lag_records: int
    lag_seconds: float
    last_success: float | None
    failures: int


class FollowerState(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    entries: int
    seconds: float
    running: bool


class Snapshot(msgspec.Struct, kw_only=True):
    """The node's state at one scrape (gathered by the handler, which can await)."""

    records_by_origin: dict[tuple[str, str], int] = {}
    peers: list[PeerState] = []
    #: (reason, peer DID) -> records rejected at ingest.
    rejected_records: dict[tuple[str, str], int] = {}
    #: reason -> requests refused (4xx that are the client's fault, rate limits, slow clients).
    refused_requests: dict[str, int] = {}
    followers: list[FollowerState] = []
    sync_queue: int = 0
    push_notices: dict[str, int] = {}
    outbound: dict[str, int] = {}


class _StateCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        records = GaugeMetricFamily(
            "citynode_records", "Current records held, by origin node", labels=["origin", "city"]
        )
        for (origin, city), count in sorted(s.records_by_origin.items()):
            records.add_metric([origin, city], count)
        yield records

        lag = GaugeMetricFamily(
            "citynode_peer_lag_records",
            "Records a peer's feed holds beyond our cursor (an upper bound)",
            labels=["peer", "city"],
        )
        lag_s = GaugeMetricFamily(
            "citynode_peer_lag_seconds", "Seconds since we were last caught up with a peer",
            labels=["peer", "city"],
        )  # fmt: skip
        success = GaugeMetricFamily(
            "citynode_peer_last_success_timestamp_seconds",
            "Unix time of the last successful pull from a peer",
            labels=["peer", "city"],
        )
        failures = GaugeMetricFamily(
            "citynode_peer_failures", "Consecutive failed pulls", labels=["peer", "city"]
        )
        state = GaugeMetricFamily(
            "citynode_peer_state", "1 for the state each peer is in", labels=["peer", "state"]
        )
        for peer in s.peers:
            labels = [peer.did, peer.city]
            lag.add_metric(labels, peer.lag_records)
            lag_s.add_metric(labels, peer.lag_seconds)
            failures.add_metric(labels, peer.failures)
            if peer.last_success is not None:
                success.add_metric(labels, peer.last_success)
            state.add_metric([peer.did, peer.state], 1)
        yield from (lag, lag_s, success, failures, state)

        rejected = CounterMetricFamily(
            "citynode_rejected_records",
            "Records from peers refused at ingest, by reason",
            labels=["reason", "peer"],
        )
        for (reason, peer_did), count in sorted(s.rejected_records.items()):
            rejected.add_metric([reason, peer_did], count)
        yield rejected
        refused = CounterMetricFamily(
            "citynode_refused_requests", "Requests refused, by reason", labels=["reason"]
        )
        for reason, count in sorted(s.refused_requests.items()):
            refused.add_metric([reason], count)
        yield refused

        entries = GaugeMetricFamily(
            "citynode_follower_lag_entries",
            "Change-log entries a derived view (search index, SPARQL store...) has not applied",
            labels=["follower"],
        )
        seconds = GaugeMetricFamily(
            "citynode_follower_lag_seconds",
            "Seconds a derived view has been behind the change log",
            labels=["follower"],
        )
        running = GaugeMetricFamily(
            "citynode_follower_running", "1 while a follower's task runs", labels=["follower"]
        )
        for follower in s.followers:
            entries.add_metric([follower.name], follower.entries)
            seconds.add_metric([follower.name], follower.seconds)
            running.add_metric([follower.name], 1 if follower.running else 0)
        yield from (entries, seconds, running)

        queue = GaugeMetricFamily(
            "citynode_worker_queue_depth",
            "Work waiting for a worker: peers due for a pull and not yet started",
            labels=["worker"],
        )
        queue.add_metric(["sync"], s.sync_queue)
        yield queue
        yield _counter_family(
            "citynode_push_notices", "Push notices sent to peers", "outcome", s.push_notices
        )
        yield _counter_family(
            "citynode_outbound_requests",
            "Outbound requests and refusals of the guarded client, by kind",
            "kind",
            s.outbound,
        )


def _counter_family(name: str, text: str, label: str, values: dict[str, int]) -> Metric:
    family = CounterMetricFamily(name, text, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class Metrics:
    """One node's registry and the metrics measured on the request path."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Histogram(
            "citynode_http_request_duration_seconds",
            "Time to answer a request, by route pattern and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.responses = Counter(
            "citynode_http_responses",
            "Responses by route pattern and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.search = Histogram(
            "citynode_search_duration_seconds",
            "Time to answer a search, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.state = _StateCollector()
        self.registry.register(self.state)
        # Resident memory, CPU, open files of this process (the soak test reads these too).
        ProcessCollector(registry=self.registry)
        self.started = time.time()

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method).observe(seconds)
        self.responses.labels(route, str(status)).inc()
        if route in SEARCH_ROUTES:
            self.search.labels(route).observe(seconds)


def split_counters(
    counters: dict[str, dict[str, int]],
) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """`rejected.<code>` counters by source: a peer DID means a record refused at ingest
    (federation/ingest.py), anything else (a client address) a refused request."""
    records: dict[tuple[str, str], int] = {}
    by_reason: dict[str, int] = {}
    for name, by_source in counters.items():
        reason = name.split(".", 1)[1] if "." in name else name
        for source, value in by_source.items():
            if source.startswith("did:"):
                records[(reason, source)] = records.get((reason, source), 0) + value
            else:
                by_reason[reason] = by_reason.get(reason, 0) + value
    return records, by_reason
