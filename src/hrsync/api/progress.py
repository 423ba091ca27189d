"""How far an apply has come in calls: those made since the plan was known, those the plan
still needs, and how long Zoho's limits make them take. Shared by the command line's progress
lines and ``hrsync serve``'s live progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hrsync.api.http import ZohoHttp


def calls_made(services: Sequence[ZohoHttp]) -> Counter[str]:
    """Every call the services made so far, by endpoint group."""
    total: Counter[str] = Counter()
    for service in services:
        total.update(dict(service.calls))  # a copy: progress is read while calls go on
    return total


@dataclass(frozen=True)
class CallStatus:
    made: int
    left: int
    eta_seconds: float


def call_status(
    services: Sequence[ZohoHttp], planned: Mapping[str, int], baseline: Counter[str]
) -> CallStatus:
    """Calls made since ``baseline`` (the reads), those of ``planned`` still to make, and the
    time the limits need for them from now."""
    calls = calls_made(services) - baseline
    left = {e: max(0, n - calls.get(e, 0)) for e, n in planned.items()}
    eta = services[0].pacer.estimate(left) if services else 0.0
    return CallStatus(sum(calls.values()), sum(left.values()), eta)
