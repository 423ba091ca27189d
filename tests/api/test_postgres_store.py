"""The store on a real PostgreSQL server: migrations, a whole sync, runs and their guards,
and one shared access token for two processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrsync.access.connections import Connections
from hrsync.access.vault import Vault, new_key
from hrsync.cli.demo import sample_employees
from hrsync.config import StoreConfig
from hrsync.errors import ConcurrentRun
from hrsync.store import Store
from tests.api.test_shared_tokens import plan_in_a_new_process
from tests.conftest import World
from tests.support import (
    authorise_at_emulator,
    cliq_users,
    converge,
    emulated_connection,
    planned,
)

pytestmark = pytest.mark.postgres


def test_a_sync_keeps_its_state_in_postgresql(world: World, postgres_url: str) -> None:
    world.settings.store = StoreConfig(url=postgres_url)
    rows = sample_employees(150)
    world.write(rows)
    converge(world)
    assert len(cliq_users(world)) == 150 and planned(world) == []
    rows[20]["department"] = "Support"
    world.write(rows)
    converge(world)
    assert cliq_users(world)["E00021"]["department"]["name"] == "Support"
    store = Store(postgres_url, clock=world.clock)
    runs = store.runs()
    assert [r.mode for r in runs].count("apply") == 2
    assert all(r.status == "succeeded" for r in runs)
    assert len(store.links()) == 150
    store.close()


def test_a_live_apply_holds_the_integration_in_postgresql(
    world: World,
    postgres_url: str,
) -> None:
    import socket
    import subprocess
    import sys

    from sqlalchemy import update

    from hrsync.store.tables import Run

    store = Store(postgres_url, clock=world.clock)
    busy = store.start_run("apply")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with store.engine.begin() as connection:
            owner = f"{socket.gethostname()}:{live.pid}"
            connection.execute(update(Run).where(Run.id == busy).values(owner=owner))
        with pytest.raises(ConcurrentRun):
            store.start_run("apply")
    finally:
        live.kill()
        live.wait()
    store.start_run("apply")
    record = store.run(busy)
    assert record is not None and record.status == "interrupted"
    store.close()


def test_two_processes_share_one_token_in_postgresql(
    world: World,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    vault = Vault.open(tmp_path / "k", environ={"HRSYNC_SECRET_KEY": new_key()})
    one, two = (Store(postgres_url, clock=world.clock) for _ in range(2))
    first = Connections(one, vault, world.http, world.clock)
    second = Connections(two, vault, world.http, world.clock)
    emulated_connection(world, first)
    authorise_at_emulator(world, first)
    world.clock.advance(3600)
    before = world.stats()["token_refreshes"]
    token = second.access_token("cliq")
    assert first.access_token("cliq") == token
    assert world.stats()["token_refreshes"] == before + 1  # type: ignore[operator]
    one.close()
    two.close()


def test_keys_in_the_config_share_one_token_in_postgresql(world: World, postgres_url: str) -> None:
    world.settings.store = StoreConfig(url=postgres_url)
    world.write(sample_employees(10))
    for _ in range(3):
        plan_in_a_new_process(world)
    assert world.stats()["token_refreshes"] == 1


def test_memberships_recorded_twice_are_kept_once_in_both_stores(
    world: World, postgres_url: str, tmp_path: Path
) -> None:
    for url in (postgres_url, f"sqlite:///{tmp_path / 'm.db'}"):
        store = Store(url, clock=world.clock)
        store.add_many_memberships("team", {"Sales": ["E1", "E2"], "Ops": ["E2"]})
        store.add_many_memberships("team", {"sales": ["E2", "E3"]})  # E2 again, another case
        assert store.memberships("team") == {"sales": {"E1", "E2", "E3"}, "ops": {"E2"}}
        store.close()


def test_journal_and_call_log_statements_sent_as_they_are_in_both_stores(
    world: World, postgres_url: str, tmp_path: Path
) -> None:
    """Marks of more keys than one statement takes, and the pacing log's own statements,
    with each driver's parameter mark (sqlite3 ``?``, psycopg ``%s``)."""
    for url in (postgres_url, f"sqlite:///{tmp_path / 'j.db'}"):
        store = Store(url, clock=world.clock)
        run = store.start_run("apply")
        keys = [f"user:E{i:05}:invite" for i in range(1_200)]
        store.journal_intend(run, ((k, "invite", "invite", "{}") for k in keys))
        store.journal_mark(run, keys[:1_100], "confirmed")
        store.journal_mark(run, keys[1_100:], "failed", error="refused")
        states = {r.change_key: (r.state, r.error) for r in store.journal(run)}
        assert len(states) == 1_200
        assert states[keys[0]] == states[keys[1_099]] == ("confirmed", "")
        assert states[keys[1_100]] == states[keys[-1]] == ("failed", "refused")
        log = store.call_log("cliq.example")
        first = log.reserve("users.add", now=100.0, since=40.0, decide=lambda *_: 0.0)
        second = log.reserve("users.add", now=101.0, since=41.0, decide=lambda *_: 0.0)
        assert first.ticket is not None and second.ticket is not None
        assert second.ticket != first.ticket
        log.complete(first.ticket, 102.5)
        log.add("users.add!locked", 160.0)
        assert log.recent("users.add", 50.0) == ([101.0, 102.5], 160.0)
        store.close()
