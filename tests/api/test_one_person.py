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
