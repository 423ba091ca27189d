"""How a run of ``hrsync serve`` stops: when the service stops (SIGTERM), before its next
call to Zoho, and when another worker took its integration over, at once, even in the middle
of a pacing wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from hrsync.clock import RealClock
from hrsync.errors import RunStopped
from hrsync.service.claims import LeaseLost

SLICE = 0.25  # seconds of a pacing wait between looks at the run's lease


class Stopping(RunStopped):
    """The service is stopping: the run ends before its next call (never swallowed as a
    change's failure, like a kill)."""


class StoppableClock(RealClock):
    """Wall-clock time whose waits (Zoho's pacing) end at once when the service stops, or
    when the run's lease is found ``lost`` to another worker (looked at every ``SLICE``)."""

    def __init__(self, stop: threading.Event, lost: Callable[[], bool] = lambda: False) -> None:
        self._stop, self._lost = stop, lost

    def sleep(self, seconds: float) -> None:
        until = time.monotonic() + max(0.0, seconds)
        while True:
            if self._lost():
                raise LeaseLost("another worker took this integration over while this run waited")
            left = until - time.monotonic()
            if self._stop.wait(max(0.0, min(left, SLICE))):
                raise Stopping
            if left <= SLICE:
                return


class StopGate(httpx.BaseTransport):
    """Lets no new call go out once the service is stopping; the call in flight finishes."""

    def __init__(self, inner: httpx.BaseTransport, stop: threading.Event) -> None:
        self.inner, self.stop = inner, stop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.stop.is_set():
            raise Stopping
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
