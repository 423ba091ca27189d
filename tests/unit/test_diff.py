"""The pure core: desired state and diff, asserted on the list of changes."""

from __future__ import annotations

import datetime as dt

from hrsync.model import Employee, Status
from hrsync.sync.desired import desired_state
from hrsync.sync.diff import diff
from hrsync.sync.plan import (
    CreateDepartment,
    DeactivateUser,
    InviteUser,
    LinkUser,
    Plan,
    ReactivateUser,
    UpdateUser,
)
from hrsync.sync.state import CurrentUser, Inventory

TODAY = dt.date(2026, 11, 22)


def emp(eid: str, **kw: object) -> Employee:
    values: dict[str, object] = {
        "email": f"{eid.lower()}@x.example",
        "first_name": eid,
        "last_name": "Doe",
        "department": "Eng",
    }
    values.update(kw)
    return Employee(employee_id=eid, **values)  # type: ignore[arg-type]


def cliq(zuid: str, e: Employee, status: str = "active", manager: str = "") -> CurrentUser:
    fields = {
        "email_id": e.email,
        "first_name": e.first_name,
        "last_name": e.last_name,
        "display_name": e.display_name,
        "mobile": "",
        "phone": "",
        "extension": "",
        "work_location": "",
        "employee_id": e.employee_id,
    }
    return CurrentUser(zuid, status, fields, department=e.department, manager_zuid=manager)


def plan_for(employees: list[Employee], users: list[CurrentUser], links: dict[str, str]) -> Plan:
    inventory = Inventory(users=users, departments={"Eng": "d1"})
    return diff(desired_state(employees, today=TODAY), inventory, links)


def test_joiner_is_invited_with_department_and_manager_and_managers_come_first() -> None:
    boss, report = emp("E1"), emp("E2", manager_id="E1", department="Sales")
    plan = plan_for([report, boss], [], {})
    assert [type(c) for c in plan.changes] == [CreateDepartment, InviteUser, InviteUser]
    invites = plan.of(InviteUser)
    assert [i.employee_id for i in invites] == ["E1", "E2"]
    assert invites[1].manager_id == "E1" and invites[1].department == "Sales"
    assert invites[1].depth == 1


def test_nothing_to_do_when_cliq_matches() -> None:
    e = emp("E1")
    assert plan_for([e], [cliq("z1", e)], {"E1": "z1"}).changes == []


def test_mover_updates_only_the_changed_fields() -> None:
    before, after = emp("E1"), emp("E1", department="Sales", mobile="+1 555")
    plan = plan_for([after], [cliq("z1", before)], {"E1": "z1"})
    [update] = plan.changes[1:]
    assert isinstance(update, UpdateUser)
    assert update.changes == {"department": ["Eng", "Sales"], "mobile": ["", "+1 555"]}


def test_email_change_is_an_update_of_the_same_user() -> None:
    before, after = emp("E1"), emp("E1", email="new@x.example")
    plan = plan_for([after], [cliq("z1", before)], {"E1": "z1"})
    assert plan.changes == [
        UpdateUser("E1", "new@x.example", {"email_id": ["e1@x.example", "new@x.example"]})
    ]


def test_leaver_is_deactivated_and_rehire_reactivated() -> None:
    leaver, rehire = emp("E1", status=Status.INACTIVE), emp("E2")
    users = [cliq("z1", leaver), cliq("z2", rehire, status="inactive")]
    plan = plan_for([leaver, rehire], users, {"E1": "z1", "E2": "z2"})
    assert plan.known_users[plan.of(DeactivateUser)[0].employee_id] == "z1"
    assert plan.known_users[plan.of(ReactivateUser)[0].employee_id] == "z2"
    assert not plan.of(InviteUser)


def test_past_exit_date_means_leaver() -> None:
    e = emp("E1", exit_date=TODAY - dt.timedelta(days=1))
    plan = plan_for([e], [cliq("z1", emp("E1"))], {"E1": "z1"})
    assert [c.kind for c in plan.changes] == ["deactivate"]


def test_only_linked_users_are_deactivated() -> None:
    leaver = emp("E1", status=Status.INACTIVE)
    stranger = cliq("z9", emp("X9"))
    plan = plan_for([leaver], [cliq("z1", leaver), stranger], {})
    assert plan.changes == []
    assert any("not managed" in n for n in plan.notes)


def test_gone_from_feed_deactivates_linked_user_only() -> None:
    e = emp("E1")
    plan = plan_for([emp("E2")], [cliq("z1", e), cliq("z2", emp("E2"))], {"E1": "z1", "E2": "z2"})
    assert [(c.kind, plan.known_users[c.employee_id]) for c in plan.of(DeactivateUser)] == [
        ("deactivate", "z1")
    ]


def test_existing_user_with_same_email_is_adopted_not_invited() -> None:
    e = emp("E1")
    existing = cliq("z1", emp("E1", email=e.email))
    plan = plan_for([e], [existing], {})
    assert plan.of(LinkUser) == [LinkUser("E1", e.email, "same employee id")]
    assert plan.known_users["E1"] == "z1"
    assert not plan.of(InviteUser)


def test_protected_user_is_never_touched() -> None:
    e = emp("E1", status=Status.INACTIVE)
    inventory = Inventory(
        users=[cliq("z1", emp("E1"))], departments={"Eng": "d1"}, protected={"z1"}
    )
    plan = diff(desired_state([e], today=TODAY), inventory, {"E1": "z1"})
    assert plan.changes == []


def test_plan_round_trips_through_json_with_the_same_fingerprint() -> None:
    plan = plan_for([emp("E1"), emp("E2", manager_id="E1")], [], {})
    again = Plan.from_json(plan.to_json())
    assert again.fingerprint() == plan.fingerprint()
    assert again.changes == plan.changes


def test_reports_of_a_manager_who_joins_now_get_reporting_to_in_the_same_plan() -> None:
    boss, report = emp("B1"), emp("R1")
    users = [cliq("z-r1", report)]
    plan = plan_for([boss, emp("R1", manager_id="B1")], users, {"R1": "z-r1"})
    assert [type(c).__name__ for c in plan.changes] == ["InviteUser", "UpdateUser"]
    update = plan.changes[1]
    assert isinstance(update, UpdateUser) and update.changes == {"reporting_to": ["", "B1"]}
    assert update.manager_email == boss.email


def test_when_cliq_departments_are_not_hrsyncs_a_broken_record_or_partial_feed_still_holds() -> (
    None
):
    """Leaving departments (and designations) to Zoho People, or to a later run, must not
    lose who is held or whether the feed was complete: nobody is deactivated for them."""
    e1, e2 = emp("E1"), emp("E2")
    users, links = [cliq("z1", e1), cliq("z2", e2)], {"E1": "z1", "E2": "z2"}
    for why in ("groups_by_people", "departments_unread"):
        inventory = Inventory(users=users, departments={"Eng": "d1"})
        setattr(inventory, why, True if why == "groups_by_people" else "a pending action")
        held = desired_state([e2], today=TODAY, held={"E1": "row 2: a malformed date"})
        assert diff(held, inventory, links).of(DeactivateUser) == [], why
        partial = desired_state([e2], today=TODAY, complete=False)
        assert diff(partial, inventory, links).of(DeactivateUser) == [], why
