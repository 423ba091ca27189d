"""One run is enough: whatever HR did, a fault-free apply leaves nothing for the next."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hrsync.cli.demo import sample_employees
from hrsync.sync.plan import Plan
from tests.conftest import World
from tests.support import cliq_users, converge, planned


def test_a_manager_who_joins_later_gets_their_reports_in_the_same_run(world: World) -> None:
    rows = sample_employees(120)
    reports = rows[40:57]  # seventeen staff without a manager, until one joins
    for row in reports:
        row["manager_id"] = ""
    world.write(rows)
    converge(world)
    newcomer = dict(rows[40], employee_id="E09000", email="new.lead@zylker.example")
    newcomer.update(first_name="Nia", last_name="Lead", manager_id="E00002")
    for row in reports:
        row["manager_id"] = "E09000"
    world.write([*rows, newcomer])
    converge(world)
    users = cliq_users(world)
    lead = users["E09000"]["id"]
    assert {users[r["employee_id"]]["reportingto"]["id"] for r in reports} == {lead}
    assert planned(world) == []


def test_a_rehired_manager_gets_their_reports_back_in_the_same_run(world: World) -> None:
    rows = sample_employees(120)
    world.write(rows)
    converge(world)
    manager = rows[9]  # E00010, a manager
    reports = [r for r in rows if r["manager_id"] == manager["employee_id"]]
    manager["status"] = "Terminated"  # their reports keep naming them: reporting-to cleared
    world.write(rows)
    converge(world)
    manager["status"] = "active"
    for row in reports:
        row["manager_id"] = manager["employee_id"]
    world.write(rows)
    converge(world)
    users = cliq_users(world)
    assert users[manager["employee_id"]]["status"] == "active"
    zuid = users[manager["employee_id"]]["id"]
    assert {users[r["employee_id"]]["reportingto"]["id"] for r in reports} == {zuid}
    assert planned(world) == []


def admin(world: World) -> Any:
    """An admin's hands in Cliq: the same API, called outside any hrsync run."""
    return world.app().engine.target


def test_drift_is_put_back_and_said_and_ignored_fields_stay_as_the_admin_left_them(
    world: World,
) -> None:
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    users = cliq_users(world)
    ada, bo = users[rows[45]["employee_id"]], users[rows[46]["employee_id"]]
    hands = admin(world)
    hands.update_user(ada["id"], {"mobile": "+1 000"}, email=ada["email_id"])
    hands.update_user(bo["id"], {"extension": "9999"}, email=bo["email_id"])
    hands.set_active(bo["id"], False)
    plan = plan_of(world)
    assert sorted(plan.drift) == sorted(c.key for c in plan.changes) and len(plan.drift) == 3
    assert any(n.startswith("drift: 3 changes") for n in plan.notes)
    converge(world)
    assert planned(world) == []
    # An admin may keep their mobile numbers: from the next run on, HR's value is written
    # only when HR changes it.
    world.settings.drift.ignore = ["mobile"]
    converge(world)
    hands.update_user(ada["id"], {"mobile": "+1 000"}, email=ada["email_id"])
    converge(world)
    users = cliq_users(world)
    assert users[ada["employee_id"]]["mobile"] == "+1 000"
    assert users[bo["employee_id"]]["extension"] == rows[46]["extension"]
    assert users[bo["employee_id"]]["status"] == "active"
    assert planned(world) == []
    rows[45]["mobile"] = "+1 555 777"  # HR changes it: HR wins, and it is not drift
    world.write(rows)
    plan = plan_of(world)
    assert [c.describe(done=False) for c in plan.changes] == [
        f"Would update {ada['email_id']}: mobile '+1 000' → '+1 555 777'"
    ]
    assert plan.drift == []


def test_a_future_joiner_is_invited_on_the_day_and_a_future_leaver_leaves_on_the_day(
    world: World,
) -> None:
    rows = sample_employees(60)
    today = dt.datetime.fromtimestamp(world.clock.now(), dt.UTC).date()
    rows[59]["hire_date"] = (today + dt.timedelta(days=10)).isoformat()
    rows[58]["exit_date"] = (today + dt.timedelta(days=3)).isoformat()
    world.write(rows)
    converge(world)
    users = cliq_users(world)
    assert rows[59]["employee_id"] not in users
    assert users[rows[58]["employee_id"]]["status"] != "inactive"
    assert any("start later" in n for n in plan_of(world).notes)
    world.clock.advance(3 * 86_400)
    assert planned(world) == [f"Would deactivate {rows[58]['email']} (inactive in HR)"]
    converge(world)
    world.settings.lifecycle.invite_days_before = 2
    world.clock.advance(4 * 86_400)  # 3 days before the hire date: not yet
    assert planned(world) == []
    world.clock.advance(86_400)  # 2 days before: invited now
    assert planned(world) == [
        f"Would invite {rows[59]['email']} (employee {rows[59]['employee_id']})"
    ]
    converge(world)
    assert cliq_users(world)[rows[59]["employee_id"]]["status"] in ("pending", "active")
    assert planned(world) == []


def plan_of(world: World) -> Plan:
    app = world.app(dry_run=True)
    try:
        return app.engine.plan()[0]
    finally:
        app.close()
