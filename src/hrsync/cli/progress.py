"""Live progress of an apply, on standard error: a bar on a terminal, and without one (cron,
systemd, a pipe) a timestamped line every few seconds, even while Zoho's limits make it wait.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from hrsync.api.http import ZohoHttp
from hrsync.api.progress import call_status, calls_made
from hrsync.cli.output import errors
from hrsync.clock import Clock, RealClock
from hrsync.sync.plan import Plan

LINE_EVERY = 5.0  # seconds between progress lines without a terminal


class CallProgress:
    """Changes applied, API calls made and left, and a rate-limit ETA."""

    def __init__(
        self,
        services: Sequence[ZohoHttp],
        *,
        out: Console | None = None,
        clock: Clock | None = None,
        every: float = LINE_EVERY,
        ticking: bool = True,
    ) -> None:
        self.services = list(services)  # Cliq, and People or Connect when used
        self.out = out or errors
        self.clock = clock or RealClock()
        self.every = every
        self.baseline: Counter[str] = Counter()
        self.planned: dict[str, int] = {}
        self.total = 0
        self.done = 0
        self.last_line = float("-inf")
        self.bar: Progress | None = None
        self.task: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.out.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                # the terminal's own foreground, not rich's red-pink: nothing is wrong yet
                BarColumn(complete_style="default", finished_style="default"),
                TextColumn("{task.completed}/{task.total} changes"),
                TextColumn("{task.fields[calls]}"),
                console=self.out,
                transient=False,
            )
        elif ticking:
            self._ticker = threading.Thread(target=self._tick_until_stopped, daemon=True)

    def __enter__(self) -> CallProgress:
        if self.bar is not None:
            self.bar.__enter__()
        if self._ticker is not None:
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None and self._ticker.is_alive():
            self._ticker.join()
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.total:
            self._line("finished")

    def start(self, plan: Plan) -> None:
        self.planned = plan.api_calls()
        self.baseline = self._calls()  # reading both sides is done by now
        self.total = len(plan.changes)
        if self.bar is not None:
            self.task = self.bar.add_task("Applying", total=self.total, calls="")
        self._refresh(force=True)

    def advance(self, changes: int, note: str) -> None:
        if not self.total:
            return
        self.done += changes
        if self.bar is not None:
            self.bar.advance(self.task, changes)
        self._refresh()

    def tick(self) -> None:
        """A line if none came for a while (called every few seconds without a terminal)."""
        if self.total:
            self._refresh()
        elif not self.planned and self.clock.now() - self.last_line >= self.every:
            self._reading()

    def _reading(self) -> None:
        """Before the plan is known: HR and Zoho are being read (paced, so it can take long)."""
        self.last_line = self.clock.now()
        made = sum(self._calls().values())
        self.out.print(f"{self._stamp()} reading HR and Zoho: {made} calls made", highlight=False)

    def _tick_until_stopped(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()

    def _calls(self) -> Counter[str]:
        return calls_made(self.services)

    def _status(self) -> str:
        now = call_status(self.services, self.planned, self.baseline)
        return f"{now.made} calls made, {now.left} left, ETA {now.eta_seconds / 60:.1f} min"

    def _refresh(self, *, force: bool = False) -> None:
        if self.bar is not None:
            self.bar.update(self.task, calls=self._status())
        elif force or self.clock.now() - self.last_line >= self.every:
            self._line("applying")

    def _stamp(self) -> str:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _line(self, what: str) -> None:
        self.last_line = self.clock.now()
        self.out.print(
            f"{self._stamp()} {what}: {self.done}/{self.total} changes, {self._status()}",
            highlight=False,
            soft_wrap=True,
        )
