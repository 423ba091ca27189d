"""Department reads that need the Zoho People scope the departments document lists: without
it hrsync syncs users, leaves departments alone and names the scope in a pending action."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hrsync.access.connections import Connections
from hrsync.access.services import ZOHO_SERVICES
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.cli.demo import DEMO_SCOPES, grant_refresh_token
from hrsync.config import ZohoServiceConfig
from hrsync.store import Store
from hrsync.sync.pending import pending_actions
from tests.api.readings import bearer, export, play
from tests.conftest import BASE, World, service
from tests.support import (
    authorise_at_emulator,
    cliq_users,
    converge,
    emulated_connection,
    planned,
)

PEOPLE_EMPLOYEE = "ZohoPeople.employee.READ"


def _token(world: World, scopes: str) -> None:
    """The world's Cliq keys replaced by a grant of ``scopes``."""
    client_id, secret, refresh = grant_refresh_token(world.http, BASE, scope=scopes)
    world.settings.cliq = service(BASE, client_id, secret, refresh)


def test_department_reads_need_the_documented_people_scope(world: World) -> None:
    play(world, "departments-need-people-scope")
    cliq_only = "ZohoCliq.Users.ALL,ZohoCliq.Departments.ALL,ZohoCliq.Designations.ALL"
    _token(world, cliq_only)
    auth = bearer(world)
    listing = world.http.get(f"{BASE}/api/v2/departments", headers=auth)
    assert (listing.status_code, listing.json()["code"]) == (403, "invalid_oauthscope")
    assert world.http.get(f"{BASE}/api/v2/designations", headers=auth).status_code == 200
    for held in (PEOPLE_EMPLOYEE, "ZohoPeople.employee.ALL"):
        _token(world, f"{cliq_only},{held}")
        auth = bearer(world)
        listing = world.http.get(f"{BASE}/api/v2/departments", headers=auth)
        assert listing.status_code == 200, held
    base = listing.json()["data"][0]["id"]
    # each department read needs the People scope its document lists
    one = f"{BASE}/api/v2/departments/{base}"
    members = f"{one}/members"
    assert world.http.get(one, headers=auth).status_code == 403
    assert world.http.get(members, headers=auth).status_code == 403
    _token(world, f"{cliq_only},ZohoPeople.forms.READ,ZohoPeople.dashboard.READ")
    auth = bearer(world)
    assert world.http.get(one, headers=auth).status_code == 200
    assert world.http.get(members, headers=auth).status_code == 200
    play(world)  # by default Cliq's own scope is enough
    _token(world, cliq_only)
    assert world.http.get(f"{BASE}/api/v2/departments", headers=bearer(world)).status_code == 200


def test_without_the_people_scope_users_sync_and_departments_wait(world: World) -> None:
    """Before: the first plan stopped with a bare AuthError."""
    play(world, "departments-need-people-scope")
    _token(world, DEMO_SCOPES.replace(f"{PEOPLE_EMPLOYEE},", ""))
    rows = export(20)
    world.write(rows)
    app = world.app(dry_run=True)
    try:
        plan, _, _ = app.engine.plan()
    finally:
        app.close()
    actions, _ = pending_actions(plan)
    waiting = [a.action for a in actions if PEOPLE_EMPLOYEE in a.action]
    assert len(waiting) == 1, plan.pending
    assert "/api/v2/departments" in waiting[0] and "refresh_token" in waiting[0]
    assert not any(c.kind == "create_department" for c in plan.changes)
    converge(world)
    users = cliq_users(world)
    assert users.keys() == {r["employee_id"] for r in rows}
    assert {u["department"]["name"] for u in users.values()} == {"Zylker"}  # left alone
    assert {u["designation"]["name"] for u in users.values()} == {r["designation"] for r in rows}
    assert planned(world) == []  # nothing more to do until the scope is granted
    _token(world, DEMO_SCOPES)  # the connection authorised again with the People scope
    converge(world)
    users = cliq_users(world)
    assert {u["department"]["name"] for u in users.values()} == {r["department"] for r in rows}
    assert planned(world) == []


def test_the_cliq_connection_asks_for_the_people_scopes_its_documents_list() -> None:
    scopes = ZOHO_SERVICES["zoho_cliq"].scopes
    for documented in ("ZohoPeople.forms.READ", PEOPLE_EMPLOYEE, "ZohoPeople.attendance.READ"):
        assert documented in scopes
    assert all(s in DEMO_SCOPES.split(",") for s in scopes if s.startswith("ZohoPeople"))


def test_a_connection_made_before_hrsync_asked_for_the_scope_is_told_how_to_add_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_KEY, new_key())  # the sync's own wiring opens the same vault
    play(world, "departments-need-people-scope")
    store = Store(world.settings.store.url, clock=world.clock)
    connections = Connections(store, Vault.open(Path("unused")), world.http, world.clock)
    cliq_scopes = [s for s in ZOHO_SERVICES["zoho_cliq"].scopes if "People" not in s]
    emulated_connection(world, connections, scopes=cliq_scopes)  # as an older hrsync asked
    authorise_at_emulator(world, connections)
    world.settings.cliq = ZohoServiceConfig(connection="cliq")
    world.write(export(8))
    app = world.app(dry_run=True)
    try:
        plan, _, _ = app.engine.plan()
    finally:
        app.close()
    (waiting,) = [p for p in plan.pending if PEOPLE_EMPLOYEE in p]
    command = f"`hrsync connections authorise cliq --add-scope {PEOPLE_EMPLOYEE}`"
    assert waiting.endswith(command)
    redirect = "http://127.0.0.1:8765/callback"
    url = connections.authorize_url(
        "cliq", redirect_uri=redirect, state="s", also=[PEOPLE_EMPLOYEE]
    )
    assert PEOPLE_EMPLOYEE in httpx.URL(url).params["scope"].split(",")
    consent = world.http.get(url)
    code = httpx.URL(consent.headers["location"]).params["code"]
    info = connections.authorise("cliq", code=code, redirect_uri=redirect, also=[PEOPLE_EMPLOYEE])
    assert PEOPLE_EMPLOYEE in info.scopes
    store.close()
    converge(world)
    assert planned(world) == []
    users = cliq_users(world)
    assert {u["department"]["name"] for u in users.values()} != {"Zylker"}
