"""Scheduled runs over an org hrsync already keeps: calls, simulated time and CPU per run.

After an initial sync (not measured) and everyone accepting their invitation, measures:

- ``first_run_after_initial``: the first run with no HR change, whose CPU includes settling
  what the initial sync left (e.g. links to the invited users);
- ``no_change``: another run with no HR change;
- ``one_percent``: per 10,000 people, 100 movers across departments (department and
  designation), 20 leavers, 5 rehires (made inactive by an earlier, unmeasured run) and
  10 email changes.

Each gives ``calls``, ``calls_by_endpoint``, ``simulated_minutes``,
``lower_bound_minutes`` (Zoho's documented per-minute limits over those calls), ``ratio``
(1.0 when neither has a wait in it), ``lock_periods`` and ``cpu_seconds`` (with
``cpu_hrsync_seconds`` and ``cpu_emulator_seconds``). Prints one JSON object, with
``peak_rss_mb`` over all the runs.

The emulator runs in the bench's process (``--emulator inprocess``, the default: the CPU
split times its transport, and ``peak_rss_mb`` is both sides') or in its own
(``--emulator process``: ``hrsync emulator serve --clock virtual`` on 127.0.0.1 over real
HTTP, hrsync waiting by advancing its clock; ``cpu_emulator_seconds`` is that process's
CPU, ``peak_rss_mb`` hrsync's alone and ``emulator_peak_rss_mb`` the emulator's). Calls and
simulated time are the same either way.

    python bench/steady_state.py --employees 10000 [--scenario csv|people|roles]
        [--emulator inprocess|process]
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import BETWEEN_RUNS, EmulatedOrg, RunFigures, command_line
from hrsync.cli.demo import DEPARTMENTS, TITLES

PER_10K = {"movers": 100, "leavers": 20, "rehires": 5, "email_changes": 10}
MANAGERS = 37  # the CEO, directors and managers head the sample; changes spare them


@dataclass(frozen=True)
class Churn:
    """Which rows change, by kind: disjoint, spread over the staff, the same every time."""

    movers: list[int]
    leavers: list[int]
    rehires: list[int]
    email_changes: list[int]

    @classmethod
    def of(cls, employees: int, seed: int = 10) -> Churn:
        sizes = {kind: max(1, round(n * employees / 10_000)) for kind, n in PER_10K.items()}
        picked = random.Random(seed).sample(range(MANAGERS, employees), sum(sizes.values()))
        rows: dict[str, list[int]] = {}
        for kind, size in sizes.items():
            rows[kind], picked = sorted(picked[:size]), picked[size:]
        return cls(**rows)

    def sizes(self) -> dict[str, int]:
        return {kind: len(rows) for kind, rows in vars(self).items()}


def move(row: dict[str, str]) -> None:
    """To the next department, with another designation."""
    row["department"] = DEPARTMENTS[(DEPARTMENTS.index(row["department"]) + 1) % len(DEPARTMENTS)]
    row["designation"] = TITLES[(TITLES.index(row["designation"]) + 1) % len(TITLES)]


def one_percent(rows: list[dict[str, str]], churn: Churn) -> None:
    for i in churn.movers:
        move(rows[i])
    for i in churn.leavers:
        rows[i]["status"] = "inactive"
    for i in churn.rehires:
        rows[i]["status"] = "active"
    for i in churn.email_changes:
        rows[i]["email"] = "renamed." + rows[i]["email"]


def figures(run: RunFigures) -> dict[str, Any]:
    return {
        "calls": sum(run.calls.values()),
        "calls_by_endpoint": run.calls,
        **run.timing(),
        "lock_periods": run.lock_periods,
        **run.cpu(),
        **run.results(),
    }


def scheduled_run(org: EmulatedOrg) -> RunFigures:
    """The next run of a schedule, after everyone invited so far has joined."""
    org.accept_invitations()
    org.clock.advance(BETWEEN_RUNS)
    return org.apply()


def run(
    employees: int, folder: Path, scenario: str = "csv", emulator: str = "inprocess"
) -> dict[str, Any]:
    churn = Churn.of(employees)
    with EmulatedOrg(folder, scenario, employees, emulator) as org:
        org.apply()  # the initial sync
        first = scheduled_run(org)
        quiet = scheduled_run(org)
        for i in churn.rehires:  # they leave now, to come back in the measured run
            org.rows[i]["status"] = "inactive"
        org.write_source()
        scheduled_run(org)
        one_percent(org.rows, churn)
        org.write_source()
        churn_run = scheduled_run(org)
        converged = org.converged()
    return {
        "scenario": scenario,
        "employees": employees,
        "first_run_after_initial": figures(first),
        "no_change": figures(quiet),
        "one_percent": {"hr_changes": churn.sizes(), **figures(churn_run)},
        "converged": converged,
        "emulator": emulator,
        **org.memory(),
    }


if __name__ == "__main__":
    command_line(run, __doc__)
