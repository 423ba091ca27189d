"""Without a terminal (cron, systemd, a pipe) a long apply says where it is, with the time,
every few seconds — also while Zoho's rate limits make it wait."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from rich.console import Console

from hrsync.cli.progress import CallProgress
from hrsync.clock import VirtualClock


class Pacer:
    def estimate(self, calls: dict[str, int]) -> float:
        return 12.0 * sum(calls.values())  # seconds


class Service:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.pacer = Pacer()


class Plan:
    def __init__(self) -> None:
        self.changes = list(range(10))

    def api_calls(self) -> dict[str, int]:
        return {"users.add": 5, "users.update": 5}


def test_progress_lines_carry_a_timestamp_and_come_every_few_seconds() -> None:
    sink = io.StringIO()
    out = Console(file=sink, force_terminal=False, width=200)
    clock = VirtualClock(1_794_999_990.0)  # 2026-11-18T11:06:30Z
    service = Service()
    services: Any = [service]
    with CallProgress(services, out=out, clock=clock, every=5, ticking=False) as progress:
        service.calls["users.list"] += 3
        progress.tick()  # reading, before the plan is known
        clock.advance(10)
        progress.start(Plan())  # type: ignore[arg-type]
        service.calls["users.add"] += 1
        progress.advance(1, "Invited a@x.example")  # too soon for another line
        clock.advance(6)
        service.calls["users.add"] += 1
        progress.advance(1, "Invited b@x.example")
        clock.advance(300)  # a lock period: no change is applied, yet lines go on
        progress.tick()
        clock.advance(2)
        progress.tick()  # too soon
        progress.advance(8, "")
    assert sink.getvalue().splitlines() == [
        "2026-11-18T11:06:30Z reading HR and Zoho: 3 calls made",
        "2026-11-18T11:06:40Z applying: 0/10 changes, 0 calls made, 10 left, ETA 2.0 min",
        "2026-11-18T11:06:46Z applying: 2/10 changes, 2 calls made, 8 left, ETA 1.6 min",
        "2026-11-18T11:11:46Z applying: 2/10 changes, 2 calls made, 8 left, ETA 1.6 min",
        "2026-11-18T11:11:48Z finished: 10/10 changes, 2 calls made, 8 left, ETA 1.6 min",
    ]
