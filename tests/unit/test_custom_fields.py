"""Custom user fields: dates as epoch ms, drop-downs as option ids, problems named per person."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hrsync.model import Employee
from hrsync.sync.desired import desired_state
from hrsync.sync.diff import diff
from hrsync.sync.mapping import same_custom
from hrsync.sync.plan import InviteUser, Plan, UpdateUser
from hrsync.sync.state import CurrentUser, Inventory, UserFieldMeta
from hrsync.targets.cliq.changes import CliqChanges

TODAY = dt.date(2026, 11, 22)
FIELDS = {"date_of_birth": "Date of Birth", "gender": "gender", "work_location": "Site"}
USERFIELDS = {
    "date_of_birth": UserFieldMeta("date_of_birth", "Date of Birth", "date_picker"),
    "gender": UserFieldMeta("gender", "Gender", "drop_down", {"Male": "o1", "Female": "o2"}),
}


def person(**kw: object) -> Employee:
    values: dict[str, object] = {"email": "ana@x.example", "first_name": "Ana"}
    values.update(kw)
    return Employee(employee_id="E1", **values)  # type: ignore[arg-type]


def plan_for(employee: Employee, users: list[CurrentUser], links: dict[str, str]) -> Plan:
    inventory = Inventory(users=users, userfields=dict(USERFIELDS))
    state = desired_state([employee], today=TODAY, custom_fields=FIELDS)
    return diff(state, inventory, links)


def test_an_invitation_carries_dates_as_epoch_ms_and_options_as_ids() -> None:
    plan = plan_for(person(date_of_birth=dt.date(1990, 3, 1), gender="female"), [], {})
    (invite,) = plan.of(InviteUser)
    assert invite.custom == {"date_of_birth": "1990-03-01", "gender": "female"}  # HR's values
    assert plan.errors == []
    inventory = Inventory(userfields=dict(USERFIELDS))
    cliq = CliqChanges(None, inventory, plan, None)  # type: ignore[arg-type]
    sent = {name: cliq.encoded(name, value) for name, value in invite.custom.items()}
    assert sent == {"date_of_birth": 636249600000, "gender": "o2"}  # as Cliq takes them


def test_an_unknown_option_is_an_error_for_that_person_and_the_rest_still_goes() -> None:
    plan = plan_for(person(date_of_birth=dt.date(1990, 3, 1), gender="Others"), [], {})
    (invite,) = plan.of(InviteUser)
    assert invite.custom == {"date_of_birth": "1990-03-01"}
    (error,) = plan.errors
    assert str(error) == (
        "ana@x.example (employee E1): field 'gender': 'Others' is not an option of Cliq field "
        "'Gender' (Male, Female)"
    )
    assert plan.pending == [
        "Cliq field 'Gender' has no option 'Others': add it in Cliq; 1 person's values wait for it"
    ]


def test_a_field_cliq_lacks_becomes_one_pending_action() -> None:
    plan = plan_for(person(work_location="Chennai"), [], {})
    assert plan.pending == [
        "Cliq has no user field 'Site': create it (Admin Panel → User Fields) or change "
        "[custom_fields]; 1 person's values wait for it"
    ]
    assert plan.of(InviteUser)[0].custom == {}


def test_only_changed_custom_fields_are_updated_and_shown_as_people_read_them() -> None:
    ana = person(date_of_birth=dt.date(1990, 3, 1), gender="Male")
    fields = {
        "email_id": ana.email,
        "first_name": "Ana",
        "last_name": "",
        "display_name": "Ana",
        "mobile": "",
        "phone": "",
        "extension": "",
        "work_location": "",
        "employee_id": "E1",
    }
    held = CurrentUser("z1", "active", fields, custom={"date_of_birth": "636249600000"})
    held = dataclasses.replace(held, custom=held.custom | {"gender": "o2"})
    plan = plan_for(ana, [held], {"E1": "z1"})
    (update,) = plan.of(UpdateUser)
    assert update.changes == {"gender": ["Female", "Male"]}
    assert update.describe(done=False) == "Would update ana@x.example: gender 'Female' → 'Male'"
    same = dataclasses.replace(held, custom={"date_of_birth": "636249600000", "gender": "o1"})
    assert plan_for(ana, [same], {"E1": "z1"}).changes == []
    by_name = dataclasses.replace(held, custom={"date_of_birth": "636249600000", "gender": "male"})
    assert plan_for(ana, [by_name], {"E1": "z1"}).changes == []  # answered with its name


def test_a_drop_down_read_back_by_name_is_compared_as_its_option() -> None:
    gender = USERFIELDS["gender"]
    assert same_custom(gender, "o1", "o1") and same_custom(gender, " male ", "o1")
    assert not same_custom(gender, "Female", "o1") and not same_custom(gender, "", "o1")
    assert not same_custom(USERFIELDS["date_of_birth"], "Male", "o1")  # names only for drop-downs
