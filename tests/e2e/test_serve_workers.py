"""``hrsync serve`` resuming what did not finish, and several ``hrsync serve`` workers sharing
one PostgreSQL store: every scheduled run is made once, by one worker; a worker killed mid-run
has its integration taken over once its lease expires; Zoho's limits are kept together."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hrsync.access.connections import Connections, loopback_redirect_uri
from hrsync.access.integrations import Integrations
from hrsync.access.vault import Vault, new_key
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.clock import RealClock
from hrsync.store import Store
from hrsync.store.tables import Run
from tests.e2e.conftest import Serve, free_port
from tests.e2e.test_serve import metrics, set_up_integration, wait_for

pytestmark = pytest.mark.e2e
SCOPES = [f"ZohoCliq.{m}.ALL" for m in ("Users", "Departments", "Designations", "Teams")]


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def said(self) -> str:
        return self.log.read_text(errors="replace")


StartWorker = Callable[..., Worker]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[StartWorker]:
    """Start ``hrsync serve`` in ``tmp_path`` (checking every second, its log in a file);
    killed after."""
    started: list[Worker] = []

    def start(env: dict[str, str], *extra: str) -> Worker:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "hrsync", "serve", "--port", str(port), "--check-every",
                 "1", *extra],
                cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = Worker(process, f"http://127.0.0.1:{port}", log)
        started.append(worker)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, worker.said()
            try:
                if httpx.get(f"{worker.url}/healthz", timeout=1).status_code == 200:
                    return worker
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hrsync serve never answered /healthz"
            time.sleep(0.1)

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()


def invited(base: str) -> list[str]:
    """The employee ids of the emulated organisation's users, one per user."""
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    return [u["employee_id"] for u in users if u.get("employee_id")]


def test_serve_first_finishes_a_run_whose_process_was_killed(
    serve: Serve, tmp_path: Path, workers: StartWorker
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 150)  # due every 15 min: two invitation batches
    # Cliq holds the answer to the first invitation call; the service is killed meanwhile.
    fault = {"mode": "timeout", "endpoint": "users.add", "count": 1, "delay": 8}
    httpx.post(f"{base}/_emulator/faults", json=[fault]).raise_for_status()
    killed = workers(env, "--lease", "3")
    wait_for(lambda: invited(base), 60, "the run never invited anyone")
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait()
    assert 0 < len(invited(base)) < 150

    # Its run started seconds ago: only its being unfinished makes it run now.
    again = workers(env, "--lease", "3")
    succeeded = ("hrsync_runs_total", (("integration", "hr"), ("outcome", "succeeded")))
    wait_for(lambda: metrics(again.url).get(succeeded) == 1.0, 60, "it was not resumed")
    ids = invited(base)
    assert len(ids) == len(set(ids)) == 150  # nobody twice, nobody lost
    assert httpx.get(f"{base}/_emulator/stats").json()["lock_periods_total"] == 0
    time.sleep(2)  # and then it waits for its schedule
    assert metrics(again.url).get(succeeded) == 1.0


# Three workers, four emulated organisations (each with its own connection), three
# integrations in each, one per schedule. A schedule's minute lasts MINUTE seconds.
ORGS, WORKERS, MINUTE, LEASE = 4, 3, 4.0, 5.0
SCHEDULES = ("every 5 min", "every 10 min", "every 15 min")
EVERY = {s: int(s.split()[1]) * MINUTE for s in SCHEDULES}
SLACK = 15.0  # how late a due run may start: checks, runs before it, pacing, a lease expiring


def create_integrations(
    url: str, folder: Path, bases: list[str], env: dict[str, str]
) -> dict[str, tuple[str, list[dict[str, str]]]]:
    """A connection per organisation and three enabled integrations on it, each with its own
    three people; returns integration → (schedule, people)."""
    store = Store(url, clock=RealClock())
    client = httpx.Client(timeout=30)
    connections = Connections(store, Vault.open(folder / "hrsync.key", environ=env), client,
                              RealClock())  # fmt: skip
    integrations = Integrations(store, connections)
    people = sample_employees(3 * len(SCHEDULES) * len(bases) + 1)
    for row in people:
        row["manager_id"] = ""  # each integration's people stand on their own
    made = {}
    for k, base in enumerate(bases):
        app = client.get(f"{base}/_emulator/clients").json()["clients"][0]
        connections.add_zoho(
            f"cliq-{k}", "zoho_cliq", client_id=app["client_id"],
            client_secret=app["client_secret"], scopes=SCOPES, api_url=base, accounts_url=base,
            allow_http=True,
        )  # fmt: skip
        redirect = loopback_redirect_uri()
        consent = client.get(connections.authorize_url(f"cliq-{k}", redirect_uri=redirect,
                                                        state="s"))  # fmt: skip
        code = httpx.URL(consent.headers["location"]).params["code"]
        connections.authorise(f"cliq-{k}", code=code, redirect_uri=redirect)
        for s, schedule in enumerate(SCHEDULES):
            n = k * len(SCHEDULES) + s
            name, mine = f"hr-{n:02d}", people[3 * n : 3 * n + 3]
            for row in mine:  # three integrations share each organisation: each its own people
                row["seating_location"] = name
            write_csv(folder / f"{name}.csv", mine)
            source = {"kind": "csv", "path": str(folder / f"{name}.csv")}
            # No custom fields: checking them for pending actions reads Cliq's user fields
            # outside the pacer, which twelve integrations made at once would overrun.
            config = {"source": source, "cliq": {"connection": f"cliq-{k}"}, "custom_fields": {},
                      "scope": {"seating_location": [name]}}  # fmt: skip
            integrations.create(name, config, schedule=schedule)
            integrations.enable(name)
            made[name] = (schedule, mine)
    client.close()
    store.close()
    return made


