"""The live progress of the run ``hrsync serve`` has in hand, for the admin page: reading
HR and Zoho, then applying, with changes done, calls made and left, and an ETA by Zoho's
limits. Written by the scheduler's thread, read by the pages'."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hrsync.api.http import ZohoHttp
from hrsync.api.progress import call_status, calls_made
from hrsync.clock import Clock
from hrsync.sync.plan import Plan


class LiveProgress:
    """One run's progress (the ``Progress`` an apply reports to)."""

    def __init__(self, integration: str, services: Sequence[ZohoHttp], clock: Clock) -> None:
        self.integration = integration
        self.services = list(services)
        self.clock = clock
        self.started = clock.now()
        self._lock = threading.Lock()
        self._planned: dict[str, int] = {}
        self._baseline: Counter[str] = Counter()
        self._total = 0
        self._done = 0
        self._phase = "reading"  # reading HR and Zoho | applying

    def start(self, plan: Plan) -> None:
        with self._lock:
            self._planned = plan.api_calls()
            self._baseline = calls_made(self.services)
            self._total = len(plan.changes)
            self._phase = "applying"

    def advance(self, changes: int, note: str) -> None:
        with self._lock:
            self._done += changes

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            phase, done, total = self._phase, self._done, self._total
            planned, baseline = dict(self._planned), Counter(self._baseline)
        if phase == "reading":
            made = sum(calls_made(self.services).values())
            left, eta = 0, 0.0
        else:
            status = call_status(self.services, planned, baseline)
            made, left, eta = status.made, status.left, status.eta_seconds
        return {
            "integration": self.integration,
            "phase": phase,
            "changes_done": done,
            "changes_total": total,
            "calls_made": made,
            "calls_left": left,
            "eta_seconds": round(eta, 1),
            "running_seconds": round(self.clock.now() - self.started, 1),
            "waiting": self.waiting(),
        }

    def waiting(self) -> dict[str, Any] | None:
        """The wait for one of Zoho's limits the run is in now: the endpoint group, when the
        wait ends (epoch seconds, and as the page says it) and the sentence; None when the
        run is not waiting."""
        waits = [http.pacer.waiting for http in self.services if http.pacer.waiting]
        if not waits:
            return None
        endpoint, until = max(waits, key=lambda wait: wait[1])  # the longest says when
        at = dt.datetime.fromtimestamp(until, dt.UTC).strftime("%H:%M:%S UTC")
        return {
            "endpoint": endpoint,
            "until": round(until, 1),
            "said": f"waiting for Zoho's limit on {endpoint} until {at}",
        }
