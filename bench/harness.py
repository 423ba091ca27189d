"""What hrsync's benchmarks share: an emulated Zoho org on a virtual clock, the settings of
each scenario, and one measured run (calls, simulated time, CPU split between hrsync and the
emulator that answers it in the same process).

The emulator's CPU is the time spent inside its transport (building its answer included);
hrsync's is the rest of the run. Both sides run on one thread, so the two add up to the
process's CPU over the run.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from hrsync.api.ratelimit import ZOHO_LIMITS, minimum_seconds
from hrsync.cli.demo import DEMO_SCOPES, grant_refresh_token, sample_employees, write_csv
from hrsync.clock import VirtualClock
from hrsync.config import (
    ConnectServiceConfig,
    GroupRule,
    PeopleServiceConfig,
    RoleConfig,
    RulesConfig,
    Settings,
    SourceConfig,
    StoreConfig,
    ZohoServiceConfig,
)
from hrsync.emulator import Emulator
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.emulator.transport import mock_transport
from hrsync.sync.engine import Outcome
from hrsync.wiring import App, build

BASE = "http://127.0.0.1:9"  # answered in-process by the transport
SCOPES = DEMO_SCOPES  # everything the scenarios use
SCENARIOS = {
    "csv": "an export into Cliq",
    "people": "Zoho People into Cliq and Connect, with a team and a Connect group per "
    "department and per designation",
    "roles": "an export into Cliq, with a declared role (a clone of Members) that a rule gives "
    "to everyone",
}
ROLE = "Staff"
# A scheduler's next run: long past every rolling minute and lock period of the last one.
BETWEEN_RUNS = 3600.0


class TimedTransport(httpx.BaseTransport):
    """A transport that adds up the CPU time spent answering: the emulator's share."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.cpu_seconds = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.process_time()
        try:
            return self.inner.handle_request(request)
        finally:
            self.cpu_seconds += time.process_time() - start


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
            "Employeestatus": "Active" if r["status"] == "active" else "Inactive",
        }
        for r in rows
    ]


@dataclass
class RunFigures:
    """One measured ``apply`` run: what it did, the calls it made, and what it cost."""

    outcome: Outcome
    calls: dict[str, int]
    simulated_seconds: float
    lock_periods: int
    cpu_seconds: float
    cpu_emulator_seconds: float
    wall_seconds: float

    @property
    def lower_bound_seconds(self) -> float:
        return lower_bound_seconds(self.calls)

    def cpu(self) -> dict[str, float]:
        return {
            "cpu_seconds": round(self.cpu_seconds, 2),
            "cpu_hrsync_seconds": round(self.cpu_seconds - self.cpu_emulator_seconds, 2),
            "cpu_emulator_seconds": round(self.cpu_emulator_seconds, 2),
        }

    def timing(self) -> dict[str, Any]:
        """Simulated minutes against the least the calls need at Zoho's limits."""
        bound = self.lower_bound_seconds
        return {
            "simulated_minutes": round(self.simulated_seconds / 60, 2),
            "lower_bound_minutes": round(bound / 60, 2),
            "ratio": ratio(self.simulated_seconds, bound),
        }

    def results(self) -> dict[str, int]:
        report = self.outcome.report
        return {
            "changes_applied": len(report.done) if report else 0,
            "changes_failed": len(report.failed) if report else 0,
        }


