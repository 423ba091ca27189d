"""Rules that turn HR attributes into memberships: a team per department, or "everyone in
Chennai" → "Chennai Office". Pure: an employee in, a set of names out."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hrsync.model import Employee


@dataclass(frozen=True, slots=True)
class Rule:
    name: str  # a template: "{department} leads"
    when: Mapping[str, tuple[str, ...]]  # field -> accepted values (lower-cased)


@dataclass(frozen=True, slots=True)
class MembershipRules:
    """``per``: one group per value of these fields (named by ``names[field]``); ``rules``:
    one group for everyone who matches."""

    per: Sequence[str] = ()
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    rules: Sequence[Rule] = ()

    @classmethod
    def from_config(
        cls, per: Sequence[str], names: Mapping[str, str], rules: Sequence[Any]
    ) -> MembershipRules:
        parsed = []
        for rule in rules:
            when = {
                k: tuple(v.lower() for v in ([w] if isinstance(w, str) else w))
                for k, w in rule.when.items()
            }
            parsed.append(Rule(rule.name, when))
        return cls(tuple(per), dict(names), tuple(parsed))

    def __bool__(self) -> bool:
        return bool(self.per or self.rules)

    def reads(self) -> frozenset[str]:
        """Every HR attribute these rules look at (to choose or to name a group)."""
        names: set[str] = set(self.per)
        for template in (*self.names.values(), *(r.name for r in self.rules)):
            names.update(f for _, f, _, _ in string.Formatter().parse(template) if f)
        for rule in self.rules:
            names.update(rule.when)
        names.discard("value")
        return frozenset(names)

    def explain(self, employee: Employee) -> list[tuple[str, str]]:
        """(group, why) for every group ``employee`` belongs to."""
        values = attributes(employee)
        found: list[tuple[str, str]] = []
        for name in self.per:
            value = values.get(name, "")
            if value:
                template = self.names.get(name, "{value}")
                group = _fill(template, values | {"value": value})
                found.append((group, f"one per {name}: {name} = {value!r}"))
        for rule in self.rules:
            if all(values.get(k, "").lower() in accepted for k, accepted in rule.when.items()):
                found.append((_fill(rule.name, values), _why(rule, values)))
        return found

    def groups_of(
        self, employee: Employee, values: Mapping[str, str] | None = None
    ) -> frozenset[str]:
        """``values``: the employee's ``attributes``, when the caller has them already."""
        if values is None:
            values = attributes(employee)
        found: set[str] = set()
        for name in self.per:
            value = values.get(name, "")
            if value:
                template = self.names.get(name, VALUE)
                if template == VALUE:  # the usual name, the value itself: nothing to fill
                    found.add(value.strip())
                else:
                    found.add(_fill(template, {**values, "value": value}))
        for rule in self.rules:
            if all(values.get(k, "").lower() in accepted for k, accepted in rule.when.items()):
                found.add(_fill(rule.name, values))
        return frozenset(n for n in found if n)


def attributes(employee: Employee) -> dict[str, str]:
    """Every HR attribute of an employee as text: canonical fields, then carried-along ones."""
    values = dict(employee.extra)
    for name in _CANONICAL:
        raw = getattr(employee, name)
        if raw is None:
            continue
        if type(raw) is str:
            values[name] = raw
        else:
            values[name] = raw.isoformat() if hasattr(raw, "isoformat") else str(raw)
    return values


# The employee's fields ``attributes`` reads, looked up once: rules read every person's
# attributes for each of their kinds (teams, Connect groups, roles, …) on every run.
_CANONICAL = tuple(
    f.name for f in dataclasses.fields(Employee) if f.name not in ("extra", "blocked")
)


VALUE = "{value}"  # a group's name when the rules name none: the HR value itself


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(_Blank(values)).strip()


def first_match(
    rules: Sequence[Rule], employee: Employee, values: Mapping[str, str] | None = None
) -> str:
    """The name of the first rule ``employee`` matches (roles: one per person), or "".
    ``values``: the employee's ``attributes``, when the caller has them already."""
    if not rules:
        return ""
    if values is None:
        values = attributes(employee)
    for rule in rules:
        if all(values.get(k, "").lower() in accepted for k, accepted in rule.when.items()):
            return _fill(rule.name, values)
    return ""


def explain_first(rules: Sequence[Rule], employee: Employee) -> tuple[str, str]:
    """(name, why) of the first rule ``employee`` matches, or ("", "")."""
    values = attributes(employee)
    for rule in rules:
        if all(values.get(k, "").lower() in accepted for k, accepted in rule.when.items()):
            return _fill(rule.name, values), _why(rule, values)
    return "", ""


def _why(rule: Rule, values: Mapping[str, str]) -> str:
    if not rule.when:
        return f"rule {rule.name!r}: everyone"
    held = ", ".join(f"{k} = {values.get(k, '')!r}" for k in rule.when)
    return f"rule {rule.name!r}: {held}"
