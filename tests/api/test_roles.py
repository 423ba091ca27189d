"""Declared Cliq roles (created, permissions held) and rule-driven role membership."""

from __future__ import annotations

from typing import Any

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
