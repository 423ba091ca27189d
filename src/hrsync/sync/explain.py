"""``hrsync explain``: for one person, everything hrsync wants for them in Cliq and Connect,
and the source value or rule behind each. Pure: it needs the source's records, not Zoho."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hrsync.model import Employee, SourceSnapshot
from hrsync.sync.mapping import CLIQ_FROM, cliq_fields, custom_values, kept_fields
from hrsync.sync.rules import MembershipRules, explain_first


@dataclass(frozen=True, slots=True)
class Line:
    section: str  # profile | custom field | organisation | team | Connect group | role
    name: str
    value: str
    because: str


@dataclass
class Explanation:
    employee_id: str
    email: str
    source: str
    origin: str
    active: bool
    status: str
    lines: list[Line] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pushed: str = ""  # a pushed (SCIM) source's last push for them, and what became of it
    name: str = ""  # as HR names them: first and last name, else the nickname
    scope: str = ""  # why they are in the integration's [scope] ("" when it has none)


@dataclass(frozen=True)
class Rules:
    custom_fields: Mapping[str, str]
    teams: MembershipRules
    connect_groups: MembershipRules
    roles: MembershipRules
    departments: MembershipRules = field(default_factory=MembershipRules)
    designations: MembershipRules = field(default_factory=MembershipRules)


def explain(
    who: str,
    snapshot: SourceSnapshot,
    *,
    source: str,
    origin_of: Callable[[str], str],
    rules: Rules,
    today: dt.date,
) -> Explanation | None:
    """The explanation for ``who`` (an employee id or an email), or None if HR has no one."""
    people = {e.employee_id: e for e in snapshot.employees}
    employee = people.get(who) or next(
        (e for e in snapshot.employees if e.email.lower() == who.lower()), None
    )
    if employee is None:
        return None
    active = employee.is_active_on(today)
    found = Explanation(
        employee.employee_id,
        employee.email,
        source,
        snapshot.origins.get(employee.employee_id, ""),
        active,
        _status(employee, today),
        name=employee.full_name or employee.nickname,
    )
    broken = set()
    for error in snapshot.errors:
        if error.employee_id == employee.employee_id:
            found.problems.append(str(error))
            broken.add(error.field)
    wanted = cliq_fields(employee)
    for cliq_name, hr_name in CLIQ_FROM.items():
        because = origin_of(hr_name)
        if cliq_name == "display_name" and not employee.nickname:
            because = f"{origin_of('nickname')} is empty: first and last name"
        value = wanted[cliq_name]
        if cliq_name in kept_fields(employee):
            why = _why_kept(_hr_fields(cliq_name, hr_name), snapshot.columns, broken)
            value, because = "(left as it is)", f"{because}: {why}, left as Cliq has it"
        found.lines.append(Line("profile", cliq_name, value, because))
    for name, by_rule in (("department", rules.departments), ("designation", rules.designations)):
        value, because = explain_first(by_rule.rules, employee)
        if not value:
            value, because = getattr(employee, name) or "(left as it is)", origin_of(name)
        found.lines.append(Line("organisation", name, value, because))
    manager = people.get(employee.manager_id) if employee.manager_id else None
    shown = f"{manager.email} ({manager.employee_id})" if manager else "(none)"
    if "manager_id" in employee.blocked or (employee.manager_id and manager is None):
        shown = "(left as it is)"
    found.lines.append(Line("organisation", "reporting_to", shown, origin_of("manager_id")))
    values = custom_values(employee, rules.custom_fields)
    for hr_name, cliq_name in rules.custom_fields.items():
        if cliq_name:
            because = f"{origin_of(hr_name)}, by [custom_fields] {hr_name}"
            found.lines.append(Line("custom field", cliq_name, values.get(cliq_name, ""), because))
    _groups(found, "team", rules.teams.explain(employee))
    _groups(found, "Connect group", rules.connect_groups.explain(employee))
    role, why = explain_first(rules.roles.rules, employee)
    found.lines.append(Line("role", role or "(left as it is)", "", why or "no role rule matches"))
    return found


def _hr_fields(cliq_name: str, hr_name: str) -> tuple[str, ...]:
    """The HR fields a Cliq profile field is made of (a display name without a nickname is
    the first and last name)."""
    if cliq_name == "display_name":
        return ("nickname", "first_name", "last_name")
    return (hr_name,)


def _why_kept(hr_fields: Sequence[str], columns: frozenset[str] | None, broken: set[str]) -> str:
    """Why HR gives no value for a field: a value that could not be read ("broken in HR")
    is not a column the export simply lacks ("not in the export")."""
    if broken & set(hr_fields):
        return "broken in HR"
    needed = [f for f in hr_fields if f != "nickname"] or list(hr_fields)
    if columns is not None and any(f not in columns for f in needed):
        return "not in the export"
    return "not given by HR"


def _groups(found: Explanation, section: str, groups: Sequence[tuple[str, str]]) -> None:
    if not groups:
        found.lines.append(Line(section, "(none)", "", "no rule puts them in one"))
    for name, why in groups:
        found.lines.append(Line(section, name, "", why))


def _status(employee: Employee, today: dt.date) -> str:
    if employee.status.value != "active":
        return f"inactive in HR (status {employee.status.value}): deactivated in Cliq"
    if employee.exit_date is not None and employee.exit_date <= today:
        return f"exit date {employee.exit_date.isoformat()} has passed: deactivated in Cliq"
    return "active: invited or kept in Cliq"
