"""One owner per Cliq organisation. hrsync.toml's own integration runs like any other once the
file is complete (listed as hrsync.toml, on its [sync] schedule); a second integration over
an organisation another one manages — the same Cliq host and OAuth client — is refused at
create and at enable, naming the other and saying what to do, unless the two have disjoint
[scope]s; the file's own integration gives way to an enabled one. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hrsync.access.connections import Connections
from hrsync.access.integrations import IntegrationProblem, Integrations
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.cli.demo import sample_employees
from hrsync.config import Settings
from hrsync.config_scope import ScopeConfig
from hrsync.errors import ConfigError
from hrsync.store import Store
from tests.api.conftest import Hrsync
from tests.conftest import World
from tests.support import authorise_at_emulator, emulated_connection

KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
HEAD_OFFICE = ["Leadership", "Engineering", "Sales", "Support"]
BACK_OFFICE = ["Finance", "People", "Marketing"]


@pytest.fixture(params=KINDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'owners.db'}"


class Owners:
    """A store at ``url``, a Cliq connection to the world's emulator with the same OAuth
    client as the world's keys, and integrations seen with or without an hrsync.toml."""

    def __init__(self, world: World, url: str, tmp_path: Path) -> None:
        self.world = world
        self.store = Store(url, clock=world.clock)
        vault = Vault.open(tmp_path / "unused.key")
        self.connections = Connections(self.store, vault, world.http, world.clock)
        emulated_connection(world, self.connections)
        world.write(sample_employees(30))

    def toml(self, **changes: Any) -> Settings:
        """hrsync.toml: the world's export and Cliq keys (one organisation with "cliq")."""
        return self.world.settings.model_copy(
            update={"store": self.world.settings.store.model_copy(update={"url": self.url})}
            | changes
        )

    @property
    def url(self) -> str:
        return self.store.url

    def seen(self, toml: Settings | None = None) -> Integrations:
        return Integrations(self.store, self.connections, toml=toml)

    def config(self, *departments: str) -> dict[str, Any]:
        config: dict[str, Any] = {
            "source": {"path": str(self.world.csv)},
            "cliq": {"connection": "cliq"},
        }
        if departments:
            config["scope"] = {"department": list(departments)}
        return config


@pytest.fixture
def owners(
    world: World, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Owners]:
    monkeypatch.setenv(ENV_KEY, new_key())
    made = Owners(world, url, tmp_path)
    yield made
    made.store.close()


def test_hrsync_toml_runs_like_any_other_integration(owners: Owners) -> None:
    integrations = owners.seen(owners.toml())
    [shown] = integrations.every(ask_zoho=False)
    assert (shown.name, shown.label, shown.status, shown.pending) == (
        "default",
        "hrsync.toml",
        "enabled",
        [],
    )
    assert shown.schedule == "every 15 min"
    assert integrations.due() == ["default"]  # it never ran
    assert integrations.runnable("default", owners.toml()).cliq.client_id
    runs = Store(owners.url, clock=owners.world.clock)  # the file's own runs: "default"
    runs.finish_run(runs.start_run("apply"), "succeeded", {})
    runs.close()
    assert integrations.due() == [] and not integrations.is_due("default")
    assert integrations.next_run("default") == owners.world.clock.now() + 900
    owners.world.clock.advance(900)
    assert integrations.due() == ["default"]
    by_hand = owners.seen(owners.toml(sync=owners.world.settings.sync.model_copy(
        update={"schedule": ""})))  # fmt: skip
    assert by_hand.toml_runs() and by_hand.due() == []

    with pytest.raises(IntegrationProblem, match=r"changed in hrsync\.toml itself"):
        integrations.enable("default")
    for name in ("default", "hrsync.toml"):
        with pytest.raises(IntegrationProblem, match=r"is hrsync\.toml's own integration"):
            integrations.create(name, owners.config())

    owners.world.csv.unlink()  # incomplete: a draft that says why, and does not run
    [waiting] = integrations.every(ask_zoho=False)
    assert waiting.status == "draft" and integrations.due() == []
    assert waiting.pending == [f"the HR export {owners.world.csv} does not exist"]
    with pytest.raises(IntegrationProblem, match=r"hrsync\.toml's own integration cannot run"):
        integrations.runnable("default", owners.toml())
    no_cliq = owners.toml(cliq=Settings().cliq)  # names no Cliq organisation: no integration
    assert owners.seen(no_cliq).every() == [] and owners.seen(no_cliq).due() == []


