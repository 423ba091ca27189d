"""Each preset against the emulator's play of its HR system, in process: the first sync, a
joiner, movers, a leaver, a rehire and an email change all converge; a truncated read, a
revoked key and a throttled API change nothing they should not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hrsync.access.connections import Connections
from hrsync.access.services import CustomService
from hrsync.access.vault import Vault, new_key
from hrsync.config import SourceConfig
from hrsync.errors import SafetyHold, SourceError
from hrsync.store import Store
from tests.conftest import World
from tests.hr_vendors import VENDORS, Person, Vendor, people
from tests.support import cliq_users, converge, planned

NAMES = sorted(VENDORS)


def on(world: World, vendor: Vendor) -> None:
    """Point the world's settings at the vendor's API."""
    keys = vendor.source(world.http, world.base)
    world.settings.source = SourceConfig.model_validate(keys)


def matches(world: World, persons: list[Person]) -> None:
    users = cliq_users(world)
    for p in persons:
        user = users[p["employee_id"]]
        active = p["status"] == "active"
        assert (user["status"] != "inactive") == active, p["employee_id"]
        if not active:
            continue
        assert user["email_id"] == p["email"]
        assert (user["first_name"], user["last_name"]) == (p["first_name"], p["last_name"])
        assert user["department"]["name"] == p["department"]
        assert user["designation"]["name"] == p["designation"]
        if p["manager_id"]:
            assert user["reportingto"]["id"] == users[p["manager_id"]]["id"], p["employee_id"]


@pytest.mark.parametrize("name", NAMES)
def test_joiners_movers_leavers_rehire_and_email_change_converge(world: World, name: str) -> None:
    vendor = VENDORS[name]
    on(world, vendor)
    persons = people(40)
    vendor.seed(world.http, world.base, persons)
    converge(world)
    matches(world, persons)
    assert planned(world) == []

    world.clock.advance(600)
    joiner = people(41)[-1]
    persons.append(joiner)
    for p in persons[10:13]:
        p["department"], p["designation"] = "Support", "Support Specialist"
    persons[20]["status"] = "inactive"
    persons[21]["email"] = "renamed.21@zylker.example"
    vendor.seed(world.http, world.base, [joiner, *persons[10:13], persons[20], persons[21]])
    converge(world)
    matches(world, persons)
    assert planned(world) == []

    world.clock.advance(600)
    persons[20]["status"] = "active"  # the rehire
    vendor.seed(world.http, world.base, [persons[20]])
    assert planned(world) == [f"Would reactivate {persons[20]['email']} (rehire)"]
    converge(world)
    matches(world, persons)
    ids = [u.get("employee_id") for u in world.state()["users"]]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids))  # nobody invited twice


@pytest.mark.parametrize("name", NAMES)
def test_a_truncated_read_deactivates_nobody(world: World, name: str) -> None:
    """Personio declares its total: a short read is a failed read. BambooHR's report and
    HiBob's search declare none: the people missing are held by the deactivation guard."""
    vendor = VENDORS[name]
    on(world, vendor)
    persons = people(30)
    vendor.seed(world.http, world.base, persons)
    converge(world)
    world.clock.advance(8 * 86_400)  # past the weekly full read
    cut: dict[str, Any] = {"mode": "truncate"}
    if name == "hibob":
        cut["cut"] = "employees"
    vendor.fault(world.http, world.base, **cut)
    app = world.app()
    try:
        with pytest.raises(SourceError if name == "personio" else (SourceError, SafetyHold)):
            app.engine.run_apply()
    finally:
        app.close()
    assert all(u["status"] != "inactive" for u in cliq_users(world).values())


