"""Initial sync of N employees into an empty Cliq org: calls, simulated time, CPU, memory.

Client and emulator run in one process on one virtual clock, so Zoho's rate limits cost
simulated minutes, not real ones. Prints one JSON object:

- ``calls``: API calls per endpoint group, as the emulator counted them;
- ``simulated_minutes``: virtual time from the first call to a converged org;
- ``lower_bound_minutes``: the least time those calls need at Zoho's documented per-minute
  limits (the slowest endpoint, bursting a full allowance every rolling minute);
- ``ratio``: simulated / lower bound (target ≤ 1.15);
- ``fewest_calls`` and ``ratio_to_fewest_calls``: the same against the least calls the work
  could take at all (one add per 100 joiners, one create per group, one listing), so extra
  calls count against hrsync too;
- ``lock_periods``: lock periods the emulator triggered (target 0);
- ``cpu_seconds``, ``peak_rss_mb``, ``wall_seconds``;
- ``converged``: a second plan has no changes.

    python bench/initial_sync.py --employees 10000
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from hrsync.api.ratelimit import ZOHO_LIMITS, minimum_seconds
from hrsync.cli.demo import DEMO_SCOPES, grant_refresh_token, sample_employees, write_csv
from hrsync.clock import VirtualClock
from hrsync.config import (
    ConnectServiceConfig,
    PeopleServiceConfig,
    RulesConfig,
    Settings,
    SourceConfig,
    StoreConfig,
    ZohoServiceConfig,
)
from hrsync.emulator import Emulator
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.emulator.transport import mock_transport
from hrsync.wiring import build

BASE = "http://127.0.0.1:9"  # answered in-process by the transport
SCOPES = DEMO_SCOPES  # everything the scenarios use


def people_records(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The sample export as Zoho People employee records."""
    email_of = {r["employee_id"]: r["email"] for r in rows}
    return [
        {
            "EmployeeID": r["employee_id"],
            "EmailID": r["email"],
            "FirstName": r["first_name"],
            "LastName": r["last_name"],
            "Mobile": r["mobile"],
            "Work_phone": r["work_phone"],
            "Extension": r["extension"],
            "Work_location": r["seating_location"],
            "LocationName": r["work_location"],
            "Department": r["department"],
            "Designation": r["designation"],
            "Reporting_To.MailID": email_of.get(r["manager_id"], ""),
            "Employeestatus": "Active",
        }
        for r in rows
    ]


def run(employees: int, folder: Path, scenario: str = "csv") -> dict[str, object]:
    clock = VirtualClock()
    emulator = Emulator(clock)
    http = httpx.Client(transport=mock_transport(emulator))
    client_id, secret, refresh = grant_refresh_token(http, BASE, scope=SCOPES)
    service: dict[str, Any] = {
        "api_url": BASE,
        "accounts_url": BASE,
        "client_id": client_id,
        "client_secret": SecretStr(secret),
        "refresh_token": SecretStr(refresh),
        "allow_http": True,
    }
    settings = Settings(
        store=StoreConfig(url=f"sqlite:///{folder / 'hrsync.db'}"),
        source=SourceConfig(path=folder / "employees.csv"),
        cliq=ZohoServiceConfig(**service),
    )
    rows = sample_employees(employees)
    if scenario == "people":
        seeded = http.post(f"{BASE}/_emulator/people/employees", json=people_records(rows))
        assert seeded.json()["failed"] == {}
        settings.source = SourceConfig(kind="zoho_people")
        settings.people = PeopleServiceConfig(**service)
        settings.connect = ConnectServiceConfig(**service, network_id=SCOPE_ID)
        settings.rules = RulesConfig(
            teams_per=["department", "designation"],
            connect_groups_per=["department", "designation"],
        )
    else:
        write_csv(settings.source.path, rows)

    wall, cpu, start = time.perf_counter(), time.process_time(), clock.now()
    app = build(settings, dry_run=False, clock=clock, client=http)  # product defaults
    outcome = app.engine.run_apply()
    app.close()
    simulated = clock.now() - start
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    calls = {k: v for k, v in sorted(emulator.calls.items()) if not k.startswith("oauth")}
    stats = http.get(f"{BASE}/_emulator/stats").json()

    clock.advance(61)  # a later run, as a scheduler would start it
    check = build(settings, dry_run=True, clock=clock, client=http)
    second, _, _ = check.engine.plan()
    check.close()
    http.close()

    bound = max(minimum_seconds(n, ZOHO_LIMITS[e]) for e, n in calls.items())
    counts = outcome.plan.counts()
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
    floor = max(minimum_seconds(n, ZOHO_LIMITS[e]) for e, n in fewest.items())
    report = outcome.report
    return {
        "scenario": scenario,
        "employees": employees,
        "calls": calls,
        "calls_total": sum(calls.values()),
        "simulated_minutes": round(simulated / 60, 2),
        "lower_bound_minutes": round(bound / 60, 2),
        "ratio": round(simulated / bound, 3) if bound else None,
        "fewest_calls": fewest,
        "ratio_to_fewest_calls": round(simulated / floor, 3) if floor else None,
        "lock_periods": stats["lock_periods_total"],
        "changes_applied": len(report.done) if report else 0,
        "changes_failed": len(report.failed) if report else 0,
        "converged": not second.changes,
        "cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument(
        "--scenario",
        choices=["csv", "people"],
        default="csv",
        help="csv: an export into Cliq; people: Zoho People into Cliq and Connect, with a "
        "team and a Connect group per department and per designation",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-") as folder:
        result = run(args.employees, Path(folder), args.scenario)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