def test_a_stored_integration_runs_on_weekdays_at_a_time_of_day_in_its_zone(
    owners: Owners,
) -> None:
    integrations = owners.seen()
    integrations.create("hr", owners.config(), schedule="weekdays at 07:30 Asia/Kolkata")
    authorise_at_emulator(owners.world, owners.connections)
    integrations.enable("hr")
    clock = owners.world.clock  # Thursday 2026-01-01 00:00 UTC, 05:30 in Kolkata
    assert integrations.due() == ["hr"]  # it never ran: at once
    assert integrations.show("hr", ask_zoho=False).next_run == "at the next check"

    def run() -> None:
        runs = Store(owners.url, clock=clock, integration="hr")
        runs.finish_run(runs.start_run("apply"), "succeeded", {})
        runs.close()

    run()
    assert integrations.due() == []
    shown = integrations.show("hr", ask_zoho=False)
    assert shown.next_run == "2026-01-01 07:30 IST (Asia/Kolkata)"
    clock.advance(2 * 3600 - 1)  # 07:29:59 IST
    assert integrations.due() == []
    clock.advance(1)
    assert integrations.due() == ["hr"]
    run()
    assert integrations.show("hr", ask_zoho=False).next_run == "2026-01-02 07:30 IST (Asia/Kolkata)"
    clock.advance(86400)  # Friday 07:30
    run()
    assert integrations.show("hr", ask_zoho=False).next_run == "2026-01-05 07:30 IST (Asia/Kolkata)"
    clock.advance(2 * 86400)  # Sunday 07:30: no run at the weekend
    assert integrations.due() == []
    with pytest.raises(ConfigError, match=r"schedule 'weekends at 10:00': write it as"):
        integrations.reschedule("hr", "weekends at 10:00")


def test_a_second_integration_over_the_tomls_organisation_is_refused_naming_it(
    owners: Owners,
) -> None:
    integrations = owners.seen(owners.toml())
    with pytest.raises(IntegrationProblem) as refused:
        integrations.create("hr", owners.config())
    said = str(refused.value)
    assert said.startswith(
        f"the Cliq organisation at {owners.world.base} (OAuth client "
        f"{owners.world.settings.cliq.client_id}) is managed already by hrsync.toml's own "
        "integration (listed as hrsync.toml)"
    )
    assert "[scope]" in said and "keep only [store] and [notify] in hrsync.toml" in said
    with pytest.raises(IntegrationProblem, match=r"managed already by hrsync\.toml"):
        integrations.create("hr", owners.config(*BACK_OFFICE))  # the file's scope: everyone
    assert integrations.names() == []

    apart = owners.seen(owners.toml(scope=ScopeConfig(include={"department": HEAD_OFFICE})))
    made = apart.create("hr", owners.config(*BACK_OFFICE))
    assert made.status == "draft"
    assert not any("managed already" in p for p in made.pending)
    with pytest.raises(IntegrationProblem, match=r"managed already by hrsync\.toml"):
        apart.create("sales", owners.config("Sales", "Finance"))  # Sales is the file's


def test_enable_is_refused_while_another_integration_manages_the_organisation(
    owners: Owners,
) -> None:
    authorise_at_emulator(owners.world, owners.connections)
    integrations = owners.seen()
    integrations.create("a", owners.config(), schedule="every 15 min")  # drafts manage nothing
    integrations.create("b", owners.config(), schedule="every 15 min")
    assert integrations.enable("a").status == "enabled"
    with pytest.raises(IntegrationProblem) as refused:
        integrations.enable("b")
    said = str(refused.value)
    assert said.startswith("b cannot be enabled yet; pending actions: the Cliq organisation at")
    assert "is managed already by the integration 'a'" in said
    assert "or deactivate a first (`hrsync integrations deactivate a`)" in said
    with pytest.raises(IntegrationProblem, match="managed already by the integration 'a'"):
        integrations.create("c", owners.config(*BACK_OFFICE))  # a's scope: everyone

    assert integrations.configure("a", owners.config(*HEAD_OFFICE)).status == "enabled"
    integrations.configure("b", owners.config(*BACK_OFFICE))
    assert integrations.enable("b").status == "enabled"  # disjoint: both manage it
    assert integrations.show("a").pending == [] and integrations.show("b").pending == []
    assert integrations.due() == ["a", "b"]
    with pytest.raises(IntegrationProblem) as both:
        integrations.create("remote", owners.config() | {"scope": {"work_location": "Remote"}})
    assert "integration 'a'" in str(both.value)  # a location may be in either: not disjoint
    integrations.configure("a", owners.config())  # everyone again: a goes back to draft
    assert integrations.show("a").status == "draft"
    assert "managed already by the integration 'b'" in "; ".join(integrations.show("a").pending)


