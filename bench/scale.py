"""hrsync's initial sync at several sizes and scenarios, one table: each case runs
``bench/initial_sync.py`` in its own process, so memory is the case's own.

Prints a markdown table, a row as each case ends (N × scenario: simulated minutes, the ratio
to the lower bound, lock periods, CPU of hrsync and of the emulator, peak memory).

    python bench/scale.py [--sizes 1000,10000,50000,100000] [--scenarios csv,people,roles]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

INITIAL_SYNC = Path(__file__).resolve().with_name("initial_sync.py")
COLUMNS = [
    "employees",
    "scenario",
    "calls",
    "simulated min",
    "lower bound min",
    "ratio",
    "locks",
    "CPU hrsync s",
    "CPU emulator s",
    "peak RSS MB",
    "converged",
]


def measure(employees: int, scenario: str) -> dict[str, Any]:
    """One initial sync in a fresh process."""
    command = [sys.executable, str(INITIAL_SYNC), "--employees", str(employees)]
    done = subprocess.run(
        [*command, "--scenario", scenario], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def row(result: dict[str, Any]) -> list[object]:
    return [
        f"{result['employees']:,}",
        result["scenario"],
        result["calls_total"],
        result["simulated_minutes"],
        result["lower_bound_minutes"],
        result["ratio"],
        result["lock_periods"],
        result["cpu_hrsync_seconds"],
        result["cpu_emulator_seconds"],
        result["peak_rss_mb"],
        "yes" if result["converged"] else "NO",
    ]


def markdown(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=numbers, default=[1_000, 10_000, 50_000, 100_000])
    parser.add_argument(
        "--scenarios", type=lambda s: s.split(","), default=["csv", "people", "roles"]
    )
    args = parser.parse_args()
    print(markdown(COLUMNS))
    print(markdown(["---:", ":---"] + ["---:"] * (len(COLUMNS) - 2)), flush=True)
    for employees in args.sizes:
        for scenario in args.scenarios:
            print(markdown(row(measure(employees, scenario))), flush=True)


if __name__ == "__main__":
    main()