@dataclass
class EmulatedOrg:
    """A new Cliq org in an in-process emulator, an HR source, and hrsync's settings."""

    folder: Path
    scenario: str
    employees: int
    clock: VirtualClock = field(default_factory=VirtualClock)
    rows: list[dict[str, str]] = field(init=False)  # HR as it stands; change, then write

    def __post_init__(self) -> None:
        self.emulator = Emulator(self.clock)
        self.transport = TimedTransport(mock_transport(self.emulator))
        # The grant and control calls go round the timer: they are no part of a run.
        self.control = httpx.Client(transport=mock_transport(self.emulator))
        self.settings = self._settings()
        self.rows = sample_employees(self.employees)
        self.write_source()

    def _settings(self) -> Settings:
        client_id, secret, refresh = grant_refresh_token(self.control, BASE, scope=SCOPES)
        service: dict[str, Any] = {
            "api_url": BASE,
            "accounts_url": BASE,
            "client_id": client_id,
            "client_secret": SecretStr(secret),
            "refresh_token": SecretStr(refresh),
            "allow_http": True,
        }
        settings = Settings(
            store=StoreConfig(url=f"sqlite:///{self.folder / 'hrsync.db'}"),
            source=SourceConfig(path=self.folder / "employees.csv"),
            cliq=ZohoServiceConfig(**service),
        )
        if self.scenario == "people":
            settings.source = SourceConfig(kind="zoho_people")
            settings.people = PeopleServiceConfig(**service)
            settings.connect = ConnectServiceConfig(**service, network_id=SCOPE_ID)
            settings.rules = RulesConfig(
                teams_per=["department", "designation"],
                connect_groups_per=["department", "designation"],
            )
        elif self.scenario == "roles":
            settings.roles = [RoleConfig(name=ROLE, clone_of="Members")]
            settings.rules = RulesConfig(roles=[GroupRule(name=ROLE, when={})])  # everyone
        return settings

    def write_source(self) -> None:
        """Put ``rows`` where hrsync reads HR: the export file, or Zoho People."""
        if self.scenario == "people":
            url = f"{BASE}/_emulator/people/employees"
            seeded = self.control.post(url, json=people_records(self.rows))
            assert seeded.json()["failed"] == {}
        else:
            write_csv(self.settings.source.path, self.rows)

    def build(self, *, dry_run: bool) -> App:
        """hrsync as a user runs it (product defaults), its calls answered by the emulator."""
        return build(self.settings, dry_run=dry_run, clock=self.clock, transport=self.transport)

    def calls(self) -> dict[str, int]:
        """Calls so far per endpoint group, without the token endpoint's."""
        return {k: v for k, v in sorted(self.emulator.calls.items()) if not k.startswith("oauth")}

    def stats(self) -> dict[str, Any]:
        return dict(self.control.get(f"{BASE}/_emulator/stats").json())

    def accept_invitations(self) -> None:
        """Everyone invited so far joins, as they would between two scheduled runs."""
        self.control.post(f"{BASE}/_emulator/users/accept")

    def apply(self) -> RunFigures:
        """One ``sync`` run (plan, then apply), measured."""
        calls, locks = self.calls(), self.stats()["lock_periods_total"]
        emulator_cpu = self.transport.cpu_seconds
        wall, cpu, start = time.perf_counter(), time.process_time(), self.clock.now()
        app = self.build(dry_run=False)
        outcome = app.engine.run_apply()
        app.close()
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        after = self.calls()
        return RunFigures(
            outcome=outcome,
            calls={k: n - calls.get(k, 0) for k, n in after.items() if n > calls.get(k, 0)},
            simulated_seconds=self.clock.now() - start,
            lock_periods=self.stats()["lock_periods_total"] - locks,
            cpu_seconds=cpu,
            cpu_emulator_seconds=self.transport.cpu_seconds - emulator_cpu,
            wall_seconds=wall,
        )

    def converged(self) -> bool:
        """A later run plans no changes."""
        self.clock.advance(61)  # a later run, as a scheduler would start it
        return not self.plan()[0]

    def plan(self, *, full_read: bool = False) -> tuple[int, float]:
        """``hrsync plan``: how many changes, and hrsync's own CPU seconds for it."""
        emulator_cpu, cpu = self.transport.cpu_seconds, time.process_time()
        check = self.build(dry_run=True)
        plan, _, _ = check.engine.plan(full_read="measured" if full_read else "")
        check.close()
        cpu = time.process_time() - cpu - (self.transport.cpu_seconds - emulator_cpu)
        return len(plan.changes), round(cpu, 2)

    def close(self) -> None:
        self.control.close()


def lower_bound_seconds(calls: dict[str, int]) -> float:
    """The least time ``calls`` need at Zoho's documented per-minute limits."""
    return max((minimum_seconds(n, ZOHO_LIMITS[e]) for e, n in calls.items()), default=0.0)


def ratio(simulated: float, bound: float) -> float | None:
    """Simulated time over the lower bound; 1.0 when neither has any wait in it."""
    if bound:
        return round(simulated / bound, 3)
    return 1.0 if math.isclose(simulated, 0.0, abs_tol=1e-6) else None


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def command_line(run: Callable[[int, Path, str], dict[str, Any]], doc: str | None) -> None:
    """``--employees N --scenario NAME``: ``run`` in a scratch folder, its figures as JSON."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="csv",
        help="; ".join(f"{name}: {words}" for name, words in SCENARIOS.items()),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-") as folder:
        result = run(args.employees, Path(folder), args.scenario)
    json.dump(result, sys.stdout, indent=2)
    print()