def test_hrsync_toml_gives_way_to_an_enabled_integration(owners: Owners) -> None:
    authorise_at_emulator(owners.world, owners.connections)
    owners.seen().create("hr", owners.config(), schedule="every 15 min")
    owners.seen().enable("hr")  # before the file named the organisation
    integrations = owners.seen(owners.toml())
    shown = integrations.toml_info()
    assert shown is not None and shown.status == "draft"
    assert shown.pending == [
        f"the Cliq organisation at {owners.world.base} (OAuth client "
        f"{owners.world.settings.cliq.client_id}) is managed already by the integration 'hr', "
        "so hrsync.toml's own integration does not run: give both a [scope] no person matches "
        "twice, or take [cliq] out of hrsync.toml and leave the organisation to hr"
    ]
    assert integrations.due() == ["hr"] and not integrations.toml_runs()
    assert integrations.show("hr").pending == []  # the enabled one runs on
    with pytest.raises(IntegrationProblem, match="managed already by the integration 'hr'"):
        integrations.runnable("default", owners.toml())


def test_an_integration_made_from_hrsync_toml_beside_it_is_refused(
    world: World, hrsync: Hrsync, tmp_path: Path
) -> None:
    world.write(sample_employees(20))
    config = str(tmp_path / "hrsync.toml")
    refused = hrsync("integrations", "create", "hr", "--from", config)
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())
    assert "is managed already by hrsync.toml's own integration (listed as hrsync.toml)" in said
    assert "--scope department=Sales" in said
    listed = hrsync("--json", "integrations", "list")
    [toml] = json.loads(listed.stdout)["integrations"]
    assert (toml["label"], toml["status"]) == ("hrsync.toml", "enabled")

    with Path(config).open("a", encoding="utf-8") as file:
        file.write('[scope]\ndepartment = ["Leadership", "Engineering", "Sales", "Support"]\n')
    made = hrsync(
        "integrations", "create", "hr", "--from", config,
        "--scope", "department=Finance,People", "--scope", "department=Marketing",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    shown = hrsync("--json", "integrations", "show", "hr")
    assert "(scope: department = Finance, People, Marketing)" in shown.stdout


def test_a_sync_schedule_in_an_integrations_file_becomes_its_schedule(owners: Owners) -> None:
    integrations = owners.seen()
    every_two_hours = owners.config() | {"sync": {"schedule": "every 2 hours"}}
    assert integrations.create("hr", every_two_hours).schedule == "every 2 hours"
    assert "sync" not in integrations.config("hr")  # kept beside the configuration, not in it
    assert integrations.create("second", every_two_hours, schedule="").schedule == "every 2 hours"
    daily = owners.config() | {"sync": {"schedule": "every day"}}
    assert integrations.configure("hr", daily) and integrations.show("hr").schedule == "every day"
    with pytest.raises(ConfigError, match="takes one key, schedule"):
        integrations.configure("hr", owners.config() | {"sync": {"every": "day"}})


def test_hrsync_sync_of_the_toml_is_refused_while_another_integration_manages_its_organisation(
    world: World, hrsync: Hrsync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line keeps one owner per organisation too: an integration enabled over
    the organisation before hrsync.toml named it runs; the file's own sync does not."""
    world.write(sample_employees(20))
    monkeypatch.setenv(ENV_KEY, new_key())
    store = Store(world.settings.store.url, clock=world.clock)
    try:
        vault = Vault.open(tmp_path / "unused.key")
        connections = Connections(store, vault, world.http, world.clock)
        emulated_connection(world, connections)  # the same OAuth client as the file's keys
        authorise_at_emulator(world, connections)
        seen = Integrations(store, connections, toml=None)  # made before the file named Cliq
        seen.create("hr", {"source": {"path": str(world.csv)}, "cliq": {"connection": "cliq"}})
        seen.enable("hr")
    finally:
        store.close()
    refused = hrsync("sync")
    assert refused.exit_code == 1, refused.output
    said = " ".join(str(refused.exception).split())  # one line under the console script
    assert "is managed already by the integration 'hr', so hrsync.toml's own integration" in said
    assert world.state()["users"] and all(  # type: ignore[index]
        not u.get("employee_id")
        for u in world.state()["users"]  # type: ignore[index]
    )
    assert hrsync("plan").exit_code in (0, 2)  # reading is anyone's
