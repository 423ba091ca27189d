"""A worker's hold on one integration for one run. The lease is claimed before the run,
renewed in the background while it goes on, and released after it; once the lease could
have expired (the worker was frozen, or could not reach the store, for longer than the lease)
no further call to Zoho goes out until a renewal says it is still this worker's, since another
worker may have taken the integration over. Once a renewal says it was taken over, the run
stops at once, even in the middle of a pacing wait.

Every worker also watches all the leases all the time (``LeaseWatch``), so one that a dead
worker let run out is taken over when it runs out, not when a worker next looks at its
schedules."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from hrsync.clock import Clock, RealClock
from hrsync.errors import RunStopped
from hrsync.store import Store
from hrsync.store.leases import Leases

log = logging.getLogger(__name__)
LOST = "the lease on this integration expired; another worker may run it"
LATE = 0.05  # seconds after a lease's end to look at it: by then it has surely run out


class LeaseLost(RunStopped):
    """This worker's lease on the integration expired or was taken over: the run ends before
    its next call and reads "stopped" (like a stop, never swallowed as one change's failure);
    if another worker took it over, its record is that worker's to keep."""


class Hold:
    """A claimed lease, renewed every third of its length until ``end``."""

    def __init__(self, leases: Leases, integration: str, *, since: float) -> None:
        self.leases, self.integration = leases, integration
        self.valid_until = since + leases.seconds  # on this machine's monotonic clock
        self.lost = threading.Event()  # a renewal said another worker has the lease now
        self._ended = threading.Event()
        self._renewing = threading.Lock()
        self._thread = threading.Thread(
            target=self._keep, name=f"hrsync-lease-{integration}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def end(self) -> None:
        self._ended.set()
        self._thread.join()

    def valid(self) -> bool:
        """Whether the lease is surely still ours (no other worker can have it yet). Past
        its length unrenewed (the worker was frozen, the store away), the store is asked
        first: the lease is still ours if nobody took it meanwhile."""
        if time.monotonic() < self.valid_until:
            return True
        if self.lost.is_set():
            return False
        try:
            self.renew()
        except Exception:  # the store is away: nothing proves the lease is still ours
            log.warning("the lease of %s could not be renewed", self.integration, exc_info=True)
        return time.monotonic() < self.valid_until

    def renew(self) -> None:
        """Renew the lease now; ``lost`` is set if another worker has it."""
        with self._renewing:
            if self.lost.is_set():
                return
            asked = time.monotonic()
            if self.leases.renew(self.integration):
                self.valid_until = asked + self.leases.seconds
                return
            self.valid_until = 0.0
            self.lost.set()
        log.error(
            "the lease of %s was taken over by another worker; this run stops",
            self.integration,
            extra={"integration": self.integration},
        )

    def _keep(self) -> None:
        while not self._ended.wait(self.leases.seconds / 3) and not self.lost.is_set():
            try:
                self.renew()
            except Exception:  # the store is away: tried again, the lease runs out meanwhile
                log.warning("the lease of %s could not be renewed", self.integration, exc_info=True)


@contextmanager
def held(leases: Leases, integration: str) -> Iterator[Hold | None]:
    """The lease on ``integration`` for the block, or None if another worker holds it."""
    since = time.monotonic()
    if not leases.claim(integration):
        yield None
        return
    hold = Hold(leases, integration, since=since)
    hold.start()
    try:
        yield hold
    finally:
        hold.end()
        try:
            leases.release(integration)
        except Exception:  # it expires by itself
            log.warning("the lease of %s could not be released", integration, exc_info=True)


class LeaseGate(httpx.BaseTransport):
    """Lets a call go out only while the run's lease is surely still this worker's."""

    def __init__(self, inner: httpx.BaseTransport, valid: Callable[[], bool]) -> None:
        self.inner, self.valid = inner, valid

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.valid():
            raise LeaseLost(LOST)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class LeaseWatch:
    """Looks at every lease in the store, every third of a lease and as the next one would
    run out, and wakes the scheduler (``wake``) when one has run out unrenewed: a dead or
    frozen worker's integration is taken over within its lease, however seldom the
    schedules are checked and whenever this worker's own runs end."""

    def __init__(
        self,
        store_url: Callable[[], str],
        wake: threading.Event,
        *,
        owner: str,
        seconds: float,
        clock: Clock | None = None,
    ) -> None:
        self.store_url, self.wake = store_url, wake
        self.owner, self.seconds = owner, seconds
        self.clock = clock or RealClock()
        self._store: Store | None = None
        self._seen: frozenset[tuple[str, str, float]] = frozenset()

    def look(self) -> float:
        """One look at the leases; returns the seconds until the next one."""
        found = self._leases().lapsed()
        for integration, owner, _ in sorted(found.lapsed - self._seen):
            log.info(
                "the lease of %s held by %s ran out unrenewed: its run is looked at now",
                integration,
                owner,
                extra={"integration": integration},
            )
            self.wake.set()
        self._seen = found.lapsed
        every = self.seconds / 3
        return every if found.next_in is None else min(every, found.next_in + LATE)

    def run(self, stop: threading.Event) -> None:
        """Look until ``stop``; a store that cannot be read is tried again at the next look
        (and said once, not at every look)."""
        wait, said = 0.0, ""
        try:
            while not stop.wait(wait):
                try:
                    wait, said = self.look(), ""
                except Exception as problem:
                    if repr(problem) != said:
                        log.warning("the leases could not be read", exc_info=True)
                    wait, said = self.seconds / 3, repr(problem)
        finally:
            self.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _leases(self) -> Leases:
        url = self.store_url()
        if self._store is None or self._store.url != url:  # the configuration names another
            self.close()
            self._store = Store(url, clock=self.clock)
        return self._store.leases(owner=self.owner, seconds=self.seconds)
