"""Declared Cliq roles (created, permissions held) and rule-driven role membership."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import GroupRule, RoleConfig, RulesConfig
from tests.conftest import World
from tests.support import converge, planned

ATTACHMENTS_OFF = {"module": "organisation_member", "action": "attachments", "status": "disabled"}


def role_of(world: World) -> dict[str, str]:
    """Employee id → the name of their Cliq role."""
    state: Any = world.state()
    names = {r["id"]: r["name"] for r in state["roles"]}
    return {u["employee_id"]: names[u["role_id"]] for u in state["users"] if u.get("employee_id")}


def test_a_declared_role_is_created_held_and_given_by_the_rules(world: World) -> None:
    world.settings.roles = [
        RoleConfig(
            name="Sales Lead",
            clone_of="Members",
            description="Account executives",
            permissions=[ATTACHMENTS_OFF],
        )
    ]
    world.settings.rules = RulesConfig(
        roles=[
            GroupRule(name="Sales Lead", when={"designation": "Account Executive"}),
            GroupRule(name="Board", when={"designation": "Chief Executive"}),
        ]
    )
    rows = sample_employees(120)
    world.write(rows)
    converge(world)
    roles = role_of(world)
    sellers = {r["employee_id"] for r in rows if r["designation"] == "Account Executive"}
    assert sellers and {e for e, r in roles.items() if r == "Sales Lead"} == sellers
    state: Any = world.state()
    lead = next(r for r in state["roles"] if r["name"] == "Sales Lead")
    assert (lead["profile_type"], lead["description"]) == ("Members", "Account executives")

    app = world.app(dry_run=True)
    plan, _, _ = app.engine.plan()
    app.close()
    assert plan.changes == []  # the joiners got their role in the same run
    assert plan.pending == [
        "Cliq has no role 'Board': declare it under [[roles]] or create it in Cliq; "
        "1 people wait for it"
    ]

    # Someone changes the role's permissions in Cliq: hrsync holds the declared ones.
    app = world.app()
    app.http.call(
        "PUT",
        f"/api/v2/profiles/{lead['id']}/permissions",
        endpoint="roles",
        json={"list": [{**ATTACHMENTS_OFF, "status": "enabled"}]},
    )
    app.close()
    assert planned(world) == ["Would update role 'Sales Lead': 1 permission(s)"]

    # A seller becomes an analyst: the role hrsync gave goes back to Members.
    mover = next(r for r in rows if r["employee_id"] in sellers)
    mover["designation"] = "Analyst"
    world.write(rows)
    changes = planned(world)
    assert (
        f"Would take the role 'Sales Lead' from 1 person ({mover['employee_id']}) (back to Members)"
    ) in changes
    converge(world)
    assert role_of(world)[mover["employee_id"]] == "Members"
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0


REPLY_WINDOW = {
    "module": "direct_message",
    "configs": [{"name": "profile_based_restricted_reply_time_frame", "value": 345600000}],
}


def test_a_declared_role_with_configs_is_planned_applied_and_then_held(world: World) -> None:
    world.settings.roles = [
        RoleConfig(name="Reply Window", clone_of="Members", permissions=[REPLY_WINDOW])
    ]
    world.write(sample_employees(20))
    converge(world)
    assert planned(world) == []  # Cliq's list of configs reads as held
    state: Any = world.state()
    role = next(r for r in state["roles"] if r["name"] == "Reply Window")
    assert role["id"]


def test_configs_read_in_the_shape_zoho_documents() -> None:
    from hrsync.sync.memberships import permission_holds
    from tests.conftest import SHARED

    source = SHARED / "external" / "zoho-cliq" / "AdminRoleStandardPermissions.json"
    if not source.exists():
        pytest.skip(f"Zoho's permissions example is not at {source}")
    modules = json.loads(source.read_text(encoding="utf-8"))[0]
    assert isinstance(modules["direct_message"]["configs"], list)
    assert permission_holds(modules, REPLY_WINDOW)
    other = {**REPLY_WINDOW, "configs": [dict(REPLY_WINDOW["configs"][0], value=1)]}  # type: ignore[arg-type]
    assert not permission_holds(modules, other)


def test_joiners_get_their_role_while_the_invitations_wait_for_the_rate_limit(
    world: World,
) -> None:
    import httpx

    from hrsync.config import GroupRule

    world.settings.rules = RulesConfig(
        roles=[GroupRule(name="Admin", when={"designation": d}) for d in ("Engineer", "Manager")]
    )
    rows = sample_employees(700)
    world.write(rows)
    order: list[str] = []

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.startswith("/api/v2/"):
                order.append(request.url.path.split("/")[3])  # users, profiles, ...
            return world.transport.handle_request(request)

    converge(world, transport=Spy())
    invites = [n for n, kind in enumerate(order) if kind == "users"]
    roles = [n for n, kind in enumerate(order) if kind == "profiles"]
    assert len(invites) >= 7 and roles
    assert roles[0] < invites[-1]  # given between invitation batches, not all after them
    given = role_of(world)
    wanted = {r["employee_id"] for r in rows if r["designation"] in ("Engineer", "Manager")}
    assert {e for e, r in given.items() if r == "Admin"} == wanted
    assert planned(world) == [] and world.stats()["lock_periods_total"] == 0
