"""What hrsync's benchmarks share: an emulated Zoho org on a virtual clock, the settings of
each scenario, and one measured run (calls, simulated time, CPU of hrsync and of the
emulator that answers it).

The emulator runs one of two ways (``--emulator``):

- ``inprocess`` (the default): in the bench's process, answering through an httpx
  transport. The emulator's CPU is the time spent inside that transport (building its answer
  included); hrsync's is the rest of the run. Both sides run on one thread, so the two add up
  to the process's CPU over the run, and the process's peak memory is both sides' together.
- ``process``: ``python -m hrsync emulator serve --clock virtual`` on a free port of
  127.0.0.1, answering over real HTTP. hrsync's clock reads the emulator's virtual clock and
  waiting moves it forward through ``POST /_emulator/clock/advance``, so simulated time is
  the same as in-process. hrsync's CPU and peak memory are the bench process's alone; the
  emulator's CPU (utime + stime) and peak memory (VmHWM) are read from ``/proc/<pid>/`` of its
  process, which is stopped when the bench ends, also on an error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

import hrsync
from hrsync.api.ratelimit import ZOHO_LIMITS, minimum_seconds
from hrsync.cli.demo import (
    DEMO_SCOPES,
    emulated_service,
    grant_refresh_token,
    sample_employees,
    write_csv,
)
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
from hrsync.emulator.remote import RemoteClock
from hrsync.emulator.transport import mock_transport
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
EMULATORS = {
    "inprocess": "in the bench's process (hrsync's CPU and memory share it with the emulator)",
    "process": "its own process on 127.0.0.1, over real HTTP (hrsync's CPU and memory alone)",
}
ROLE = "Staff"
# A scheduler's next run: long past every rolling minute and lock period of the last one.
BETWEEN_RUNS = 3600.0
STARTUP_SECONDS = 30.0  # for the emulator process to answer
SEED_SLICE = 5_000  # People records seeded per control call


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


class BenchClock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def advance(self, seconds: float) -> None: ...


class InProcessEmulator:
    """The emulator in this process, its answers timed as its CPU share."""

    def __init__(self) -> None:
        self.base = BASE
        self.clock: BenchClock = VirtualClock()
        self.emulator = Emulator(self.clock)
        self.transport: httpx.BaseTransport | None = TimedTransport(mock_transport(self.emulator))
        # The grant and control calls go round the timer: they are no part of a run.
        self.control = httpx.Client(transport=mock_transport(self.emulator))

    def cpu_seconds(self) -> float:
        """The emulator's CPU so far."""
        assert isinstance(self.transport, TimedTransport)
        return self.transport.cpu_seconds

    def shared_cpu_seconds(self) -> float:
        """The part of this process's CPU so far that was the emulator's."""
        return self.cpu_seconds()

    def stop(self) -> dict[str, float]:
        """Stop; the emulator's own figures (none: its memory is this process's)."""
        self.control.close()
        return {}


