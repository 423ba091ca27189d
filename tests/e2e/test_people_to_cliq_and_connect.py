"""Zoho People → Cliq and Connect over real HTTP: 2,000 employees, then 20 HR changes read
incrementally."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hrsync.config import (
    ConnectServiceConfig,
    GroupRule,
    PeopleServiceConfig,
    RoleConfig,
    RulesConfig,
    SourceConfig,
)
from hrsync.emulator.connect_data import SCOPE_ID
from tests.conftest import World
from tests.support import cliq_users

pytestmark = pytest.mark.e2e
DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "People"]
TITLES = ["Engineer", "Analyst", "Designer", "Account Executive"]
GENDERS = ["Female", "Male", "Non-binary", "Not disclosed"]


def people_org(size: int) -> list[dict[str, str]]:
    """A CEO, ten managers, everyone else reporting to one of them; names in many scripts."""
    names = ["Zoë", "Łukasz", "Ngọc", "Søren", "Анна", "李娜", "José", "Aoife", "Oluwaseun"]
    rows = []
    for n in range(1, size + 1):
        if n == 1:
            manager, title = "", "Chief Executive"
        elif n <= 11:
            manager, title = "p1@zylker.example", "Manager"
        else:
            manager, title = f"p{2 + n % 10}@zylker.example", TITLES[n % len(TITLES)]
        rows.append(
            {
                "EmployeeID": f"P{n:05d}",
                "EmailID": f"p{n}@zylker.example",
                "FirstName": names[n % len(names)],
                "LastName": f"Tester{n}",
                "Nick_Name": "Kit" if n % 50 == 0 else "",
                "Gender": GENDERS[n % len(GENDERS)],
                "Date_of_birth": f"{1 + n % 28:02d}-{['Jan', 'Jun', 'Dec'][n % 3]}-19{60 + n % 40}",
                "Mobile": f"+91 90000 {n:05d}",
                "Work_phone": f"+91 44 2000 {n:04d}",
                "Extension": str(3000 + n),
                "Work_location": f"Block {chr(65 + n % 4)}, Desk {n}",
                "LocationName": ["Chennai", "Austin", "Berlin"][n % 3],
                "Department": "Leadership" if n == 1 else DEPARTMENTS[n % len(DEPARTMENTS)],
                "Designation": title,
                "Reporting_To.MailID": manager,
                "Employeestatus": "Active",
            }
        )
    return rows


def configure(world: World) -> None:
    cliq = world.settings.cliq
    common: dict[str, Any] = {
        "api_url": world.base,
        "accounts_url": world.base,
        "client_id": cliq.client_id,
        "client_secret": cliq.client_secret,
        "refresh_token": cliq.refresh_token,
        "allow_http": True,
    }
    world.settings.source = SourceConfig(kind="zoho_people")
    world.settings.people = PeopleServiceConfig(**common)
    world.settings.connect = ConnectServiceConfig(**common, network_id=SCOPE_ID)
    world.settings.rules = RulesConfig(
        teams_per=["department", "designation"],
        team_names={"department": "{value} team", "designation": "{value}s"},
        connect_groups_per=["department", "designation"],
        roles=[GroupRule(name="Sales Staff", when={"department": "Sales"})],
    )
    world.settings.roles = [RoleConfig(name="Sales Staff", clone_of="Members")]


def run(world: World) -> tuple[Any, int]:
    """One scheduled run; returns its outcome and the People calls it made."""
    before = world.stats()["calls"]
    app = world.app()
    try:
        outcome = app.engine.run_apply()
    finally:
        app.close()
    after = world.stats()["calls"]
    assert isinstance(before, dict) and isinstance(after, dict)
    return outcome, after.get("people", 0) - before.get("people", 0)


def check(world: World, rows: list[dict[str, str]]) -> None:
    state: Any = world.state()
    users = cliq_users(world)
    options = {
        o["name"]: o["id"]
        for f in state["userfields"]
        if f["unique_name"] == "gender"
        for o in f["options"]
    }
    email_of = {r["EmployeeID"]: r["EmailID"] for r in rows}
    eid_of_email = {r["EmailID"]: r["EmployeeID"] for r in rows}
    roles = {r["id"]: r["name"] for r in state["roles"]}
    for row in rows:
        user = users[row["EmployeeID"]]
        if row["Employeestatus"] != "Active":
            assert user["status"] == "inactive", row["EmployeeID"]
            continue
        assert user["email_id"] == row["EmailID"]
        assert (user["first_name"], user["last_name"]) == (row["FirstName"], row["LastName"])
        assert user["display_name"] == (row["Nick_Name"] or f"{row['FirstName']} {row['LastName']}")
        assert (user["mobile"], user["phone"]) == (row["Mobile"], row["Work_phone"])
        assert (user["extension"], user["work_location"]) == (
            row["Extension"],
            row["Work_location"],
        )
        assert user["department"]["name"] == row["Department"]
        assert user["designation"]["name"] == row["Designation"]
        born = dt.datetime.strptime(row["Date_of_birth"], "%d-%b-%Y").replace(tzinfo=dt.UTC)
        assert user["date_of_birth"] == int(born.timestamp() * 1000)
        assert user["gender"] == options[row["Gender"]]
        assert user["office_location"] == row["LocationName"]
        manager = row["Reporting_To.MailID"]
        if manager:
            assert user["reportingto"]["id"] == users[eid_of_email[manager]]["id"]
        wanted_role = "Sales Staff" if row["Department"] == "Sales" else "Members"
        assert roles[user["role_id"]] == wanted_role, row["EmployeeID"]
    eid_of_zuid = {u["id"]: u.get("employee_id", "") for u in state["users"]}
    teams = {t["name"]: {eid_of_zuid[m] for m in t["members"]} - {""} for t in state["teams"]}
    groups = {g["name"]: set(g["members"]) for g in state["connect"]["groups"]}
    active = [r for r in rows if r["Employeestatus"] == "Active"]
    for key, team_name in (("Department", "{} team"), ("Designation", "{}s")):
        for value in {r[key] for r in active}:
            wanted = {r["EmployeeID"] for r in active if r[key] == value}
            assert teams[team_name.format(value)] >= wanted
            others = teams[team_name.format(value)] - wanted
            assert all(users[e]["status"] == "inactive" for e in others)  # leavers keep theirs
            assert groups[value] >= {email_of[e].lower() for e in wanted}


def test_two_thousand_people_records_reach_cliq_and_connect_then_twenty_changes(
    remote_world: World,
) -> None:
    world = remote_world
    configure(world)
    rows = people_org(2000)
    answer = world.http.post(f"{world.base}/_emulator/people/employees", json=rows).json()
    assert answer["failed"] == {}

    outcome, people_calls = run(world)
    assert outcome.report.failed == [] and outcome.plan.errors == []
    assert people_calls == 11  # a full read: 10 pages of 200, and one that finds the end
    check(world, rows)
    world.clock.advance(600)  # the next scheduled run
    again, _ = run(world)  # it reads the minutes around the first read again, to be safe
    assert again.plan.changes == []

    world.clock.advance(600)
    changes: list[dict[str, str]] = []
    for row in rows[100:110]:  # ten movers
        row["Department"] = "Finance" if row["Department"] != "Finance" else "Support"
        changes.append({"EmployeeID": row["EmployeeID"], "Department": row["Department"]})
    for row in rows[200:206]:  # six new designations
        row["Designation"] = "Designer" if row["Designation"] != "Designer" else "Analyst"
        changes.append({"EmployeeID": row["EmployeeID"], "Designation": row["Designation"]})
    for row in rows[300:303]:  # three leavers
        row["Employeestatus"] = "Resigned"
        changes.append({"EmployeeID": row["EmployeeID"], "Employeestatus": "Resigned"})
    rows[400]["EmailID"] = "renamed." + rows[400]["EmailID"]  # one email change
    changes.append({"EmployeeID": rows[400]["EmployeeID"], "EmailID": rows[400]["EmailID"]})
    assert len(changes) == 20
    answer = world.http.post(f"{world.base}/_emulator/people/employees", json=changes).json()
    assert answer["failed"] == {}
    world.clock.advance(600)

    outcome, people_calls = run(world)
    assert people_calls <= 2
    read = outcome.plan.counts()
    assert read.get("update", 0) == 10 + 6 + 1 and read.get("deactivate", 0) == 3
    assert outcome.report.failed == []
    check(world, rows)
    final, _ = run(world)
    assert final.plan.changes == []
    assert world.stats()["lock_periods_total"] == 0
