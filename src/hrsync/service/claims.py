"""A worker's hold on one integration for one run. The lease is claimed before the run,
renewed in the background while it goes on, and released after it; once the lease could
have expired (the worker was frozen, or could not reach the store, for longer than the lease)
no further call to Zoho goes out, since another worker may have taken the integration over."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from hrsync.store.leases import Leases

log = logging.getLogger(__name__)


class LeaseLost(BaseException):
    """This worker's lease on the integration expired or was taken over: the run ends before
    its next call (like a stop, never swallowed as one change's failure)."""


class Hold:
    """A claimed lease, renewed every third of its length until ``end``."""

    def __init__(self, leases: Leases, integration: str, *, since: float) -> None:
        self.leases, self.integration = leases, integration
        self.valid_until = since + leases.seconds  # on this machine's monotonic clock
        self._ended = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, name=f"hrsync-lease-{integration}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def end(self) -> None:
        self._ended.set()
        self._thread.join()

    def valid(self) -> bool:
        """Whether the lease is surely still ours (no other worker can have it yet)."""
        return time.monotonic() < self.valid_until

    def _renew(self) -> None:
        while not self._ended.wait(self.leases.seconds / 3):
            asked = time.monotonic()
            try:
                kept = self.leases.renew(self.integration)
            except Exception:  # the store is away: the lease runs out unless it comes back
                log.warning("the lease of %s could not be renewed", self.integration, exc_info=True)
                continue
            if not kept:
                self.valid_until = 0.0
                log.error(
                    "the lease of %s was taken over by another worker; this run stops",
                    self.integration,
                    extra={"integration": self.integration},
                )
                return
            self.valid_until = asked + self.leases.seconds


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
            raise LeaseLost("the lease on this integration expired; another worker may run it")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
