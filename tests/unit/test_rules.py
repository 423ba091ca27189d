"""Rules: memberships from HR attributes, and Cliq's department or designation by rule."""

from __future__ import annotations

import datetime as dt

from hrsync.config import GroupRule
from hrsync.model import Employee, Status
from hrsync.sync.desired import desired_state
from hrsync.sync.rules import MembershipRules

TODAY = dt.date(2026, 11, 22)


def person(eid: str, **kw: object) -> Employee:
    return Employee(employee_id=eid, email=f"{eid}@x.example", **kw)  # type: ignore[arg-type]


def test_per_value_groups_use_templates_and_rules_match_any_listed_value() -> None:
    rules = MembershipRules.from_config(
        ["department", "designation"],
        {"department": "{value} team"},
        [
            GroupRule(name="{work_location} office", when={"work_location": ["Chennai", "Pune"]}),
            GroupRule(name="Everyone"),
        ],
    )
    ana = person("E1", department="Sales", designation="Analyst", work_location="pune")
    assert rules.groups_of(ana) == {"Sales team", "Analyst", "pune office", "Everyone"}
    assert rules.groups_of(person("E2", work_location="Austin")) == {"Everyone"}


def test_a_department_rule_overrides_the_hr_department_and_the_first_match_wins() -> None:
    departments = MembershipRules.from_config(
        (),
        {},
        [
            GroupRule(name="APAC Sales", when={"department": "Sales", "work_location": "Chennai"}),
            GroupRule(name="Field Sales", when={"department": "Sales"}),
        ],
    )
    people = [
        person("E1", department="Sales", work_location="Chennai"),
        person("E2", department="Sales", work_location="Austin"),
        person("E3", department="Support", work_location="Chennai"),
        person("E4", department="Sales", status=Status.INACTIVE),
    ]
    state = desired_state(people, today=TODAY, departments=departments)
    got = {eid: u.department for eid, u in state.users.items()}
    assert got == {"E1": "APAC Sales", "E2": "Field Sales", "E3": "Support", "E4": "Field Sales"}
    assert state.departments() == {"APAC Sales", "Field Sales", "Support"}
