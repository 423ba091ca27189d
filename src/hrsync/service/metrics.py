"""What ``/metrics`` says, in Prometheus' text format: runs by outcome, changes by kind, API
calls, throttled answers and pacing waits by endpoint, the last success per integration, the
runs waiting their turn, the changes held as stalled, and notifications."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from hrsync.service.scheduler import RunResult


class Metrics:
    """One registry per service, so tests and several services in a process stay apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
