"""Client-side pacing: never cross Zoho's per-endpoint threshold, so no lock period starts.

Zoho counts calls per user and endpoint in a rolling minute; going over locks the pair for
five to ten minutes. The pacer keeps, per endpoint group, the completion times of the calls
of the last minute and waits before a call that would be one too many.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from hrsync.clock import Clock

log = logging.getLogger(__name__)
WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class EndpointLimit:
    """A documented threshold (calls per minute) and the lock period after exceeding it."""

    per_minute: int
    lock_seconds: float


# From Zoho's Cliq, People and Connect API documents (DESIGN.md §4).
ZOHO_LIMITS: dict[str, EndpointLimit] = {
    "users.add": EndpointLimit(5, 600),  # lock: 5 min in one document, 10 in another
    "users.list": EndpointLimit(30, 600),
    "users.get": EndpointLimit(20, 600),
    "users.update": EndpointLimit(20, 600),
    "users.teams": EndpointLimit(20, 600),
    "users.layout": EndpointLimit(10, 600),
    "userfields": EndpointLimit(10, 600),
    "departments": EndpointLimit(30, 600),
    "designations": EndpointLimit(30, 600),
    "roles": EndpointLimit(20, 600),
    "roles.users": EndpointLimit(10, 600),
    "teams": EndpointLimit(20, 600),
    "statuses": EndpointLimit(20, 600),
    "connect": EndpointLimit(30, 300),
    "people": EndpointLimit(400, 300),
    "people.write": EndpointLimit(100, 300),
}


LOCKED = "!locked"  # suffix of a call-log entry that records a lock period's end


class CallLog(Protocol):
    """Calls made by earlier processes: Zoho counts them in the same rolling minute."""

    def recent(self, since: float) -> list[tuple[str, float]]: ...

    def add(self, endpoint: str, at: float) -> None: ...


class Pacer:
    """Waits, per endpoint group, so that a rolling minute never holds too many calls.

    With a ``log``, it starts from the calls of the last minute made by earlier runs (a
    ``plan`` just before an ``apply``) and records its own for the next one.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        limits: Mapping[str, EndpointLimit] = ZOHO_LIMITS,
        margin: float = 0.25,
        log: CallLog | None = None,
    ) -> None:
        self._clock = clock
        self._limits = dict(limits)
        self._margin = margin
        self._done: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}
        self.waited: dict[str, float] = defaultdict(float)
        self._log = log
        # Called with the seconds about to be waited: other, independent work may use them.
        self.on_wait: Callable[[float], None] | None = None
        if log is not None:
            now = clock.now()
            for endpoint, at in log.recent(now - WINDOW - margin):
                if endpoint.endswith(LOCKED):
                    name = endpoint.removesuffix(LOCKED)
                    self._locked_until[name] = max(self._locked_until.get(name, 0.0), at)
                elif endpoint in self._limits:
                    self._done[endpoint].append(at)

    def limit(self, endpoint: str) -> EndpointLimit:
        return self._limits[endpoint]

    def delay(self, endpoint: str) -> float:
        """Seconds to wait before the next call to ``endpoint`` may go."""
        now = self._clock.now()
        wait = max(0.0, self._locked_until.get(endpoint, 0.0) - now)
        done = self._done[endpoint]
        while done and done[0] + WINDOW + self._margin <= now:
            done.popleft()
        if len(done) >= self._limits[endpoint].per_minute:
            wait = max(wait, done[0] + WINDOW + self._margin - now)
        return wait

    def wait(self, endpoint: str) -> None:
        """Sleep until a call to ``endpoint`` stays within the threshold (lending the time to
        ``on_wait`` first)."""
        seconds = self.delay(endpoint)
        if seconds > 0 and self.on_wait is not None:
            self.on_wait(seconds)
            seconds = self.delay(endpoint)
        if seconds > 0:
            log.debug("pacing %s: waiting %.1fs", endpoint, seconds)
            self.waited[endpoint] += seconds
            self._clock.sleep(seconds)

    def record(self, endpoint: str) -> None:
        """Count a call that reached Zoho; timed at completion, the safe side of the window."""
        now = self._clock.now()
        self._done[endpoint].append(now)
        if self._log is not None:
            self._log.add(endpoint, now)

    def locked(self, endpoint: str, seconds: float) -> None:
        """Zoho throttled us anyway: hold the endpoint for its lock period."""
        self._locked_until[endpoint] = self._clock.now() + seconds
        if self._log is not None:
            self._log.add(endpoint + LOCKED, self._locked_until[endpoint])
        log.warning("%s is locked by Zoho for %.0fs; waiting it out", endpoint, seconds)

    def estimate(self, calls: Mapping[str, int]) -> float:
        """Seconds that ``calls`` per endpoint need at the documented limits, from a cold start."""
        return max((minimum_seconds(n, self._limits[e]) for e, n in calls.items()), default=0.0)


def minimum_seconds(calls: int, limit: EndpointLimit) -> float:
    """The least time ``calls`` calls take at ``limit``: a burst per rolling minute."""
    if calls <= limit.per_minute:
        return 0.0
    return math.ceil(calls / limit.per_minute - 1) * WINDOW
