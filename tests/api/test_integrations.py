"""Integrations: pending actions until complete, enable, deactivate and activate, a guarded
delete, and syncing through an integration with its own runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hrsync.access import admin
from hrsync.access.connections import Connections
from hrsync.access.integrations import IntegrationProblem, Integrations
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.errors import ConfigError
from hrsync.schedule import Interval, parse_schedule
from hrsync.store import Store
from hrsync.wiring import build
from tests.conftest import World
from tests.support import authorise_at_emulator, emulated_connection


@pytest.fixture
def integrations(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Integrations]:
    monkeypatch.setenv(ENV_KEY, new_key())  # the sync's own wiring opens the same vault
    store = Store(world.settings.store.url, clock=world.clock)
    vault = Vault.open(tmp_path / "unused.key")
    yield Integrations(store, Connections(store, vault, world.http, world.clock))
    store.close()


def connect_cliq(world: World, connections: Connections, scopes: list[str]) -> None:
    emulated_connection(world, connections, scopes=scopes)
    authorise_at_emulator(world, connections)


def test_pending_actions_until_complete_then_a_sync_of_its_own(
    world: World, integrations: Integrations, tmp_path: Path
) -> None:
    export = tmp_path / "hr.csv"
    rows = sample_employees(30)
    write_csv(export, rows)
    export.write_text(export.read_text().replace("employee_id", "EmpNo", 1))
    config = {
        "source": {"path": str(export)},
        "cliq": {"connection": "cliq"},
        "rules": {"teams_per": ["department"]},
        "custom_fields": {"work_location": "Work Location", "gender": "Pronoun"},
    }
    created = integrations.create("hr-to-cliq", config, schedule="every 15 min")
    assert created.status == "draft"
    assert created.pending == [
        "the required field employee_id is not mapped: no column 'employee_id' in hr.csv "
        "(map it under [source.columns])",
        "[cliq] no connection named 'cliq' (connections: none yet)",
    ]
    with pytest.raises(IntegrationProblem, match="cannot be enabled yet; pending actions"):
        integrations.enable("hr-to-cliq")

    connect_cliq(world, integrations.connections, ["ZohoCliq.Users.ALL"])
    pending = integrations.show("hr-to-cliq").pending
    assert pending[1:] == [
        "connection cliq lacks the scope(s) ZohoCliq.Departments.ALL, "
        "ZohoCliq.Designations.ALL, ZohoCliq.Teams.ALL: add them and authorise it again"
    ]

    integrations.connections.delete("cliq")
    connect_cliq(
        world,
        integrations.connections,
        [
            "ZohoCliq.Users.ALL",
            "ZohoCliq.Departments.ALL",
            "ZohoCliq.Designations.ALL",
            "ZohoCliq.Teams.CREATE",
            "ZohoCliq.Teams.ALL",
        ],
    )
    config["source"]["columns"] = {"employee_id": "EmpNo"}  # type: ignore[index]
    assert integrations.configure("hr-to-cliq", config).pending == [
        "custom field 'Pronoun' does not exist in Cliq: create it, or change [custom_fields]"
    ]
    config["custom_fields"] = {"work_location": "Work Location"}
    integrations.configure("hr-to-cliq", config)
    assert integrations.enable("hr-to-cliq").status == "enabled"

    settings = integrations.runnable("hr-to-cliq", world.settings)
    app = build(
        settings,
        dry_run=False,
        clock=world.clock,
        client=world.http,
        pacer_margin=0,
        integration="hr-to-cliq",
    )
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.report is not None and len(outcome.report.done) > 30
    mine = Store(world.settings.store.url, clock=world.clock, integration="hr-to-cliq")
    default = Store(world.settings.store.url, clock=world.clock)
    assert [r.mode for r in mine.runs()] == ["apply"] and default.runs() == []
    mine.close()
    default.close()

    config["custom_fields"] = {"gender": "Pronoun"}  # incomplete again: back to draft
    assert integrations.configure("hr-to-cliq", config).status == "draft"
    config["custom_fields"] = {}
    integrations.configure("hr-to-cliq", config)
    integrations.enable("hr-to-cliq")
    integrations.deactivate("hr-to-cliq")
    with pytest.raises(IntegrationProblem, match="deactivated"):
        integrations.runnable("hr-to-cliq", world.settings)
    assert integrations.activate("hr-to-cliq").status == "enabled"


def test_deleting_an_integration_needs_a_recent_reauthentication(
    world: World, integrations: Integrations
) -> None:
    integrations.create("old", {"cliq": {"connection": "none"}})
    store = integrations.store
    with pytest.raises(admin.ReauthenticationNeeded, match="no admin passphrase is set"):
        integrations.delete("old")
    admin.set_passphrase(store, "a long admin passphrase")
    with pytest.raises(admin.ReauthenticationNeeded, match="re-authenticate first"):
        integrations.delete("old")
    with pytest.raises(admin.ReauthenticationNeeded, match="not the admin passphrase"):
        admin.reauthenticate(store, "a wrong guess of it")
    admin.reauthenticate(store, "a long admin passphrase")
    world.clock.advance(301)  # too long ago
    with pytest.raises(admin.ReauthenticationNeeded):
        integrations.delete("old")
    admin.reauthenticate(store, "a long admin passphrase")
    integrations.delete("old")
    assert integrations.names() == []


def test_schedules_are_strict_and_say_when_a_run_is_due(
    world: World, integrations: Integrations
) -> None:
    assert parse_schedule("every 15 min") == Interval("every 15 min", 900)
    assert parse_schedule("Every 2 hours") == Interval("Every 2 hours", 7200)
    assert parse_schedule("every day") == Interval("every day", 86400)
    assert parse_schedule("") is None
    with pytest.raises(ConfigError, match="write it as 'every 15 min'"):
        parse_schedule("quarter-hourly")
    with pytest.raises(ConfigError, match="at least every 5 min"):
        parse_schedule("every 1 min")
    with pytest.raises(ConfigError, match="quarter-hourly"):
        integrations.create("x", {}, schedule="quarter-hourly")

    integrations.create("hourly", {}, schedule="every hour")
    integrations.create("by-hand", {})
    for name in ("hourly", "by-hand"):
        integrations._set_status(name, "enabled")  # complete or not, for the schedule's sake
    assert integrations.due() == ["hourly"]  # never ran
    runs = Store(world.settings.store.url, clock=world.clock, integration="hourly")
    runs.finish_run(runs.start_run("apply"), "succeeded", {})
    assert integrations.due() == []
    world.clock.advance(3600)
    assert integrations.due() == ["hourly"]
    integrations.deactivate("hourly")
    assert integrations.due() == []
    runs.close()