def test_hibobs_cut_off_answer_is_a_failed_read(world: World) -> None:
    vendor = VENDORS["hibob"]
    on(world, vendor)
    vendor.seed(world.http, world.base, people(12))
    converge(world)
    vendor.fault(world.http, world.base, mode="truncate", cut="json")
    app = world.app()
    try:
        with pytest.raises(SourceError, match="no records"):
            app.engine.run_apply()
    finally:
        app.close()
    assert all(u["status"] != "inactive" for u in cliq_users(world).values())


@pytest.mark.parametrize("name", NAMES)
def test_a_revoked_key_is_a_clear_error_and_changes_nothing(world: World, name: str) -> None:
    vendor = VENDORS[name]
    on(world, vendor)
    persons = people(12)
    vendor.seed(world.http, world.base, persons)
    converge(world)
    before = cliq_users(world)
    rest = world.settings.source.rest
    if name == "bamboohr":
        rest["auth"]["token"] = "revoked-key"
    elif name == "personio":
        rest["auth"]["client_secret"] = "wrong-secret"
    else:
        rest["auth"]["password"] = "wrong-token"
    world.settings.source = SourceConfig.model_validate(world.settings.source.model_dump())
    app = world.app()
    try:
        with pytest.raises(SourceError, match=r"credentials|token|client_secret"):
            app.engine.run_apply()
    finally:
        app.close()
    assert cliq_users(world) == before


@pytest.mark.parametrize("name", NAMES)
def test_a_throttled_api_is_waited_out_as_it_asks(world: World, name: str) -> None:
    vendor = VENDORS[name]
    on(world, vendor)
    persons = people(20)
    vendor.seed(world.http, world.base, persons)
    vendor.fault(world.http, world.base, mode="throttle", count=1)
    started = world.clock.now()
    converge(world)
    matches(world, persons)
    waited = world.clock.now() - started
    assert waited >= 1  # the throttled call was tried again only after a wait
    stats = world.stats()
    assert stats["hr"][name]  # type: ignore[index]
    assert stats["lock_periods_total"] == 0


def test_a_stored_connection_holds_the_hr_apis_credentials(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hrsync connections add bob --service custom --auth basic …`: the preset reads HiBob
    through it, its secret sealed in the store, none in hrsync.toml."""
    monkeypatch.setenv("HRSYNC_SECRET_KEY", new_key())
    vendor = VENDORS["hibob"]
    vendor.source(world.http, world.base)  # makes the service user
    store = Store(world.settings.store.url, clock=world.clock)
    connections = Connections(store, Vault.open(tmp_path / "hrsync.key"), world.http, world.clock)
    service = CustomService(name="HiBob", auth_type="basic", base_url=f"{world.base}/hibob")
    connections.add_custom(
        "bob", service, username="SERVICE-HRSYNC", password="bob-token-1", allow_http=True
    )
    store.close()
    world.settings.source = SourceConfig.model_validate(
        {"kind": "rest", "preset": "hibob",
         "rest": {"connection": "bob", "base_url": "", "allow_http": True}}
    )  # fmt: skip
    persons = people(15)
    vendor.seed(world.http, world.base, persons)
    converge(world)
    matches(world, persons)


def test_an_expired_token_is_asked_for_again_and_the_read_goes_on(world: World) -> None:
    """One hrsync process keeps its Personio token between runs; Personio expires it; the
    refused call gets a fresh token and is sent again, once."""
    vendor = VENDORS["personio"]
    on(world, vendor)
    persons = people(50)
    vendor.seed(world.http, world.base, persons)
    app = world.app()
    try:
        app.engine.run_apply()
        personio: Any = lambda: world.stats()["hr"]["personio"]  # noqa: E731
        assert personio()["tokens_issued"] == 1
        vendor.fault(world.http, world.base, mode="expire_tokens")
        persons[5]["designation"] = "Lead"
        vendor.seed(world.http, world.base, [persons[5]])
        world.clock.advance(600)
        app.engine.run_apply()
        assert personio()["tokens_issued"] == 2
        assert personio()["tokens_refused"] == 1
    finally:
        app.close()
    matches(world, persons)
