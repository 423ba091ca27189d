"""A rest source's reads at scale, per preset: 10,000 people served by the emulator's play of
each HR system (BambooHR, Personio, HiBob) in its own process over real HTTP, on its virtual
clock; hrsync reads them in this process.

For each preset: the full read (calls, simulated seconds against the floor the vendor's
limit sets, CPU, peak Python memory of the read and the process's peak RSS, records read),
then an incremental read after 1 % of the people changed (BambooHR and Personio; HiBob has
no changed-since query, so its every read is full). Prints a markdown table, then JSON.

    python bench/rest.py [--people 10000] [--presets bamboohr,personio,hibob]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import EmulatorProcess
from tests.hr_vendors import VENDORS, people

from hrsync.api.ratelimit import EndpointLimit, minimum_seconds
from hrsync.config import Settings, SourceConfig, StoreConfig
from hrsync.store import Store
from hrsync.wiring import rest_source

COLUMNS = ["preset", "read", "records", "calls", "simulated s", "floor s", "CPU s",
           "peak Python MB", "peak RSS MB", "employees"]  # fmt: skip


def measure(name: str, size: int, folder: Path) -> list[dict[str, Any]]:
    emulator = EmulatorProcess(folder)
    rows: list[dict[str, Any]] = []
    try:
        vendor = VENDORS[name]
        persons = people(size)
        keys = vendor.source(emulator.control, emulator.base)
        for at in range(0, size, 2000):  # seeded in parts: one control call each
            vendor.seed(emulator.control, emulator.base, persons[at : at + 2000])
        emulator.clock.advance(86_400)  # the people were entered a day before the first read
        settings = Settings(
            store=StoreConfig(url=f"sqlite:///{folder / f'{name}.db'}"),
            source=SourceConfig.model_validate(keys),
        )
        store = Store(settings.store.url, clock=emulator.clock)
        with httpx.Client(timeout=120, trust_env=False) as client:
            source = rest_source(settings, store, client, emulator.clock, 0.25)
            limit = settings.source.spec.rate_limit
            rows.append(one_read(name, "full", source, emulator, limit))
            if settings.source.spec.since is not None:
                emulator.clock.advance(3600)
                changed = persons[:: max(1, size // (size // 100 or 1))][: size // 100]
                for p in changed:
                    p["designation"] = "Changed Title"
                vendor.seed(emulator.control, emulator.base, changed)
                emulator.clock.advance(60)
                rows.append(one_read(name, "incremental (1 %)", source, emulator, limit))
        store.close()
    finally:
        emulator.stop()
    return rows


def one_read(name: str, kind: str, source: Any, emulator: Any, limit: Any) -> dict[str, Any]:
    started, cpu = emulator.clock.now(), time.process_time()
    tracemalloc.start()
    snapshot = source.read()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cpu = time.process_time() - cpu
    last = source.last_read
    floor = minimum_seconds(last.calls, EndpointLimit(limit.per_minute, limit.lock_seconds))
    if limit.per_second:
        floor = max(floor, (last.calls - 1) / limit.per_second)
    return {
        "preset": name,
        "read": kind,
        "records": last.records_read,
        "calls": last.calls,
        "simulated s": round(emulator.clock.now() - started, 1),
        "floor s": round(floor, 1),
        "CPU s": round(cpu, 2),
        "peak Python MB": round(peak / 2**20, 1),
        "peak RSS MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "employees": len(snapshot.employees),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--presets", default="bamboohr,personio,hibob")
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.presets.split(","):
            for row in measure(name.strip(), args.people, Path(tmp)):
                results.append(row)
                print("| " + " | ".join(str(row[c]) for c in COLUMNS) + " |", flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
