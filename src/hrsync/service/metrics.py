"""What ``/metrics`` says, in Prometheus' text format: runs by outcome, changes by kind, API
calls, throttled answers and pacing waits by endpoint, the last success per integration, the
runs waiting their turn, the changes held as stalled, and notifications."""

from __future__ import annotations

import threading
import time
from collections import Counter as Counted
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hrsync.api.http import ZohoHttp
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
        self.kinds = Counter(
            "hrsync_changes_by_kind", "Changes of scheduled runs by kind and state",
            ["integration", "kind", "state"], registry=self.registry,
        )  # fmt: skip
        self.traffic = Traffic()
        self.registry.register(self.traffic)
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
        self.vendor_refused = Counter(
            "hrsync_vendor_webhook_refused",
            "HR systems' webhook deliveries refused, by vendor (\"\" when unknown) and reason",
            ["vendor", "reason"], registry=self.registry,
        )  # fmt: skip
        self.vendor_records = Counter(
            "hrsync_vendor_webhook_records",
            "Records named by HR systems' webhook deliveries taken: mapped to a person, unread "
            "yet (read before the next run), or refused as no record id",
            ["vendor", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.scim = Counter(
            "hrsync_scim_requests",
            "SCIM calls answered, by integration (\"\" when refused before it is known), "
            "method and status", ["integration", "method", "status"], registry=self.registry,
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
        self.traffic.ended(result)
        if result.outcome in ("succeeded", "partial"):  # the runs that planned
            self.stalled.labels(result.integration).set(result.stalled)
        if result.outcome == "succeeded":
            self.last_success.labels(result.integration).set(time.time())

    def watch(self, services: Sequence[ZohoHttp]) -> None:
        """The clients of the run that starts now: their calls count as they are made."""
        self.traffic.watch(services)

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


class Traffic(Collector):
    """Calls to Zoho, answers that began a lock period, and seconds paced, by endpoint group:
    those of the runs that ended, plus those the run in progress has made so far, so the
    counts move while a run goes on (and while it waits out a lock), not only at its end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ended: dict[str, Counted[str]] = {"calls": Counted(), "throttled": Counted()}
        self._waited: dict[str, float] = defaultdict(float)
        self._live: list[ZohoHttp] = []

    def watch(self, services: Sequence[ZohoHttp]) -> None:
        with self._lock:
            self._live = list(services)

    def ended(self, result: RunResult) -> None:
        """The run in progress ended: what it made moves to the ended runs' counts at once
        (the live clients', which count a run stopped mid-way too; else the result's)."""
        with self._lock:
            if self._live:
                calls, throttled, waited = _made(self._live)
            else:
                calls = Counted(dict(result.calls))
                throttled = Counted(dict(result.throttled))
                waited = dict(result.waited)
            self._add(calls, throttled, waited)
            self._live = []

    def _add(self, calls: Counted[str], throttled: Counted[str], waited: dict[str, float]) -> None:
        self._ended["calls"].update(calls)
        self._ended["throttled"].update(throttled)
        for endpoint, seconds in waited.items():
            self._waited[endpoint] += seconds

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            calls, throttled, waited = _made(self._live)
            calls.update(self._ended["calls"])
            throttled.update(self._ended["throttled"])
            for endpoint, seconds in self._waited.items():
                waited[endpoint] = waited.get(endpoint, 0.0) + seconds
        families = (
            ("hrsync_api_calls", "Calls to Zoho's APIs by endpoint group", calls),
            (
                "hrsync_api_throttled",
                "Answers from Zoho that said a limit was exceeded: each begins a lock period",
                throttled,
            ),
            (
                "hrsync_pacing_wait_seconds",
                "Seconds waited before calls to stay inside Zoho's limits, by endpoint group",
                waited,
            ),
        )
        for name, documentation, counted in families:
            family = CounterMetricFamily(name, documentation, labels=["endpoint"])
            for endpoint, value in sorted(counted.items()):
                family.add_metric([endpoint], value)
            yield family


def _made(services: Sequence[ZohoHttp]) -> tuple[Counted[str], Counted[str], dict[str, float]]:
    """What these clients have made so far (read while their run's thread goes on)."""
    calls: Counted[str] = Counted()
    throttled: Counted[str] = Counted()
    waited: dict[str, float] = defaultdict(float)
    for http in services:
        calls.update(_copy(http.calls))
        throttled.update(_copy(http.pacer.throttled))
        for endpoint, seconds in _copy(http.pacer.waited).items():
            waited[endpoint] += seconds
    return calls, throttled, dict(waited)


def _copy(counts: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a dict another thread may add a key to meanwhile."""
    while True:
        try:
            return dict(counts)
        except RuntimeError:  # it grew during the copy: copy again
            continue


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
