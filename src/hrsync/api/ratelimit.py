"""Client-side pacing: never cross Zoho's per-endpoint threshold, so no lock period starts.

Zoho counts calls per user and endpoint in a rolling minute; going over locks the pair for
five to ten minutes. The pacer writes every call down in a call log before it is sent (so a
call cut off by a kill still counts) and reads the log again before every call, so calls made
by other processes sharing the log count as well. Deciding and writing down happen in one
step of the log: of two processes after the last free place, one gets it and the other waits.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
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
    "channels.message": EndpointLimit(50, 600),  # per user, whatever the token
    "connect": EndpointLimit(30, 300),
    "people": EndpointLimit(400, 300),
    "people.write": EndpointLimit(100, 300),
}


# Zoho's API paths → the endpoint group their limit counts (longest prefix first; a method
# given where the group depends on it). What the clients send goes through ``ZohoHttp`` with
# its group; a call made any other way (``connections invoke``, a connection's test or an
# integration's check) is paced by this table.
_GROUPS: list[tuple[str, str, str]] = [
    ("GET", "/api/v2/users/layout", "users.layout"),
    ("", "/api/v2/userfields", "userfields"),
    ("", "/api/v2/departments", "departments"),
    ("", "/api/v2/designations", "designations"),
    ("", "/api/v2/teams", "teams"),
    ("", "/api/v2/statuses", "statuses"),
    ("", "/api/v2/channelsbyname", "channels.message"),
    ("", "/pulse/api/", "connect"),
    ("GET", "/people/api/", "people"),
    ("", "/people/api/", "people.write"),
]


def endpoint_of(method: str, path: str) -> str | None:
    """The endpoint group whose limit a call to ``path`` counts against (None: no known
    Zoho API path, nothing to pace)."""
    method, parts = method.upper(), [p for p in path.split("/") if p]
    if parts[:3] == ["api", "v2", "users"]:
        return _users_group(method, parts[3:])
    if parts[:3] == ["api", "v2", "profiles"]:
        return "roles.users" if parts[-1] == "users" and len(parts) > 4 else "roles"
    for wanted, prefix, group in _GROUPS:
        if path.startswith(prefix) and wanted in ("", method):
            return group
    return None


def _users_group(method: str, rest: list[str]) -> str:
    if not rest:
        return "users.add" if method == "POST" else "users.list"
    if rest[0] == "layout":
        return "users.layout"
    if len(rest) > 1 and rest[1] == "teams":
        return "users.teams"
    return "users.get" if method == "GET" else "users.update"


LOCKED = "!locked"  # suffix of a call-log entry that records a lock period's end

# Given the times of an endpoint's recent calls and the end of its lock period: seconds to wait.
Decide = Callable[[Sequence[float], float], float]


@dataclass(frozen=True, slots=True)
class Reservation:
    """A place in the log for one call (``ticket``), or the seconds to ``wait`` first."""

    ticket: int | None = None
    wait: float = 0.0


class CallLog(Protocol):
    """Calls to one Zoho API host by every process sharing it: Zoho counts them together."""

    def recent(self, endpoint: str, since: float) -> tuple[list[float], float]:
        """Times of ``endpoint``'s calls since ``since``, oldest first, and its lock's end."""
        ...

    def reserve(self, endpoint: str, *, now: float, since: float, decide: Decide) -> Reservation:
        """In one step: ``decide`` on the calls since ``since``; when it says 0, write a call
        down at ``now`` and return its ticket, else the seconds to wait."""
        ...

    def complete(self, ticket: int, at: float) -> None:
        """The reserved call came back at ``at``: count it from then."""
        ...

    def cancel(self, ticket: int) -> None:
        """The reserved call never left this machine."""
        ...

    def add(self, endpoint: str, at: float) -> None: ...


class MemoryCallLog:
    """A call log for one process alone (tests, estimates, a pacer without a store)."""

    def __init__(self) -> None:
        self._calls: dict[int, tuple[str, float]] = {}
        self._tickets = itertools.count(1)

    def recent(self, endpoint: str, since: float) -> tuple[list[float], float]:
        times = sorted(at for e, at in self._calls.values() if e == endpoint and at >= since)
        locks = [at for e, at in self._calls.values() if e == endpoint + LOCKED]
        return times, max(locks, default=0.0)

    def reserve(self, endpoint: str, *, now: float, since: float, decide: Decide) -> Reservation:
        wait = decide(*self.recent(endpoint, since))
        if wait > 0:
            return Reservation(wait=wait)
        ticket = next(self._tickets)
        self._calls[ticket] = (endpoint, now)
        return Reservation(ticket)

    def complete(self, ticket: int, at: float) -> None:
        endpoint, _ = self._calls[ticket]
        self._calls[ticket] = (endpoint, at)

    def cancel(self, ticket: int) -> None:
        self._calls.pop(ticket, None)

    def add(self, endpoint: str, at: float) -> None:
        self._calls[next(self._tickets)] = (endpoint, at)


class Pacer:
    """Waits, per endpoint group, so that a rolling minute never holds too many calls.

    With a shared ``log`` (the store's), the calls of earlier and concurrent processes count
    too: the log is read before every call, and each call is in it before it is sent.
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
        self._log: CallLog = log if log is not None else MemoryCallLog()
        self._in_flight: dict[str, deque[int]] = defaultdict(deque)
        self.waited: dict[str, float] = defaultdict(float)
        self.throttled: dict[str, int] = defaultdict(int)  # answers that began a lock period
        # Called with the seconds about to be waited: other, independent work may use them.
        self.on_wait: Callable[[float], None] | None = None
        # The wait in progress, for a run's live progress: (endpoint group, when it ends).
        self.waiting: tuple[str, float] | None = None

    def limit(self, endpoint: str) -> EndpointLimit:
        return self._limits[endpoint]

    def delay(self, endpoint: str) -> float:
        """Seconds to wait before the next call to ``endpoint`` may go."""
        now = self._clock.now()
        times, locked_until = self._log.recent(endpoint, now - WINDOW - self._margin)
        return self._decider(endpoint, now)(times, locked_until)

    def _decider(self, endpoint: str, now: float) -> Decide:
        per_minute = self._limits[endpoint].per_minute

        def decide(times: Sequence[float], locked_until: float) -> float:
            wait = max(0.0, locked_until - now)
            counted = [t for t in times if t + WINDOW + self._margin > now]
            if len(counted) >= per_minute:  # wait until enough of them leave the window
                oldest_to_go = counted[len(counted) - per_minute]
                wait = max(wait, oldest_to_go + WINDOW + self._margin - now)
            return wait

        return decide

    def _take(self, endpoint: str) -> float:
        """Take a place for one call now if the threshold allows; else the seconds to wait."""
        now = self._clock.now()
        since = now - WINDOW - self._margin
        answer = self._log.reserve(
            endpoint, now=now, since=since, decide=self._decider(endpoint, now)
        )
        if answer.ticket is not None:
            self._in_flight[endpoint].append(answer.ticket)
        return answer.wait

    def wait(self, endpoint: str) -> None:
        """Sleep until a call to ``endpoint`` stays within the threshold and write it down
        (lending the time to ``on_wait`` first). ``record`` or ``cancel`` must follow."""
        seconds = self._take(endpoint)
        if seconds > 0 and self.on_wait is not None:
            self.on_wait(seconds)
            seconds = self._take(endpoint)
        try:
            while seconds > 0:  # another process may take the place we waited for: look again
                log.debug("pacing %s: waiting %.1fs", endpoint, seconds)
                self.waited[endpoint] += seconds
                self.waiting = (endpoint, self._clock.now() + seconds)
                self._clock.sleep(seconds)
                seconds = self._take(endpoint)
        finally:
            self.waiting = None

    def record(self, endpoint: str) -> None:
        """Count a call that reached Zoho; timed at completion, the safe side of the window."""
        now = self._clock.now()
        pending = self._in_flight[endpoint]
        if pending:
            self._log.complete(pending.popleft(), now)
        else:
            self._log.add(endpoint, now)

    def cancel(self, endpoint: str) -> None:
        """The call written down by ``wait`` was never sent (no connection)."""
        pending = self._in_flight[endpoint]
        if pending:
            self._log.cancel(pending.popleft())

    def locked(self, endpoint: str, seconds: float) -> None:
        """Zoho throttled us anyway: hold the endpoint for its lock period."""
        self.throttled[endpoint] += 1
        self._log.add(endpoint + LOCKED, self._clock.now() + seconds)
        log.warning("%s is locked by Zoho for %.0fs; waiting it out", endpoint, seconds)

    def estimate(self, calls: Mapping[str, int]) -> float:
        """Seconds that ``calls`` per endpoint need at the documented limits, from a cold start."""
        return max((minimum_seconds(n, self._limits[e]) for e, n in calls.items()), default=0.0)


def minimum_seconds(calls: int, limit: EndpointLimit) -> float:
    """The least time ``calls`` calls take at ``limit``: a burst per rolling minute."""
    if calls <= limit.per_minute:
        return 0.0
    return math.ceil(calls / limit.per_minute - 1) * WINDOW
