"""Injected time: a real clock for users, a virtual one for tests and benchmarks.

Every component that waits or timestamps takes a ``Clock``; nothing calls
``time.time`` or ``time.sleep`` directly. A ``VirtualClock`` never sleeps: ``sleep``
moves its time forward, so a twenty-minute rate-limited sync runs in seconds and
still reports twenty minutes.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time (epoch seconds) and can wait."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Simulated time that only moves when told to (thread-safe)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            self.advance(seconds)
