"""``--employee ID``: one person synced now, with only what their own changes need; everyone
else is left for the next run, and nothing about them is taken as settled."""

from __future__ import annotations

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import RulesConfig
from hrsync.sync.scope import NotInSource
from tests.conftest import World
from tests.support import cliq_users, converge


def test_one_person_is_synced_with_what_they_need_and_nobody_else(world: World) -> None:
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    mover, other, leaver = rows[40], rows[41], rows[42]
    mover["department"], mover["mobile"] = "Legal", "+1 555 0100"
    other["mobile"] = "+1 555 0111"
    leaver["status"] = "inactive"
    world.write(rows)

    app = world.app()
    app.engine.only = frozenset({mover["employee_id"]})
    outcome = app.engine.run_apply()
    app.close()
    assert sorted(c.kind for c in outcome.plan.changes) == [
        "create_department",
        "create_team",
        "team_members",
        "team_members",
        "update",
    ]
    assert all(
        getattr(c, "employee_ids", [mover["employee_id"]]) == [mover["employee_id"]]
        for c in outcome.plan.changes
    )
    users = cliq_users(world)
    assert users[mover["employee_id"]]["department"]["name"] == "Legal"
    assert users[other["employee_id"]].get("mobile") != "+1 555 0111"
    assert users[leaver["employee_id"]]["status"] != "inactive"

    app = world.app(dry_run=True)
    rest, _, _ = app.engine.plan()  # everyone: the others' changes are still there
    app.close()
    assert sorted((c.kind, getattr(c, "employee_id", "")) for c in rest.changes) == [
        ("deactivate", leaver["employee_id"]),
        ("update", other["employee_id"]),
    ]


def test_an_id_hr_does_not_have_is_refused_before_anything_is_sent(world: World) -> None:
    world.write(sample_employees(20))
    app = world.app()
    app.engine.only = frozenset({"E99999"})
    with pytest.raises(NotInSource, match="E99999 is not in the HR source"):
        app.engine.run_apply()
    app.close()
    assert cliq_users(world) == {}


def test_a_new_manager_nobody_named_is_found_for_a_mover_and_a_joiner(world: World) -> None:
    """A run for some people sets reporting-to to a manager it does not sync: the manager's
    Cliq user is known from the plan, not only the people named."""
    rows = sample_employees(20)
    world.write(rows[:19])
    converge(world)
    mover, joiner, boss = rows[10], rows[19], rows[3]
    mover["manager_id"] = joiner["manager_id"] = boss["employee_id"]
    world.write(rows)

    app = world.app()
    app.engine.only = frozenset({mover["employee_id"], joiner["employee_id"]})
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.report is not None and outcome.report.failed == []
    users = cliq_users(world)
    boss_id = users[boss["employee_id"]]["id"]
    assert users[mover["employee_id"]]["reportingto"]["id"] == boss_id
    assert users[joiner["employee_id"]]["reportingto"]["id"] == boss_id
