"""hrsync's initial sync at several sizes and scenarios, one table: each case runs
``bench/initial_sync.py`` in its own process, so memory is the case's own.

Prints a markdown table, a row as each case ends (N × scenario: simulated minutes, the ratio
to the lower bound, lock periods, CPU of hrsync and of the emulator, hrsync's CPU for
``plan --full-read`` once in step, the reference work's CPU on the machine at the time, peak
memory).
``--emulator`` goes to each case: with ``inprocess`` (the default) the emulator answers in
the case's process and its peak memory is both sides'; with ``process`` the emulator runs as
its own process over real HTTP, the peak memory column is hrsync's alone, and a column
gives the emulator process's.

    python bench/scale.py [--sizes 1000,10000,50000,100000] [--scenarios csv,people,roles]
        [--emulator inprocess|process]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
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
    "plan CPU s",
    "reference CPU s",
    "peak RSS MB",
    "converged",
]
EMULATOR_RSS = "emulator peak RSS MB"  # after peak RSS, when the emulator has its own process


def columns(emulator: str = "inprocess") -> list[str]:
    if emulator != "process":
        return COLUMNS
    at = COLUMNS.index("peak RSS MB") + 1
    return [*COLUMNS[: at - 1], "hrsync peak RSS MB", EMULATOR_RSS, *COLUMNS[at:]]


def measure(employees: int, scenario: str, emulator: str = "inprocess") -> dict[str, Any]:
    """One initial sync in a fresh process."""
    command = [sys.executable, str(INITIAL_SYNC), "--employees", str(employees)]
    done = subprocess.run(
        [*command, "--scenario", scenario, "--emulator", emulator],
        capture_output=True,
        text=True,
        check=True,
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
        result["plan_cpu_hrsync_seconds"]["full_read_in_step"],
        result["reference_cpu_seconds"],
        result["peak_rss_mb"],
        *([result["emulator_peak_rss_mb"]] if "emulator_peak_rss_mb" in result else []),
        "yes" if result["converged"] else "NO",
    ]


def markdown(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=numbers, default=[1_000, 10_000, 50_000, 100_000])
    parser.add_argument(
        "--scenarios", type=lambda s: s.split(","), default=["csv", "people", "roles"]
    )
    parser.add_argument(
        "--emulator",
        choices=["inprocess", "process"],
        default="inprocess",
        help="inprocess: in each case's process; process: its own process, over real HTTP",
    )
    args = parser.parse_args()
    heading = columns(args.emulator)
    print(markdown(heading))
    print(markdown(["---:", ":---"] + ["---:"] * (len(heading) - 2)), flush=True)
    for employees in args.sizes:
        for scenario in args.scenarios:
            print(markdown(row(measure(employees, scenario, args.emulator))), flush=True)


if __name__ == "__main__":
    main()
