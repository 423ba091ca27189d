"""The clock of an emulator in another process, as hrsync's benches and tests pace by it."""

from __future__ import annotations

import httpx

from hrsync.clock import VirtualClock


class RemoteClock:
    """A client's view of an emulator process's virtual clock (``emulator serve --clock
    virtual``): waiting moves both forward."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self._http = http
        self._base = base
        self._local = VirtualClock(http.get(f"{base}/_emulator/clock").json()["now"])
        self.slept = 0.0

    def now(self) -> float:
        return self._local.now()

    def advance(self, seconds: float) -> None:
        answer = self._http.post(f"{self._base}/_emulator/clock/advance?seconds={seconds}")
        answer.raise_for_status()
        self._local = VirtualClock(answer.json()["now"])

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            self.advance(seconds)
