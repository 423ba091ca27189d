"""What stands before a HiBob API call: the service user, the rate limit, a chosen fault.

Service users authenticate with HTTP Basic (``ID:token``); each may view the categories its
permission groups grant (``*``: all). Rate limits are a rolling minute per (service user,
endpoint); Bob documents 50 a minute for ``POST /people/search`` and publishes no other
figure, so every endpoint gets the same 50 until ``POST limits`` says otherwise. A throttled
call gets 429 with ``X-RateLimit-*`` headers, as every metered answer does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

WINDOW = 60.0
SEARCH_PER_MINUTE = 50  # apidocs.hibob.com, "Rate limiting": v1/people/search, 50 a minute
ENDPOINTS = ("people.search", "people.read", "fields", "named-lists")
FAULT_MODES = ("truncate", "error_500", "throttle")


@dataclass(slots=True)
class ServiceUser:
    id: str
    token: str
    permissions: list[str] = field(default_factory=lambda: ["*"])
    revoked: bool = False

    def may_view(self, category: str) -> bool:
        return "*" in self.permissions or category in self.permissions

    def answer(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "token": self.token,
            "permissions": list(self.permissions),
            "revoked": self.revoked,
        }


def default_user(seed: str) -> ServiceUser:
    """A service user allowed everything, its token derived from the emulator's seed."""
    token = hashlib.sha256(f"{seed}/hibob-token".encode()).hexdigest()[:40]
    return ServiceUser("SERVICE-HRSYNC", token)


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic base64(ID:token)`` as (ID, token), else None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, token = decoded.partition(":")
    return (user, token) if colon else None


class Limiter:
    """A rolling minute per (service user, endpoint)."""

    def __init__(self) -> None:
        self.per_minute: dict[str, int] = {e: SEARCH_PER_MINUTE for e in ENDPOINTS}
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.throttled: dict[str, int] = defaultdict(int)

    def admit(self, user: str, endpoint: str, now: float) -> tuple[bool, dict[str, str]]:
        """Record a call; whether it may proceed, and the rate-limit headers to send."""
        calls = self._calls[(user, endpoint)]
        while calls and calls[0] <= now - WINDOW:
            calls.popleft()
        limit = self.per_minute[endpoint]
        admitted = len(calls) < limit
        if admitted:
            calls.append(now)
        else:
            self.throttled[endpoint] += 1
        reset = math.ceil(calls[0] + WINDOW) if calls else math.ceil(now + WINDOW)
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - len(calls), 0)),
            "x-ratelimit-reset": str(reset),
        }
        return admitted, headers


@dataclass(slots=True)
class Fault:
    """One chosen failure for the next ``count`` calls (of ``endpoint``, or of any)."""

    mode: str
    count: int = 1
    endpoint: str | None = None
    cut: str = "json"  # truncate: "json" (invalid JSON) or "employees" (some left out)

    def answer(self) -> dict[str, Any]:
        return {"mode": self.mode, "count": self.count, "endpoint": self.endpoint, "cut": self.cut}


class Faults:
    """Chosen failures, played in the order they were chosen."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.played: dict[str, int] = defaultdict(int)

    def pick(self, endpoint: str) -> Fault | None:
        for fault in self.pending:
            if fault.endpoint not in (None, endpoint):
                continue
            if fault.mode == "truncate" and endpoint != "people.search":
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.pending.remove(fault)
            self.played[fault.mode] += 1
            return fault
        return None