@dataclass(frozen=True)
class SeenRun:
    integration: str
    status: str
    owner: str
    started_at: float
    finished_at: float


def apply_runs(url: str) -> list[SeenRun]:
    store = Store(url, clock=RealClock())
    with store.session() as s:
        rows = s.scalars(select(Run).where(Run.mode == "apply").order_by(Run.id)).all()
        found = [
            SeenRun(r.integration, r.status, r.owner, r.started_at, r.finished_at or 0.0)
            for r in rows
        ]
    store.close()
    return found


def set_integrations(url: str, folder: Path, env: dict[str, str], action: str) -> None:
    store = Store(url, clock=RealClock())
    client = httpx.Client()
    vault = Vault.open(folder / "hrsync.key", environ=env)
    integrations = Integrations(store, Connections(store, vault, client, RealClock()))
    for name in integrations.names():
        getattr(integrations, action)(name)
    client.close()
    store.close()


@pytest.mark.postgres
def test_three_workers_make_every_scheduled_run_once_and_take_over_a_killed_one(
    serve: Serve, tmp_path: Path, workers: StartWorker, postgres_url: str
) -> None:
    began = time.monotonic()
    bases = [serve("real") for _ in range(ORGS)]
    (tmp_path / "hrsync.toml").write_text(f'[store]\nurl = "{postgres_url}"\n', encoding="utf-8")
    env = os.environ | {"HRSYNC_SECRET_KEY": new_key()}
    made = create_integrations(postgres_url, tmp_path, bases, env)
    options = ("--lease", str(LEASE), "--schedule-minute", str(MINUTE))
    crew = [workers(env, *options) for _ in range(WORKERS)]
    wait_for(lambda: len({r.integration for r in apply_runs(postgres_url)
                          if r.status == "succeeded"}) == len(made), 60, "first runs")  # fmt: skip
    first_round = time.time()

    # A joiner for hr-00 (every 5 min); Cliq holds the answer to its invitation while the
    # worker running it is killed.
    fault = {"mode": "timeout", "endpoint": "users.add", "count": 1, "delay": 8}
    httpx.post(f"{bases[0]}/_emulator/faults", json=[fault]).raise_for_status()
    schedule, mine = made["hr-00"]
    joiner = sample_employees(3 * len(made) + 1)[-1]
    joiner |= {"manager_id": "", "seating_location": "hr-00"}  # in hr-00's scope
    write_csv(tmp_path / "hr-00.csv", [*mine, joiner])
    made["hr-00"] = (schedule, [*mine, joiner])
    wait_for(lambda: joiner["employee_id"] in invited(bases[0]), 60, "hr-00 never invited")
    store = Store(postgres_url, clock=RealClock())
    holder = store.leases(owner="test:0", seconds=LEASE).holder("hr-00")
    store.close()
    assert holder is not None
    victim = next(w for w in crew if holder[0].endswith(f":{w.process.pid}"))
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    killed_at = time.time()

    # Long enough for every schedule to come round at least twice after the first runs.
    time.sleep(max(0.0, first_round + max(EVERY.values()) + 10 - time.time()))
    set_integrations(postgres_url, tmp_path, env, "deactivate")
    ended = time.time()
    survivors = [w for w in crew if w is not victim]
    for worker in survivors:
        wait_for(lambda w=worker: httpx.get(f"{w.url}/readyz").json()["running"] == "", 60,
                 "a run never ended")  # fmt: skip
        worker.process.send_signal(signal.SIGTERM)
    for worker in survivors:
        assert worker.process.wait(timeout=30) == 0, worker.said()

    runs = apply_runs(postgres_url)
    by_integration: dict[str, list[SeenRun]] = {}
    for run in runs:
        by_integration.setdefault(run.integration, []).append(run)
    assert sorted(by_integration) == sorted(made)
    interrupted = [r for r in runs if r.status != "succeeded"]
    assert [(r.integration, r.status) for r in interrupted] == [("hr-00", "interrupted")]
    assert interrupted[0].owner.endswith(f":{victim.process.pid}")
    for name, seen in by_integration.items():
        every = EVERY[made[name][0]]
        for before, after in itertools.pairwise(seen):
            assert after.started_at >= before.finished_at, f"{name}: two runs at once"
            gap = after.started_at - before.started_at
            if before.status == "interrupted":  # taken over once the lease expired
                assert after.owner != before.owner and after.started_at >= killed_at
                assert after.started_at - killed_at <= LEASE + SLACK
            else:
                assert gap >= every - 0.01, f"{name}: run again {gap:.1f} s after the last"
                assert gap <= every + SLACK, f"{name}: a run was lost ({gap:.1f} s apart)"
        assert ended - seen[-1].started_at <= every + SLACK, f"{name}: its last run was lost"
        assert len([r for r in seen if r.status == "succeeded"]) >= 2
    assert len({r.owner for r in runs}) == WORKERS  # every worker took its share

    for k, base in enumerate(bases):
        ids = invited(base)
        wanted = {
            row["employee_id"]
            for name, (_, people) in made.items()
            if int(name[3:]) // len(SCHEDULES) == k
            for row in people
        }
        assert len(ids) == len(set(ids)) and set(ids) == wanted  # nobody twice, nobody lost
        assert httpx.get(f"{base}/_emulator/stats").json()["lock_periods_total"] == 0
    taken = next(r for r in by_integration["hr-00"] if r.started_at >= killed_at)
    print(
        f"\n{len(runs)} runs of {len(made)} integrations by {WORKERS} workers in "
        f"{time.monotonic() - began:.0f} s; hr-00 taken over {taken.started_at - killed_at:.1f} s "
        "after its worker was killed"
    )
