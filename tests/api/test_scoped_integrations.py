"""Two configurations over one Cliq organisation with disjoint ``[scope]``s: each invites and
keeps its own people, leaves the other's alone (never "gone from the feed"), and a mover
from one scope to the other is taken over by the second, never deactivated by the first.
Plan again: no changes, for either."""

from __future__ import annotations

from typing import Any

from hrsync.cli.demo import sample_employees
from hrsync.config_scope import ScopeConfig
from hrsync.sync.plan import DeactivateUser
from hrsync.wiring import App, build
from tests.conftest import World
from tests.support import cliq_users

HEAD_OFFICE = ["Leadership", "Engineering", "Sales", "Support"]
BACK_OFFICE = ["Finance", "People", "Marketing"]


def scoped(world: World, name: str, departments: list[str]) -> App:
    scope = ScopeConfig(include={"department": departments})
    settings = world.settings.model_copy(update={"scope": scope})
    return build(
        settings,
        dry_run=False,
        clock=world.clock,
        client=world.http,
        pacer_margin=0,
        integration=name,
    )


def apply(world: World, name: str, departments: list[str]) -> Any:
    app = scoped(world, name, departments)
    try:
        outcome = app.engine.run_apply()
        assert outcome.report is not None and outcome.report.failed == []
        return outcome.plan
    finally:
        app.close()


def planned(world: World, name: str, departments: list[str]) -> list[str]:
    app = scoped(world, name, departments)
    try:
        plan, _, _ = app.engine.plan()
        return [c.describe(done=False) for c in plan.changes]
    finally:
        app.close()


def test_disjoint_scopes_share_one_organisation_and_hand_over_a_mover(world: World) -> None:
    rows = sample_employees(60)
    world.write(rows)
    apply(world, "head-office", HEAD_OFFICE)
    first = cliq_users(world)
    assert {first[eid]["department"]["name"] for eid in first} <= set(HEAD_OFFICE)
    assert planned(world, "head-office", HEAD_OFFICE) == []  # the others are not its own
    apply(world, "back-office", BACK_OFFICE)
    users = cliq_users(world)
    assert set(users) == {r["employee_id"] for r in rows}  # everyone, once
    assert all(u["status"] != "inactive" for u in users.values())
    for row in rows:
        assert users[row["employee_id"]]["department"]["name"] == row["department"]
    assert planned(world, "head-office", HEAD_OFFICE) == []
    assert planned(world, "back-office", BACK_OFFICE) == []

    mover = next(r for r in rows if r["department"] == "Sales" and r["designation"] != "Manager")
    mover["department"] = "Finance"
    world.write(rows)
    left = apply(world, "head-office", HEAD_OFFICE)
    assert not left.of(DeactivateUser)  # out of its scope: left alone, not gone
    assert cliq_users(world)[mover["employee_id"]]["department"]["name"] == "Sales"
    apply(world, "back-office", BACK_OFFICE)
    moved = cliq_users(world)[mover["employee_id"]]
    assert moved["department"]["name"] == "Finance" and moved["status"] != "inactive"
    assert planned(world, "head-office", HEAD_OFFICE) == []
    assert planned(world, "back-office", BACK_OFFICE) == []
    assert world.stats()["lock_periods_total"] == 0
