"""HiBob's API as HiBob documents it (to be built: see docs/readings/hibob.md)."""

from __future__ import annotations

from typing import Any

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.variants import Variant

VARIANTS: tuple[Variant, ...] = ()


class Api:
    name = "hibob"

    def __init__(self, seed: str) -> None:
        self.seed = seed

    def handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        return EmuResponse(404, {"error": "not found"})

    def control(self, req: EmuRequest, path: str, now: float) -> EmuResponse:
        return EmuResponse(404, {"error": "not found"})

    def state(self) -> dict[str, Any]:
        return {}

    def stats(self) -> dict[str, Any]:
        return {}
