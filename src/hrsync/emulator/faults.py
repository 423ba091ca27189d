"""Injected failures, chosen per test through ``POST /_emulator/faults``."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hrsync.emulator.core import MESSAGES, THROTTLE_400, EmuResponse, ZohoError, require

MODES = ("error_500", "timeout", "throttle_400", "throttle_429")


@dataclass
class Fault:
    """Fail matching calls: the next ``count`` of them, or each with probability ``rate``."""

    mode: str
    endpoint: str = "*"  # an endpoint group such as "users.add", or "*"
    count: int | None = None
    rate: float | None = None
    delay: float = 2.0  # seconds the answer is held back in "timeout" mode

    def matches(self, endpoint: str, rng: random.Random) -> bool:
        if self.endpoint not in ("*", endpoint):
            return False
        if self.count is not None:
            if self.count <= 0:
                return False
            self.count -= 1
            return True
        return rng.random() < (self.rate if self.rate is not None else 1.0)


class Faults:
    """The active faults and what they did."""

    def __init__(self, seed: int = 7) -> None:
        self.active: list[Fault] = []
        self.injected: dict[str, int] = {}
        self._rng = random.Random(seed)

    def configure(self, body: object) -> list[Fault]:
        """Replace the active faults with those described (a list, an object, or [])."""
        items = body if isinstance(body, list) else [body]
        faults = []
        for item in items:
            require(isinstance(item, dict) and item.get("mode") in MODES)
            assert isinstance(item, dict)
            faults.append(
                Fault(
                    mode=item["mode"],
                    endpoint=str(item.get("endpoint", "*")),
                    count=item.get("count"),
                    rate=item.get("rate"),
                    delay=float(item.get("delay", 2.0)),
                )
            )
        self.active = faults
        return faults

    def pick(self, endpoint: str) -> Fault | None:
        for fault in self.active:
            if fault.matches(endpoint, self._rng):
                self.injected[fault.mode] = self.injected.get(fault.mode, 0) + 1
                return fault
        return None


def refusal(fault: Fault) -> EmuResponse | None:
    """The response a fault answers with before any work is done (None: do the work)."""
    if fault.mode == "error_500":
        return ZohoError(500).response()
    if fault.mode == "throttle_400":
        return EmuResponse(400, dict(THROTTLE_400))
    if fault.mode == "throttle_429":
        return EmuResponse(429, {"message": MESSAGES[429]})
    return None
