"""What ``/metrics`` says, in Prometheus' text format: runs by outcome, changes by kind, API
calls, throttled answers and pacing waits by endpoint, the last success per integration, the
runs waiting their turn, the changes held as stalled, and notifications."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hrsync.service.scheduler import RunResult


class Metrics:
    """One registry per service, so tests and several services in a process stay apart."""

    def __init__(self, store: StoreView | None = None) -> None:
        self.registry = CollectorRegistry()
        if store is not None:
            self.registry.register(FromStore(store))
        self.runs = Counter(
            "hrsync_runs", "Scheduled runs by outcome", ["integration", "outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.changes = Counter(
            "hrsync_changes", "Changes of scheduled runs by state", ["integration", "state"],
            registry=self.registry,
        )  # fmt: skip
        self.calls = Counter(
            "hrsync_api_calls", "Calls to Zoho's APIs by endpoint group", ["endpoint"],
            registry=self.registry,
        )  # fmt: skip
        self.kinds = Counter(
            "hrsync_changes_by_kind", "Changes of scheduled runs by kind and state",
            ["integration", "kind", "state"], registry=self.registry,
        )  # fmt: skip
        self.throttled = Counter(
            "hrsync_api_throttled",
            "Answers from Zoho that said a limit was exceeded: each begins a lock period",
            ["endpoint"], registry=self.registry,
        )  # fmt: skip
        self.waited = Counter(
            "hrsync_pacing_wait_seconds",
            "Seconds waited before calls to stay inside Zoho's limits, by endpoint group",
            ["endpoint"], registry=self.registry,
        )  # fmt: skip
        self.last_success = Gauge(
            "hrsync_last_success_timestamp_seconds",
            "When each integration's last run succeeded (Unix time)", ["integration"],
            registry=self.registry,
        )  # fmt: skip
        self.refused = Counter(
            "hrsync_webhook_refused", "HR event calls refused, by reason", ["reason"],
            registry=self.registry,
        )  # fmt: skip
        self.people = Counter(
            "hrsync_webhook_people",
            "People named by HR event calls taken: queued as events, or refused as no employee id",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.notifications = Counter(
            "hrsync_notifications", "Notifications by channel (cliq, email) and outcome",
            ["channel", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.stalled = Gauge(
            "hrsync_stalled_changes",
            "Changes held as pending actions: made 3 times, each reported done, and Cliq "
            "still differs", ["integration"], registry=self.registry,
        )  # fmt: skip
        self.queue = Gauge(
            "hrsync_queue_depth", "Integrations due and waiting for their run",
            registry=self.registry,
        )  # fmt: skip

    def record(self, result: RunResult) -> None:
        self.runs.labels(result.integration, result.outcome).inc()
        self.changes.labels(result.integration, "confirmed").inc(result.applied)
        self.changes.labels(result.integration, "failed").inc(result.failed)
        for kind, state, n in result.kinds:
            self.kinds.labels(result.integration, kind, state).inc(n)
        for endpoint, n in result.calls:
            self.calls.labels(endpoint).inc(n)
        for endpoint, n in result.throttled:
            self.throttled.labels(endpoint).inc(n)
        for endpoint, seconds in result.waited:
            self.waited.labels(endpoint).inc(seconds)
        if result.outcome in ("succeeded", "partial"):  # the runs that planned
            self.stalled.labels(result.integration).set(result.stalled)
        if result.outcome == "succeeded":
            self.last_success.labels(result.integration).set(time.time())

    def notified(self, channel: str, outcome: str) -> None:
        self.notifications.labels(channel, outcome).inc()

    def waiting(self, count: int) -> None:
        self.queue.set(count)

    def text(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(frozen=True)
class Seen:
    """What one scrape read of the store."""

    now: float
    locks: list[tuple[str, str, float]]  # (host, endpoint group, seconds left)
    runs: dict[tuple[str, str, str], int]  # (integration, mode, status) → runs
    queued: list[tuple[str, int, float]]  # (integration, events queued, oldest's arrival)
    settled: dict[tuple[str, str], int]  # (integration, state) → events kept so


StoreView = Callable[[], Seen]


class FromStore(Collector):
    """Read at each scrape from the store, so every process's work counts (a run from the
    command line, another worker's): the lock periods Zoho set, with the seconds left, the
    runs by outcome, and the HR events queued and settled."""

    def __init__(self, read: StoreView) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        try:
            seen = self.read()
        except Exception:  # the store is down: /readyz says so; the scrape goes on
            return
        locked = GaugeMetricFamily(
            "hrsync_api_locked_seconds",
            "Seconds left of a lock period Zoho set on an endpoint group (0 samples: none)",
            labels=["host", "endpoint"],
        )
        for host, endpoint, seconds in seen.locks:
            locked.add_metric([host, endpoint], seconds)
        yield locked
        recorded = GaugeMetricFamily(
            "hrsync_runs_recorded",
            "Runs in the store by integration, mode and status, from every process",
            labels=["integration", "mode", "status"],
        )
        for (integration, mode, status), count in sorted(seen.runs.items()):
            recorded.add_metric([integration, mode, status], count)
        yield recorded
        queued = GaugeMetricFamily(
            "hrsync_events_queued",
            "HR events waiting for a run (new ones, and failed ones waiting to be tried again)",
            labels=["integration"],
        )
        oldest = GaugeMetricFamily(
            "hrsync_events_oldest_age_seconds",
            "How long the oldest HR event still queued has waited",
            labels=["integration"],
        )
        for integration, count, arrived in seen.queued:
            queued.add_metric([integration], count)
            oldest.add_metric([integration], max(0.0, seen.now - arrived))
        yield queued
        yield oldest
        settled = GaugeMetricFamily(
            "hrsync_events_settled",
            "HR events of the last 7 days by what became of them: done, refused (no such "
            "person), held (the run was held) or failed (given up after 8 tries)",
            labels=["integration", "state"],
        )
        for (integration, state), count in sorted(seen.settled.items()):
            settled.add_metric([integration, state], count)
        yield settled
