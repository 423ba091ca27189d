"""An integration's ``[scope]`` (``hrsync.config_scope``): the people it manages are those
every ``include`` rule takes and no ``exclude`` rule names; everyone else the source lists is
held, left exactly as Cliq has them (never invited, changed or moved between teams), and a
managed person among them is, as ``on_leave`` says, left alone or deactivated (``sync/
left_scope.py``). A person whose scope fields could not be read is held, never taken to be
outside. Two scopes are disjoint when no person can be in both (``disjoint``): then two
integrations may share one Cliq organisation."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

from hrsync.config_scope import ScopeConfig
from hrsync.model import OUTSIDE_SCOPE, Employee, ScopeCount, ScopeOutcome, SourceSnapshot


class Source(Protocol):
    def describe(self) -> str: ...
    def read(self) -> SourceSnapshot: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """One field of ``include`` (the person's value must be one of ``values``) or of
    ``exclude`` (it must not be)."""

    kind: Literal["include", "exclude"]
    field: str
    values: tuple[str, ...]  # as written
    plain: frozenset[str]  # lower-cased and stripped, as compared

    def rejects(self, value: str) -> bool:
        return (_plain(value) in self.plain) == (self.kind == "exclude")

    def __str__(self) -> str:
        return f"{self.kind} {self.field} = {', '.join(self.values)}"


def rules_of(scope: ScopeConfig) -> list[Rule]:
    """The scope's rules, the includes first."""
    return [
        *(_rule("include", name, values) for name, values in scope.include.items()),
        *(_rule("exclude", name, values) for name, values in scope.exclude.items()),
    ]


def _rule(kind: Literal["include", "exclude"], name: str, values: list[str]) -> Rule:
    return Rule(kind, name, tuple(values), _plains(values))


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """Where one person stands: inside (``why`` empty), outside by ``rule``, or held because
    a field the scope reads could not be read (``readable`` False)."""

    why: str = ""
    rule: int = -1  # the index of the rule that puts them outside
    readable: bool = True


INSIDE = Verdict()


def judge(employee: Employee, rules: Sequence[Rule]) -> Verdict:
    """Whether ``employee`` is inside the scope, and if not, by which rule. A rule that reads
    a field the record has broken decides nothing: outside only when a readable rule says so."""
    unreadable = ""
    for n, rule in enumerate(rules):
        if rule.field in employee.blocked:
            unreadable = unreadable or rule.field
            continue
        value = _value(employee, rule.field)
        if rule.rejects(value):
            return Verdict(f"{OUTSIDE_SCOPE}: {rule.field} is {value!r} ({rule})", n)
    if unreadable:
        return Verdict(f"{OUTSIDE_SCOPE}: their {unreadable} could not be read", readable=False)
    return INSIDE


def why_inside(employee: Employee, rules: Sequence[Rule]) -> str:
    """For ``hrsync explain``: the values that put ``employee`` inside, rule by rule."""
    if not rules:
        return "in scope: the configuration has no [scope] rule (everyone)"
    said = []
    for rule in rules:
        value = _value(employee, rule.field)
        matches = "matches" if rule.kind == "include" else "is not named by"
        said.append(f"{rule.field} is {value!r}, which {matches} {rule}")
    return "in scope: " + "; ".join(said)


class ScopedSource:
    """``inner``'s people, those outside ``scope`` held instead of synced."""

    def __init__(self, inner: Source, scope: ScopeConfig) -> None:
        self.inner = inner
        self.scope = scope
        self.rules = rules_of(scope)
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

    def scope_of(self, employee: Employee) -> str:
        """Why ``employee`` (a person read) is in the scope or not, naming the rule."""
        verdict = judge(employee, self.rules)
        return verdict.why or why_inside(employee, self.rules)

    def read(self) -> SourceSnapshot:
        snapshot = self.inner.read()
        scoped = dataclasses.replace(
            snapshot, employees=[], held=dict(snapshot.held), notes=list(snapshot.notes)
        )
        outcome = ScopeOutcome(on_leave=self.scope.on_leave)
        counts = [0] * len(self.rules)
        for employee in snapshot.employees:
            verdict = judge(employee, self.rules)
            if not verdict.why:
                scoped.employees.append(employee)
                continue
            scoped.hold(employee.employee_id, verdict.why)
            if verdict.readable:
                counts[verdict.rule] += 1
                outcome.outside[employee.employee_id] = verdict.why
            else:
                outcome.unreadable += 1
        outcome.inside = len(scoped.employees)
        outcome.counts = [
            ScopeCount(r.kind, r.field, r.values, n)
            for r, n in zip(self.rules, counts, strict=True)
        ]
        scoped.scope = outcome
        if outcome.describe():
            scoped.notes.append(f"scope: {outcome.describe()}")
        scoped.notes.extend(unknown_fields(self.rules, snapshot.employees))
        return scoped


def unknown_fields(rules: Sequence[Rule], employees: Sequence[Employee]) -> list[str]:
    """A note for each rule on a field that is not canonical and no record carries a value
    for: most likely a misspelt column (an include then leaves everyone out, an exclude
    nobody), said with the nearest field known."""
    if not employees:
        return []
    carried = {name for e in employees for name in e.extra}
    notes = []
    for rule in rules:
        if rule.field in _CANONICAL or rule.field in carried:
            continue
        near = difflib.get_close_matches(rule.field, [*_CANONICAL, *carried], n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        notes.append(
            f"[scope] {rule}: no HR record has a value for {rule.field!r}{hint}; check the "
            "field's name in [scope] and the source"
        )
    return notes


def disjoint(one: ScopeConfig, other: ScopeConfig) -> bool:
    """Whether no person can be in both. Fields take any text independently of each other, so
    this is exact: some field one of them includes on leaves no value both take, once both
    scopes' excludes on it are taken away (a scope with no rule, everyone, meets every other)."""
    for name in set(one.include) | set(other.include):
        taken = [_plains(s.include[name]) for s in (one, other) if name in s.include]
        both = frozenset.intersection(*taken)
        excluded = _plains(one.exclude.get(name, ())) | _plains(other.exclude.get(name, ()))
        if not both - excluded:
            return True
    return False


def describe_scope(scope: ScopeConfig) -> str:
    """``department = Sales, Support; except employment_type = Contractor`` ("everyone" when
    no rule), with ``on leaving: deactivate`` when so."""
    shown = "; ".join(_shown(scope.include.items())) or "everyone"
    if scope.exclude:
        shown += "; except " + "; ".join(_shown(scope.exclude.items()))
    if scope.on_leave == "deactivate":
        shown += "; on leaving: deactivate"
    return shown


def held_outside(snapshot: SourceSnapshot, employee_id: str) -> str:
    """Why the person is outside the scope, and what becomes of them ("" when they are not
    held as outside)."""
    why = snapshot.held.get(employee_id, "")
    if not why.startswith(OUTSIDE_SCOPE):
        return ""
    outcome = snapshot.scope
    if outcome is not None and employee_id in outcome.outside and outcome.on_leave != "keep":
        return f"{why}: a Cliq user hrsync manages for them is deactivated (on_leave)"
    return f"{why}: this configuration leaves them as Cliq has them"


def unscoped(source: Any) -> Any:
    """The source behind a scope, for what looks at the source itself (doctor)."""
    return source.inner if isinstance(source, ScopedSource) else source


def _shown(rules: Iterable[tuple[str, list[str]]]) -> list[str]:
    return [f"{name} = {', '.join(values)}" for name, values in sorted(rules)]


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


def _plains(values: Iterable[str]) -> frozenset[str]:
    return frozenset(_plain(v) for v in values)


def _plain(value: str) -> str:
    return value.strip().lower()
