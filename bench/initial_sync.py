"""Initial sync of N employees into an empty Cliq org: calls, simulated time, CPU, memory.

hrsync and the emulator share one virtual clock, so Zoho's rate limits cost simulated
minutes, not real ones. The emulator runs in the bench's process (``--emulator inprocess``,
the default) or in its own (``--emulator process``: ``hrsync emulator serve --clock
virtual`` on 127.0.0.1, over real HTTP, hrsync waiting by advancing its clock); simulated
time and calls are the same either way. Prints one JSON object:

- ``calls``: API calls per endpoint group, as the emulator counted them;
- ``simulated_minutes``: virtual time from the first call to a converged org;
- ``lower_bound_minutes``: the least time those calls need at Zoho's documented per-minute
  limits (the slowest endpoint, bursting a full allowance every rolling minute);
- ``ratio``: simulated / lower bound (target ≤ 1.15);
- ``fewest_calls`` and ``ratio_to_fewest_calls``: the same against the least calls the work
  could take at all (one add per 100 joiners, one create per group, one listing), so extra
  calls count against hrsync too;
- ``lock_periods``: lock periods the emulator triggered (target 0);
- ``cpu_seconds`` (the run's), split into ``cpu_hrsync_seconds`` and
  ``cpu_emulator_seconds`` (the emulator answering: the time in its transport in-process,
  its process's user + system CPU otherwise); ``wall_seconds``;
- ``peak_rss_mb``: the bench process's peak memory: hrsync's and the emulator's together
  in-process, hrsync's alone with ``--emulator process``, which adds
  ``emulator_peak_rss_mb`` (the emulator process's VmHWM); ``baseline_rss_mb``: the bench
  process's memory before hrsync's first run (Python, the libraries, the bench itself);
  HR is seeded a slice at a time and the bench's own copy dropped before hrsync runs;
- ``converged``: a second plan has no changes;
- ``plan_cpu_hrsync_seconds``: hrsync's CPU for ``hrsync plan`` before the initial sync
  (everyone a joiner) and for ``hrsync plan --full-read`` once Cliq is in step (the median
  of three, the three in ``full_read_in_step_runs``: a shared machine's speed varies);
- ``reference_cpu_seconds``: a fixed piece of Python work like hrsync's, before and after
  (mean): CPU figures divided by it compare across machines, and a busy day on one.

    python bench/initial_sync.py --employees 10000 [--scenario csv|people|roles]
        [--emulator inprocess|process]
"""

from __future__ import annotations

import math
from pathlib import Path

from harness import (
    EmulatedOrg,
    command_line,
    current_rss_mb,
    lower_bound_seconds,
    ratio,
    reference_cpu_seconds,
)


def fewest_calls(counts: dict[str, int], employees: int, scenario: str) -> dict[str, int]:
    """The least calls per endpoint group the initial sync could take at all."""
    fewest = {
        "users.add": math.ceil(counts.get("invite", 0) / 100),
        "departments": counts.get("create_department", 0),
        "designations": counts.get("create_designation", 0),
        "users.list": 1,
    }
    if scenario == "people":
        fewest["people"] = math.ceil(employees / 200)
        fewest["teams"] = counts.get("create_team", 0)
        fewest["connect"] = counts.get("create_connect_group", 0) + 2 * math.ceil(employees / 100)
    if scenario == "roles":
        fewest["roles"] = 1 + counts.get("create_role", 0)  # the listing, the creation
        fewest["roles.users"] = math.ceil(counts.get("invite", 0) / 100)  # 100 users a call
    return fewest


def run(
    employees: int, folder: Path, scenario: str = "csv", emulator: str = "inprocess"
) -> dict[str, object]:
    reference = reference_cpu_seconds()
    with EmulatedOrg(folder, scenario, employees, emulator) as org:
        org.rows = []  # HR is written: the bench's own copy is no part of hrsync's memory
        baseline = current_rss_mb()  # the bench (and an in-process emulator) before hrsync
        _, plan_before = org.plan()  # `hrsync plan` of the initial sync: everyone a joiner
        first = org.apply()
        converged = org.converged()
        plans_after = []
        for _ in range(3):  # `hrsync plan --full-read` once in step: the median of three
            org.clock.advance(61)
            plans_after.append(org.plan(full_read=True)[1])

    fewest = fewest_calls(first.planned, employees, scenario)
    floor = lower_bound_seconds(fewest)
    return {
        "scenario": scenario,
        "employees": employees,
        "calls": first.calls,
        "calls_total": sum(first.calls.values()),
        **first.timing(),
        "fewest_calls": fewest,
        "ratio_to_fewest_calls": ratio(first.simulated_seconds, floor),
        "lock_periods": first.lock_periods,
        **first.results(),
        "converged": converged,
        **first.cpu(),
        "plan_cpu_hrsync_seconds": {
            "initial": plan_before,
            "full_read_in_step": sorted(plans_after)[1],
            "full_read_in_step_runs": plans_after,
        },
        "reference_cpu_seconds": round((reference + reference_cpu_seconds()) / 2, 3),
        "wall_seconds": round(first.wall_seconds, 2),
        "emulator": emulator,
        "baseline_rss_mb": baseline,
        **org.memory(),
    }


if __name__ == "__main__":
    command_line(run, __doc__)
