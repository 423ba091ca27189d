"""Canonical employees → the Cliq state HR wants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from hrsync.model import Employee
from hrsync.sync.mapping import cliq_fields, custom_values
from hrsync.sync.rules import MembershipRules, first_match
from hrsync.sync.state import DesiredState, DesiredUser


def desired_state(
    employees: Iterable[Employee],
    *,
    today: dt.date,
    custom_fields: Mapping[str, str] | None = None,
    teams: MembershipRules | None = None,
    connect_groups: MembershipRules | None = None,
    roles: MembershipRules | None = None,
    departments: MembershipRules | None = None,
    designations: MembershipRules | None = None,
) -> DesiredState:
    """Who should be in Cliq, active or not, and how; managers resolved to active employees.
    ``custom_fields`` maps HR fields to Cliq custom user fields."""
    people = {e.employee_id: e for e in employees}
    active = {eid for eid, e in people.items() if e.is_active_on(today)}
    state = DesiredState()
    for eid, employee in people.items():
        manager = employee.manager_id if employee.manager_id in active else ""
        state.users[eid] = DesiredUser(
            employee_id=eid,
            active=eid in active,
            fields=cliq_fields(employee),
            department=_by_rule(departments, employee) or employee.department or None,
            designation=_by_rule(designations, employee) or employee.designation or None,
            manager_id=manager,
            depth=_depth(eid, people, active),
            custom=custom_values(employee, custom_fields or {}),
            teams=teams.groups_of(employee) if teams else frozenset(),
            connect_groups=connect_groups.groups_of(employee) if connect_groups else frozenset(),
            role=first_match(roles.rules, employee) if roles else "",
        )
    return state


def _by_rule(rules: MembershipRules | None, employee: Employee) -> str:
    return first_match(rules.rules, employee) if rules else ""


def _depth(eid: str, people: dict[str, Employee], active: set[str]) -> int:
    """Steps up the chain of active managers (sources reject cycles; a guard stops anyway)."""
    depth, seen = 0, {eid}
    manager = people[eid].manager_id
    while manager in active and manager not in seen:
        seen.add(manager)
        depth += 1
        manager = people[manager].manager_id
    return depth
