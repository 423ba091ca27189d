"""Canonical employees → the Cliq state HR wants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from hrsync.model import NOTHING, Employee, ScopeOutcome
from hrsync.sync.mapping import cliq_fields, custom_values, kept_fields
from hrsync.sync.rules import MembershipRules, attributes, first_match
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
    held: Mapping[str, str] | None = None,
    complete: bool = True,
    invite_days_before: int = 0,
    scope: ScopeOutcome | None = None,
) -> DesiredState:
    """Who should be in Cliq, active or not, and how; managers resolved to active employees.
    ``custom_fields`` maps HR fields to Cliq custom user fields; ``held`` names the people
    whose broken records (or ``[scope]``) leave them as Cliq has them; ``scope`` says who the
    scope left out. Someone whose hire date is still more than ``invite_days_before`` days
    away is not invited (nor reactivated) before then."""
    people = {e.employee_id: e for e in employees}
    starting = _starting_later(people.values(), today + dt.timedelta(invite_days_before))
    people = {eid: e for eid, e in people.items() if eid not in starting}
    active = {eid for eid, e in people.items() if e.is_active_on(today)}
    custom_fields = dict(custom_fields or {})
    state = DesiredState(held=dict(held or {}), complete=complete, starting=starting, scope=scope)
    state.held.update({eid: f"starts on {day.isoformat()}" for eid, day in starting.items()})
    reads = {
        what: rules.reads() if rules else frozenset()
        for what, rules in (
            ("teams", teams),
            ("connect_groups", connect_groups),
            ("role", roles),
            ("department", departments),
            ("designation", designations),
        )
    }
    ruled = any((teams, connect_groups, roles, departments, designations))
    # Most people share their teams and groups with many others: one set for each of them.
    shared: dict[frozenset[str], frozenset[str]] = {NOTHING: NOTHING}
    for eid, employee in people.items():
        keep = _kept(employee, people, custom_fields, reads)
        values = attributes(employee) if ruled else {}  # once for all the rules
        manager = employee.manager_id if employee.manager_id in active else ""
        state.users[eid] = DesiredUser(
            employee_id=eid,
            active=eid in active,
            fields=cliq_fields(employee),
            department=None
            if "department" in keep
            else _organisation(departments, employee, "department", values),
            designation=None
            if "designation" in keep
            else _organisation(designations, employee, "designation", values),
            manager_id="" if "reporting_to" in keep else manager,
            depth=_depth(eid, people, active),
            custom={
                cliq: value
                for cliq, value in custom_values(employee, custom_fields).items()
                if cliq not in keep
            },
            teams=_one_of(shared, teams.groups_of(employee, values)) if teams else NOTHING,
            connect_groups=_one_of(shared, connect_groups.groups_of(employee, values))
            if connect_groups
            else NOTHING,
            role=first_match(roles.rules, employee, values) if roles else "",
            keep=keep,
        )
    return state


def _starting_later(employees: Iterable[Employee], horizon: dt.date) -> dict[str, dt.date]:
    """Active people whose hire date lies beyond ``horizon``: left alone until it comes."""
    return {
        e.employee_id: e.hire_date
        for e in employees
        if e.hire_date is not None and e.hire_date > horizon and e.is_active_on(horizon)
    }


def _kept(
    employee: Employee,
    people: Mapping[str, Employee],
    custom_fields: Mapping[str, str],
    reads: Mapping[str, frozenset[str]],
) -> frozenset[str]:
    """What HR cannot decide for ``employee`` now, because a value behind it is broken.
    ``reads``: for teams, groups, role, department and designation, the HR fields their
    rules look at."""
    blocked = employee.blocked
    if not blocked and (not employee.manager_id or employee.manager_id in people):
        return NOTHING
    keep = set(kept_fields(employee))
    # A manager who is not among the people read is held for a broken record of their own.
    if "manager_id" in blocked or (employee.manager_id and employee.manager_id not in people):
        keep.add("reporting_to")
    keep.update(cliq for hr, cliq in custom_fields.items() if cliq and hr in blocked)
    keep.update(what for what, fields in reads.items() if fields & blocked)
    return frozenset(keep)


def _one_of(shared: dict[frozenset[str], frozenset[str]], names: frozenset[str]) -> frozenset[str]:
    """The set equal to ``names`` that was kept first."""
    return shared.setdefault(names, names)


def _organisation(
    rules: MembershipRules | None, employee: Employee, name: str, values: Mapping[str, str]
) -> str | None:
    """The Cliq department or designation: by rule, else HR's own; None leaves it alone."""
    by_rule = first_match(rules.rules, employee, values) if rules else ""
    if by_rule or name in employee.blocked:
        return by_rule or None
    return str(getattr(employee, name)) or None


def _depth(eid: str, people: dict[str, Employee], active: set[str]) -> int:
    """Steps up the chain of active managers (sources reject cycles; a guard stops anyway)."""
    depth, seen = 0, {eid}
    manager = people[eid].manager_id
    while manager in active and manager not in seen:
        seen.add(manager)
        depth += 1
        manager = people[manager].manager_id
    return depth
