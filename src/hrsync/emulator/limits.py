"""Zoho's per-user, per-endpoint rate limits with lock periods (DESIGN.md §4)."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class Limit:
    per_minute: int
    lock_seconds: float


# Threshold per rolling minute and lock period, per endpoint group, from Zoho's documents.
LIMITS: dict[str, Limit] = {
    "users.add": Limit(5, 300),
    "users.list": Limit(30, 600),
    "users.get": Limit(20, 600),
    "users.update": Limit(20, 600),
    "users.teams": Limit(20, 600),
    "users.layout": Limit(10, 600),
    "userfields": Limit(10, 600),
    "departments": Limit(30, 600),
    "designations": Limit(30, 600),
    "roles": Limit(20, 600),
    "roles.users": Limit(10, 600),
    "teams": Limit(20, 600),
    "statuses": Limit(20, 600),
    "channels.message": Limit(50, 600),
    "connect": Limit(30, 300),
    "people": Limit(400, 300),
    "people.write": Limit(100, 300),
}


class RateLimiter:
    """A rolling 60-second window per (user, endpoint); going over locks the pair."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._locked_until: dict[tuple[str, str], float] = {}
        self.locks_triggered: dict[str, int] = defaultdict(int)
        self.throttled: dict[str, int] = defaultdict(int)

    def admit(self, user: str, endpoint: str, now: float) -> bool:
        """Record a call and say whether it may proceed."""
        limit = LIMITS[endpoint]
        key = (user, endpoint)
        if self._locked_until.get(key, 0.0) > now:
            self.throttled[endpoint] += 1
            return False
        calls = self._calls[key]
        while calls and calls[0] <= now - WINDOW:
            calls.popleft()
        if len(calls) >= limit.per_minute:
            self._locked_until[key] = now + limit.lock_seconds
            self.locks_triggered[endpoint] += 1
            self.throttled[endpoint] += 1
            return False
        calls.append(now)
        return True

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]
