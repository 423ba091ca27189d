"""``hrsync serve`` workers sharing one PostgreSQL store, through what a machine does to them:
a worker killed in a run has its integration taken over within the lease by an idle worker
(which looks at its schedules only every minute); a worker frozen past its lease, once
resumed, ends its pacing wait at once, sends no call and leaves the run the other worker took
over as that worker recorded it; a PostgreSQL restart longer than the lease leaves every live
worker holding its lease and finishing its run. Short leases (3 s), real processes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select

from hrsync.access.connections import Connections, loopback_redirect_uri
from hrsync.access.integrations import Integrations
from hrsync.access.vault import Vault, new_key
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.clock import RealClock
from hrsync.store import Store
from hrsync.store.tables import ApiCall, JournalEntry, Run
from tests.e2e.conftest import Serve
from tests.e2e.test_serve import metrics, wait_for
from tests.e2e.test_serve_workers import (  # the workers fixture: hrsync serve processes
    SCOPES,
    SeenRun,
    StartWorker,
    Worker,
    apply_runs,
    invited,
    workers,  # noqa: F401
)
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
LEASE = 3.0
# Workers look at their schedules once a minute: only the lease watch explains a takeover
# within the lease.
OPTIONS = ("--lease", str(LEASE), "--check-every", "60")


def enabled_integrations(
    url: str, folder: Path, bases: list[str], env: dict[str, str], people: int
) -> dict[str, list[str]]:
    """An enabled integration per emulated organisation, ``hr-K`` (every 15 min, ``people``
    people of its own); returns integration → employee ids."""
    (folder / "hrsync.toml").write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    store = Store(url, clock=RealClock())
    client = httpx.Client(timeout=30)
    vault = Vault.open(folder / "hrsync.key", environ=env)
    connections = Connections(store, vault, client, RealClock())
    integrations = Integrations(store, connections)
    rows = sample_employees(people * len(bases) + 1)
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
        mine = [row | {"manager_id": ""} for row in rows[k * people : (k + 1) * people]]
        write_csv(folder / f"hr-{k}.csv", mine)
        source = {"kind": "csv", "path": str(folder / f"hr-{k}.csv")}
        config = {"source": source, "cliq": {"connection": f"cliq-{k}"}, "custom_fields": {}}
        integrations.create(f"hr-{k}", config, schedule="every 15 min")
        integrations.enable(f"hr-{k}")
        made[f"hr-{k}"] = [row["employee_id"] for row in mine]
    client.close()
    store.close()
    return made


@contextmanager
def store_of(url: str) -> Iterator[Store]:
    store = Store(url, clock=RealClock())
    try:
        yield store
    finally:
        store.close()


def holder(url: str, integration: str) -> str:
    with store_of(url) as store:
        found = store.leases(owner="test:0", seconds=LEASE).holder(integration)
    return found[0] if found else ""


def runs_of(url: str, integration: str) -> list[SeenRun]:
    return [r for r in apply_runs(url) if r.integration == integration]


def owned_by(worker: Worker) -> str:
    return f":{worker.process.pid}"


def taken_by(worker: Worker, url: str) -> list[SeenRun]:
    return [r for r in runs_of(url, "hr-0") if r.owner.endswith(owned_by(worker))]


def calls_made(base: str) -> int:
    return sum(httpx.get(f"{base}/_emulator/stats").json()["calls"].values())


def converged(base: str, people: list[str]) -> None:
    ids = invited(base)
    assert len(ids) == len(set(ids)) and set(ids) == set(people)  # nobody twice, nobody lost
    assert httpx.get(f"{base}/_emulator/stats").json()["lock_periods_total"] == 0


@pytest.fixture
def env() -> dict[str, str]:
    return os.environ | {"HRSYNC_SECRET_KEY": new_key()}


def test_a_killed_workers_integration_is_taken_over_within_the_lease(
    serve: Serve,
    tmp_path: Path,
    workers: StartWorker,  # noqa: F811
    postgres_url: str,
    env: dict[str, str],
) -> None:
    base = serve("real")
    made = enabled_integrations(postgres_url, tmp_path, [base], env, 10)
    # Cliq holds the answer to the invitation while the worker running it is killed.
    fault = {"mode": "timeout", "endpoint": "users.add", "count": 1, "delay": 8}
    httpx.post(f"{base}/_emulator/faults", json=[fault]).raise_for_status()
    victim = workers(env, *OPTIONS)
    wait_for(lambda: invited(base), 30, "the run never invited anyone")
    assert holder(postgres_url, "hr-0").endswith(owned_by(victim))
    heir = workers(env, *OPTIONS)  # idle from its first look: the integration is held
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    killed_at = time.time()

    taken = wait_for(lambda: taken_by(heir, postgres_url), 30, "never taken over")
    took = taken[0].started_at - killed_at
    assert took <= LEASE + 2.0, f"taken over {took:.1f} s after the kill"
    wait_for(lambda: runs_of(postgres_url, "hr-0")[-1].status == "succeeded", 30, "not resumed")
    first = runs_of(postgres_url, "hr-0")[0]
    assert first.status == "interrupted" and first.owner.endswith(owned_by(victim))
    converged(base, made["hr-0"])
    print(f"\ntaken over {took:.1f} s after the kill, with --lease {LEASE:g}")


def test_a_worker_frozen_past_its_lease_stops_at_once_and_sends_nothing(
    serve: Serve,
    tmp_path: Path,
    workers: StartWorker,  # noqa: F811
    postgres_url: str,
    env: dict[str, str],
) -> None:
    base = serve("real")
    made = enabled_integrations(postgres_url, tmp_path, [base], env, 10)
    # Invitations of the rolling minute as if made by another process just now: the first
    # run waits out Zoho's minute before it invites anyone.
    minute = [{"scope": base, "endpoint": "users.add", "at": time.time()}] * 5
    with store_of(postgres_url) as store, store.engine.begin() as connection:
        connection.execute(ApiCall.__table__.insert(), minute)
    frozen = workers(env, *OPTIONS)
    wait_for(lambda: holder(postgres_url, "hr-0").endswith(owned_by(frozen)), 30, "no run")
    wait_for(lambda: journalled(postgres_url), 30, "the run never planned its invitations")
    time.sleep(1.0)  # in its pacing wait now: nearly a minute to go
    other = workers(env, *OPTIONS)
    frozen.process.send_signal(signal.SIGSTOP)
    stopped_at = time.time()
    assert "users.add" not in httpx.get(f"{base}/_emulator/stats").json()["calls"]  # waiting
    with store_of(postgres_url) as store, store.engine.begin() as connection:
        connection.execute(delete(ApiCall).where(ApiCall.endpoint == "users.add"))  # no wait

    wait_for(lambda: runs_of(postgres_url, "hr-0")[-1].status == "succeeded", 30, "no takeover")
    first, taken = runs_of(postgres_url, "hr-0")
    assert taken.owner.endswith(owned_by(other))
    assert taken.started_at - stopped_at <= LEASE + 2.0
    before = calls_made(base)
    frozen.process.send_signal(signal.SIGCONT)
    resumed = time.monotonic()
    stopped = ("hrsync_runs_total", (("integration", "hr-0"), ("outcome", "stopped")))
    wait_for(lambda: metrics(frozen.url).get(stopped) == 1.0, 20, "it went on waiting")
    ended = time.monotonic() - resumed
    assert ended < 3.0, f"it stopped {ended:.1f} s after it was resumed"
    time.sleep(2.0)  # whatever it would still do
    assert calls_made(base) == before  # not one call from the worker that lost its lease
    assert runs_of(postgres_url, "hr-0") == [first, taken]  # its run left as taken over
    assert first.status == "interrupted" and first.finished_at <= taken.started_at
    assert "took it over meanwhile" in frozen.said()
    converged(base, made["hr-0"])
    print(f"\nresumed past its lease: stopped {ended:.2f} s later, 0 calls")


def journalled(url: str) -> bool:
    """Whether the running run has planned its changes (its first call comes next)."""
    with store_of(url) as store, store.session() as s:
        found = s.scalars(
            select(JournalEntry.id).join(Run, Run.id == JournalEntry.run_id)
            .where(Run.status == "running").limit(1)
        ).first()  # fmt: skip
    return found is not None


def test_a_postgresql_restart_leaves_every_live_worker_its_lease(
    serve: Serve,
    tmp_path: Path,
    workers: StartWorker,  # noqa: F811
    own_postgres: PostgresServer,
    env: dict[str, str],
) -> None:
    url = own_postgres.new_database()
    bases = [serve("real"), serve("real")]
    made = enabled_integrations(url, tmp_path, bases, env, 10)
    # Each run's invitation is answered 10 s late: both runs are in a call while the
    # database is away, and go on once they hear back.
    for base in bases:
        fault = {"mode": "timeout", "endpoint": "users.add", "count": 1, "delay": 10}
        httpx.post(f"{base}/_emulator/faults", json=[fault]).raise_for_status()
    crew = [workers(env, *OPTIONS) for _ in range(2)]
    wait_for(lambda: all(invited(base) for base in bases), 30, "the runs never invited")
    held = {name: holder(url, name) for name in made}
    assert all(held.values())

    own_postgres.stop()  # pg_ctl stop -m fast: every session ends
    time.sleep(2 * LEASE)  # away longer than the lease: nobody can renew
    own_postgres.start()

    for name in made:
        wait_for(lambda n=name: runs_of(url, n) and runs_of(url, n)[-1].status != "running", 60,
                 f"{name}'s run never ended")  # fmt: skip
        seen = runs_of(url, name)
        assert [(r.status, r.owner) for r in seen] == [("succeeded", held[name])]
    for worker in crew:
        assert worker.process.poll() is None
        assert "taken over" not in worker.said()
    for k, base in enumerate(bases):
        converged(base, made[f"hr-{k}"])
    print(f"\n{len(made)} runs held by {len({*held.values()})} workers through the restart")