class EmulatorProcess:
    """``hrsync emulator serve --clock virtual`` in its own process, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = folder / "emulator.log"
        env = dict(os.environ)
        # The emulator is the hrsync this bench imports, wherever it is installed.
        source = str(Path(hrsync.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "hrsync", "emulator", "serve", "--host", "127.0.0.1"]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [*command, "--port", str(port), "--clock", "virtual"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.transport: httpx.BaseTransport | None = None  # hrsync's own client, real HTTP
        # Control calls (seeding HR, stats, the clock) may carry a whole org: no timeout.
        self.control = httpx.Client(timeout=None, trust_env=False)
        try:
            self._wait_until_up()
            self.clock: BenchClock = RemoteClock(self.control, self.base)
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"emulator exited: {self.log.read_text(errors='replace')}")
            try:
                self.control.get(f"{self.base}/_emulator/clock", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"emulator did not answer within {STARTUP_SECONDS:.0f} s")

    def cpu_seconds(self) -> float:
        """The emulator process's CPU so far (user + system)."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, from field 3 on
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def shared_cpu_seconds(self) -> float:
        return 0.0  # none of this process's CPU is the emulator's

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def stop(self) -> dict[str, float]:
        """Stop the process (its peak memory read first); the emulator's own figures."""
        figures: dict[str, float] = {}
        try:
            if self.process.poll() is None:
                figures = {"emulator_peak_rss_mb": self.peak_rss_mb()}
        finally:
            self.control.close()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return figures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def people_records(
    rows: list[dict[str, str]], email_of: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """The sample export as Zoho People employee records (managers' emails from
    ``email_of``, employee id → email, when ``rows`` are a slice of the staff)."""
    if email_of is None:
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
    """One measured ``apply`` run: what it did, the calls it made, and what it cost. Figures
    only, not the run's plan and records: a bench that held them through later runs would
    count their memory as those runs' peak."""

    planned: dict[str, int]  # changes per kind
    applied: int
    failed: int
    calls: dict[str, int]
    simulated_seconds: float
    lock_periods: int
    cpu_hrsync_seconds: float
    cpu_emulator_seconds: float
    wall_seconds: float

    @property
    def lower_bound_seconds(self) -> float:
        return lower_bound_seconds(self.calls)

    def cpu(self) -> dict[str, float]:
        return {
            "cpu_seconds": round(self.cpu_hrsync_seconds + self.cpu_emulator_seconds, 2),
            "cpu_hrsync_seconds": round(self.cpu_hrsync_seconds, 2),
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
        return {"changes_applied": self.applied, "changes_failed": self.failed}


@dataclass
class EmulatedOrg:
    """A new Cliq org in an emulator (``inprocess`` or its own ``process``), an HR source, and
    hrsync's settings. Use it in a ``with`` block: the emulator is stopped on the way out."""

    folder: Path
    scenario: str
    employees: int
    emulator: str = "inprocess"
    rows: list[dict[str, str]] = field(init=False)  # HR as it stands; change, then write

    def __post_init__(self) -> None:
        if self.emulator not in EMULATORS:
            raise ValueError(f"--emulator is one of {', '.join(EMULATORS)}")
        self.server: InProcessEmulator | EmulatorProcess = (
            EmulatorProcess(self.folder) if self.emulator == "process" else InProcessEmulator()
        )
        self.emulator_figures: dict[str, float] = {}
        self._stopped = False
        try:
            self.clock = self.server.clock
            self.control = self.server.control
            self.settings = self._settings()
            self.rows = sample_employees(self.employees)
            self.write_source()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> EmulatedOrg:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _settings(self) -> Settings:
        base = self.server.base
        granted = grant_refresh_token(self.control, base, scope=SCOPES)
        service = emulated_service(base, *granted)
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
            url = f"{self.server.base}/_emulator/people/employees"
            email_of = {r["employee_id"]: r["email"] for r in self.rows}
            # A slice at a time: the bench's own copies of HR (records, a request body) stay
            # small beside the hrsync it measures.
            for start in range(0, len(self.rows), SEED_SLICE):
                records = people_records(self.rows[start : start + SEED_SLICE], email_of)
                seeded = self.control.post(url, json=records)
                assert seeded.json()["failed"] == {}
        else:
            write_csv(self.settings.source.path, self.rows)

    def build(self, *, dry_run: bool) -> App:
        """hrsync as a user runs it (product defaults), its calls answered by the emulator."""
        return build(
            self.settings, dry_run=dry_run, clock=self.clock, transport=self.server.transport
        )

    def calls(self) -> dict[str, int]:
        """Calls so far per endpoint group, without the token endpoint's."""
        calls: dict[str, int] = self.stats()["calls"]
        return {k: v for k, v in sorted(calls.items()) if not k.startswith("oauth")}

    def stats(self) -> dict[str, Any]:
        return dict(self.control.get(f"{self.server.base}/_emulator/stats").json())

    def accept_invitations(self) -> None:
        """Everyone invited so far joins, as they would between two scheduled runs."""
        self.control.post(f"{self.server.base}/_emulator/users/accept")

    def apply(self) -> RunFigures:
        """One ``sync`` run (plan, then apply), measured."""
        stats = self.stats()
        locks = stats["lock_periods_total"]
        calls = {k: v for k, v in stats["calls"].items() if not k.startswith("oauth")}
        cpu = Cpu(self.server)
        wall, start = time.perf_counter(), self.clock.now()
        app = self.build(dry_run=False)
        outcome = app.engine.run_apply()
        app.close()
        hrsync_cpu, emulator_cpu = cpu.since()
        wall = time.perf_counter() - wall
        after = self.calls()
        report = outcome.report
        return RunFigures(
            planned=outcome.plan.counts(),
            applied=len(report.done) if report else 0,
            failed=len(report.failed) if report else 0,
            calls={k: n - calls.get(k, 0) for k, n in after.items() if n > calls.get(k, 0)},
            simulated_seconds=self.clock.now() - start,
            lock_periods=self.stats()["lock_periods_total"] - locks,
            cpu_hrsync_seconds=hrsync_cpu,
            cpu_emulator_seconds=emulator_cpu,
            wall_seconds=wall,
        )

    def converged(self) -> bool:
        """A later run plans no changes."""
        self.clock.advance(61)  # a later run, as a scheduler would start it
        return not self.plan()[0]

    def plan(self, *, full_read: bool = False) -> tuple[int, float]:
        """``hrsync plan``: how many changes, and hrsync's own CPU seconds for it."""
        cpu = Cpu(self.server)
        check = self.build(dry_run=True)
        plan, _, _ = check.engine.plan(full_read="measured" if full_read else "")
        check.close()
        return len(plan.changes), round(cpu.since()[0], 2)

    def memory(self) -> dict[str, float]:
        """Peak memory: this process's (hrsync's, with the emulator's when in-process), and
        the emulator process's when it has one. Call after ``close``."""
        return {"peak_rss_mb": peak_rss_mb(), **self.emulator_figures}

    def close(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.emulator_figures = self.server.stop()


class Cpu:
    """CPU seconds from now on: hrsync's (this process's less any in-process emulator's) and
    the emulator's."""

    def __init__(self, server: InProcessEmulator | EmulatorProcess) -> None:
        self.server = server
        self.process = time.process_time()
        self.shared = server.shared_cpu_seconds()
        self.emulator = server.cpu_seconds()

    def since(self) -> tuple[float, float]:
        shared = self.server.shared_cpu_seconds() - self.shared
        hrsync = time.process_time() - self.process - shared
        return hrsync, self.server.cpu_seconds() - self.emulator


def lower_bound_seconds(calls: dict[str, int]) -> float:
    """The least time ``calls`` need at Zoho's documented per-minute limits."""
    return max((minimum_seconds(n, ZOHO_LIMITS[e]) for e, n in calls.items()), default=0.0)


def ratio(simulated: float, bound: float) -> float | None:
    """Simulated time over the lower bound; 1.0 when neither has any wait in it."""
    if bound:
        return round(simulated / bound, 3)
    return 1.0 if math.isclose(simulated, 0.0, abs_tol=1e-6) else None


def current_rss_mb() -> float:
    """This process's memory now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    raise RuntimeError("no VmRSS in /proc/self/status")


# A fixed piece of work like hrsync's own: records as dicts of text, looked up, compared and
# written as JSON, small rows many times over.
_REFERENCE_WORK = """
import json, time
started = time.process_time()
for _ in range(16):
    rows = [
        {"employee_id": f"E{i:06d}", "email": f"person.{i}@example.com", "team": f"T{i % 97}"}
        for i in range(50_000)
    ]
    by_email = {row["email"].lower(): row for row in rows}
    same = sum(1 for row in rows if by_email[row["email"]]["team"] == row["team"].strip())
    json.dumps(rows[:12_500])
    assert same == len(rows)
print(time.process_time() - started)
"""


def reference_cpu_seconds() -> float:
    """CPU seconds of ``_REFERENCE_WORK`` in a process of its own (this one's peak memory
    stays the bench's): the same code on a faster or a busier machine takes less or more, so
    a CPU figure divided by this one compares across machines and days."""
    done = subprocess.run(
        [sys.executable, "-c", _REFERENCE_WORK], capture_output=True, text=True, check=True
    )
    return round(float(done.stdout), 3)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def command_line(run: Callable[[int, Path, str, str], dict[str, Any]], doc: str | None) -> None:
    """``--employees N --scenario NAME --emulator inprocess|process``: ``run`` in a scratch
    folder, its figures as JSON."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="csv",
        help="; ".join(f"{name}: {words}" for name, words in SCENARIOS.items()),
    )
    parser.add_argument(
        "--emulator",
        choices=list(EMULATORS),
        default="inprocess",
        help="; ".join(f"{name}: {words}" for name, words in EMULATORS.items()),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-") as folder:
        result = run(args.employees, Path(folder), args.scenario, args.emulator)
    json.dump(result, sys.stdout, indent=2)
    print()
