"""Rule-driven Cliq teams: created on demand, joined in the invitation, kept as people move,
and never stripped of a member hrsync did not add."""

from __future__ import annotations

from typing import Any

from hrsync.cli.demo import sample_employees
from hrsync.config import GroupRule, RulesConfig
from tests.conftest import World
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
