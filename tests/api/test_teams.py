"""Rule-driven Cliq teams: created on demand, joined in the invitation, kept as people move,
and never stripped of a member hrsync did not add."""

from __future__ import annotations

from typing import Any

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import GroupRule, RoleConfig, RulesConfig
from tests.api.test_connect import connect_groups, use_connect
from tests.api.test_roles import role_of
from tests.conftest import BASE, World
from tests.support import cliq_users, converge, planned


def teams(world: World) -> dict[str, set[str]]:
    """Team name → employee ids of its members (the org admin, who created them, left out)."""
    state: Any = world.state()
    eid_of = {u["id"]: u.get("employee_id", "") for u in state["users"]}
    return {t["name"]: {eid_of[m] for m in t["members"] if eid_of.get(m)} for t in state["teams"]}


def test_teams_follow_departments_and_location_rules(world: World) -> None:
    world.settings.rules = RulesConfig(
        teams_per=["department"],
        team_names={"department": "{value} team"},
        teams=[GroupRule(name="Chennai Office", when={"work_location": "Chennai Office"})],
    )
    rows = sample_employees(150)
    world.write(rows)
    converge(world)
    found = teams(world)
    departments = {r["department"] for r in rows}
    assert set(found) == {f"{d} team" for d in departments} | {"Chennai Office"}
    for department in departments:
        wanted = {r["employee_id"] for r in rows if r["department"] == department}
        assert found[f"{department} team"] == wanted
    chennai = {r["employee_id"] for r in rows if r["work_location"] == "Chennai Office"}
    assert found["Chennai Office"] == chennai
    calls: Any = world.stats()["calls"]
    assert calls["teams"] == len(found) + 1  # one listing, then one create each; invites join
    assert planned(world) == []

    # Someone an admin put in the Sales team by hand is never taken out by hrsync.
    outsider = next(r for r in rows if r["department"] != "Sales")
    sales = next(t for t in world.state()["teams"] if t["name"] == "Sales team")  # type: ignore[union-attr]
    users = cliq_users(world)
    app = world.app()
    app.http.call(
        "POST",
        f"/api/v2/teams/{sales['team_id']}/members",
        endpoint="teams",
        json={"user_ids": [users[outsider["employee_id"]]["id"]]},
    )
    app.close()

    mover = next(r for r in rows[40:] if r["department"] == "Engineering")
    mover["department"] = "Sales"
    world.write(rows)
    changes = planned(world)
    assert f"Would add 1 person ({mover['employee_id']}) to team 'Sales team'" in changes
    assert f"Would remove 1 person ({mover['employee_id']}) from team 'Engineering team'" in changes
    converge(world)
    found = teams(world)
    assert mover["employee_id"] in found["Sales team"]
    assert mover["employee_id"] not in found["Engineering team"]
    assert outsider["employee_id"] in found["Sales team"]  # hrsync did not add them: kept
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0


@pytest.mark.parametrize(("mode", "count"), [("timeout", None), ("error_500", 2)])
def test_joiners_whose_invitation_answer_was_lost_still_move_teams_groups_and_roles(
    world: World, mode: str, count: int | None
) -> None:
    # "timeout": Cliq invites everyone but every answer is lost; "error_500": refused twice.
    use_connect(world)
    world.settings.roles = [RoleConfig(name="Sales Lead", clone_of="Members")]
    world.settings.rules = RulesConfig(
        teams_per=["department"],
        team_names={"department": "{value} team"},
        connect_groups_per=["department"],
        roles=[GroupRule(name="Sales Lead", when={"designation": "Account Executive"})],
    )
    rows = sample_employees(80)
    world.write(rows)
    fault = {"mode": mode, "endpoint": "users.add", "count": count}
    world.http.post(f"{BASE}/_emulator/faults", json=[fault])
    converge(world)
    world.http.post(f"{BASE}/_emulator/faults", json=[])
    assert planned(world) == []

    seller = next(r for r in rows if r["designation"] == "Account Executive")
    old_department = seller["department"]
    old_team = f"{old_department} team"
    seller["department"], seller["designation"] = "Finance", "Analyst"
    world.write(rows)
    changes = planned(world)
    assert f"Would remove 1 person ({seller['employee_id']}) from team '{old_team}'" in changes
    converge(world)
    found = teams(world)
    assert seller["employee_id"] in found["Finance team"]
    assert seller["employee_id"] not in found[old_team]
    groups = connect_groups(world)
    assert seller["email"] in groups["Finance"] and seller["email"] not in groups[old_department]
    assert role_of(world)[seller["employee_id"]] != "Sales Lead"
    assert planned(world) == []
