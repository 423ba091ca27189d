"""One run is enough: whatever HR did, a fault-free apply leaves nothing for the next."""

from __future__ import annotations

from hrsync.cli.demo import sample_employees
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
