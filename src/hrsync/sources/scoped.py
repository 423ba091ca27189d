"""An integration's ``[scope]``: the people it manages are those whose HR fields have one
of the listed values; everyone else the source lists is held, left exactly as Cliq has them
(never invited, changed, moved between teams or deactivated), as another integration's.
Two scopes are disjoint when some field both restrict has no value in common: then no
person can be managed by both, and two integrations may share one Cliq organisation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hrsync.model import OUTSIDE_SCOPE, Employee, SourceSnapshot

Scope = Mapping[str, Sequence[str]]  # HR field -> accepted values


class Source(Protocol):
    def describe(self) -> str: ...
    def read(self) -> SourceSnapshot: ...


class ScopedSource:
    """``inner``'s people, those outside ``scope`` held instead of synced."""

    def __init__(self, inner: Source, scope: Scope) -> None:
        self.inner = inner
        self.scope = {
            field: frozenset(_plain(v) for v in values) for field, values in scope.items()
        }
        self._shown = describe_scope(scope)

    def describe(self) -> str:
        return f"{self.inner.describe()} (scope: {self._shown})"

    def last_push(self, employee_id: str) -> str:
        """A pushed source's last push for the person ("" for any other source)."""
        found = getattr(self.inner, "last_push", None)
        return str(found(employee_id)) if found is not None else ""

    def field_origin(self, name: str) -> str:
        origin = getattr(self.inner, "field_origin", None)
        return str(origin(name)) if origin else f"HR field {name!r}"

    def read(self) -> SourceSnapshot:
        snapshot = self.inner.read()
        scoped = dataclasses.replace(snapshot, employees=[], held=dict(snapshot.held))
        for employee in snapshot.employees:
            why = outside(employee, self.scope)
            if why:
                scoped.hold(employee.employee_id, why)
            else:
                scoped.employees.append(employee)
        return scoped


def outside(employee: Employee, scope: Mapping[str, frozenset[str]]) -> str:
    """Why ``employee`` is outside ``scope`` (lower-cased values), or "" when inside."""
    for field, accepted in scope.items():
        if field in employee.blocked:  # unreadable: not known to be this integration's
            return f"{OUTSIDE_SCOPE}: their {field} could not be read"
        value = _value(employee, field)
        if _plain(value) not in accepted:
            return f"{OUTSIDE_SCOPE}: {field} is {value!r}"
    return ""


def disjoint(one: Scope, other: Scope) -> bool:
    """Whether no person can be in both: a field both restrict with no value in common (an
    empty scope, everyone, meets every other)."""
    return any(
        not {_plain(v) for v in one[field]} & {_plain(v) for v in other[field]}
        for field in set(one) & set(other)
    )


def describe_scope(scope: Scope) -> str:
    """``department = Sales, Support; work_location = Chennai`` ("everyone" when empty)."""
    if not scope:
        return "everyone"
    return "; ".join(f"{field} = {', '.join(values)}" for field, values in sorted(scope.items()))


def unscoped(source: Any) -> Any:
    """The source behind a scope, for what looks at the source itself (doctor)."""
    return source.inner if isinstance(source, ScopedSource) else source


# The canonical fields a scope may read; any other name is a column carried along.
_CANONICAL = frozenset(f.name for f in dataclasses.fields(Employee)) - {"extra", "blocked"}


def _value(employee: Employee, field: str) -> str:
    """The HR value as rules read it: a canonical field, else a column carried along."""
    if field not in _CANONICAL:
        return employee.extra.get(field, "")
    raw = getattr(employee, field)
    if raw is None:
        return ""
    return raw.isoformat() if hasattr(raw, "isoformat") else str(raw)


def _plain(value: str) -> str:
    return value.strip().lower()
