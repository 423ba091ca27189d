"""``[scope]``: an integration manages the people every ``include`` rule takes and no
``exclude`` rule names; the rest of the feed is held, left exactly as Cliq has them, never
"gone". A managed person who leaves the scope is left alone (``on_leave = "keep"``) or
deactivated like a leaver (``"deactivate"``), never silently. Two scopes are disjoint
exactly when no person can be in both."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hrsync.access.integration_config import config_from, scope_from
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.config import load_settings
from hrsync.config_scope import ScopeConfig
from hrsync.errors import ConfigError, SafetyHold
from hrsync.model import CANONICAL_FIELDS, OUTSIDE_SCOPE, Employee, SourceSnapshot, Status
from hrsync.sources.csv_file import CsvSource
from hrsync.sources.scoped import ScopedSource, disjoint, judge, rules_of
from hrsync.sync.desired import desired_state
from hrsync.sync.diff import diff
from hrsync.sync.left_scope import note_kept
from hrsync.sync.plan import DeactivateUser, Plan
from hrsync.sync.safety import Thresholds, check_deactivations
from hrsync.sync.state import CurrentUser, Inventory

TODAY = dt.date(2026, 1, 1)


def scope(**given: Any) -> ScopeConfig:
    return ScopeConfig.model_validate(given)


def write_typed(export: Path, rows: list[dict[str, str]]) -> None:
    """The export with an ``employment_type`` column carried along (no mapping names it)."""
    with export.open("w", newline="", encoding="utf-8") as handle:
        names = [*CANONICAL_FIELDS, "employment_type"]
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def test_people_outside_the_scope_are_held_not_gone(tmp_path: Path) -> None:
    export = tmp_path / "employees.csv"
    rows = sample_employees(40)
    rows[10]["date_of_birth"] = "not a date"  # one broken field: not the scope's
    write_csv(export, rows)
    source = ScopedSource(CsvSource(export), scope(department=["Sales", "support"]))
    snapshot = source.read()
    kept = {e.employee_id for e in snapshot.employees}
    expected = {r["employee_id"] for r in rows if r["department"] in ("Sales", "Support")}
    assert kept == expected and kept
    outside = {r["employee_id"] for r in rows} - expected
    assert outside <= set(snapshot.held) and snapshot.complete
    assert snapshot.held["E00001"] == (
        f"{OUTSIDE_SCOPE}: department is 'Leadership' (include department = Sales, support)"
    )
    assert source.describe() == f"{export} (scope: department = Sales, support)"
    assert source.field_origin("department") == "column 'department'"


def test_include_and_exclude_over_a_column_carried_along_with_counts_per_rule(
    tmp_path: Path,
) -> None:
    export = tmp_path / "employees.csv"
    rows = sample_employees(60)
    for n, row in enumerate(rows):
        row["employment_type"] = ("Permanent", "contractor ", "Intern")[n % 3]
    write_typed(export, rows)
    rules = scope(
        include={"department": ["Sales", "Support"]},
        exclude={"employment_type": ["Contractor", "Intern"]},
    )
    snapshot = ScopedSource(CsvSource(export), rules).read()
    sales = [r for r in rows if r["department"] in ("Sales", "Support")]
    permanent = {r["employee_id"] for r in sales if r["employment_type"] == "Permanent"}
    assert {e.employee_id for e in snapshot.employees} == permanent
    outcome = snapshot.scope
    assert outcome is not None and outcome.inside == len(permanent)
    [by_department, by_type] = outcome.counts
    assert by_department.people == len(rows) - len(sales)
    assert by_type.people == len(sales) - len(permanent)  # each person counted once
    assert set(outcome.outside) == {r["employee_id"] for r in rows} - permanent
    note = (
        f"scope: {by_department.people} people not in department = Sales, Support; "
        f"{by_type.people} people excluded by employment_type = Contractor, Intern"
    )
    assert note in snapshot.notes
    contractor = next(r["employee_id"] for r in sales if r["employment_type"] != "Permanent")
    assert snapshot.held[contractor].startswith(f"{OUTSIDE_SCOPE}: employment_type is ")
    assert snapshot.held[contractor].endswith("(exclude employment_type = Contractor, Intern)")


def test_exclude_alone_keeps_everyone_else_and_an_unknown_field_is_said(tmp_path: Path) -> None:
    export = tmp_path / "employees.csv"
    rows = sample_employees(20)
    rows[3]["employment_type"] = "Contractor"
    write_typed(export, rows)
    alone = ScopedSource(CsvSource(export), scope(exclude={"employment_type": "contractor"}))
    snapshot = alone.read()
    assert len(snapshot.employees) == 19 and set(snapshot.held) == {rows[3]["employee_id"]}
    assert alone.describe().endswith("(scope: everyone; except employment_type = contractor)")
    typo = ScopedSource(CsvSource(export), scope(exclude={"employment_typ": "Contractor"}))
    said = [n for n in typo.read().notes if n.startswith("[scope]")]
    assert said == [
        "[scope] exclude employment_typ = Contractor: no HR record has a value for "
        "'employment_typ' (did you mean employment_type?); check the field's name in [scope] "
        "and the source"
    ]


def test_an_unreadable_scope_field_holds_the_person_unless_a_readable_rule_decides() -> None:
    rules = rules_of(scope(include={"department": "Sales"}, exclude={"designation": "Intern"}))
    broken = Employee("E1", "a@x.example", department="Sales", blocked=frozenset({"department"}))
    verdict = judge(broken, rules)
    assert verdict.why.endswith("their department could not be read") and not verdict.readable
    intern = Employee("E2", "b@x.example", designation="Intern", blocked=frozenset({"department"}))
    assert judge(intern, rules).readable and judge(intern, rules).rule == 1
    carried = Employee("E3", "c@x.example", extra={"cost_centre": "CC-7"})
    assert judge(carried, rules_of(scope(cost_centre="cc-7"))).why == ""


@pytest.mark.parametrize(
    ("one", "other", "apart"),
    [
        ({"department": ["Sales"]}, {"department": ["Support", "Finance"]}, True),
        ({"department": ["Sales"]}, {"department": ["sales "]}, False),
        ({"department": ["Sales"]}, {"work_location": ["Berlin Hub"]}, False),  # both can hold
        ({}, {"department": ["Sales"]}, False),  # everyone meets every scope
        (
            {"department": ["Sales"], "work_location": ["Remote"]},
            {"department": ["Sales"], "work_location": ["Berlin Hub"]},
            True,
        ),
        # one's include entirely inside the other's exclude, on the same field
        ({"include": {"department": "Sales"}}, {"exclude": {"department": ["sales"]}}, True),
        ({"include": {"department": ["Sales", "HR"]}}, {"exclude": {"department": "Sales"}}, False),
        # the excludes of both together leave nothing of one's include
        (
            {"include": {"department": ["Sales", "HR"]}, "exclude": {"department": "HR"}},
            {"exclude": {"department": "Sales"}},
            True,
        ),
        # excludes alone never part two scopes: someone is in neither's exclude
        ({"exclude": {"department": "Sales"}}, {"exclude": {"department": "HR"}}, False),
        # an exclude on another field proves nothing
        (
            {"include": {"department": "Sales"}},
            {"exclude": {"employment_type": "Contractor"}},
            False,
        ),
        (
            {"include": {"department": "Sales"}, "exclude": {"employment_type": "Contractor"}},
            {"include": {"employment_type": "Contractor"}},
            True,  # the other's include (contractors) is inside the one's exclude
        ),
    ],
)
def test_scopes_are_disjoint_only_when_no_person_can_be_in_both(
    one: dict[str, Any], other: dict[str, Any], apart: bool
) -> None:
    a, b = ScopeConfig.model_validate(one), ScopeConfig.model_validate(other)
    assert disjoint(a, b) is apart and disjoint(b, a) is apart


def test_disjoint_is_exact_against_every_person_of_a_small_world() -> None:
    """Over every person two fields of three values each can describe (a value no scope
    names, ``x``, standing for all others), ``disjoint`` holds exactly when none is in both."""
    import itertools

    values = ["a", "b", "x"]
    people = [{"f": f, "g": g} for f, g in itertools.product(values, values)]
    tables = [{}, {"f": ["a"]}, {"f": ["a", "b"]}, {"g": ["b"]}]
    scopes = []
    for include, exclude in itertools.product(tables, tables):
        try:
            scopes.append(ScopeConfig(include=include, exclude=exclude))
        except ValueError:
            continue  # a scope nobody is in is refused
    for one, other in itertools.product(scopes, repeat=2):
        shared = [p for p in people if _inside(one, p) and _inside(other, p)]
        assert disjoint(one, other) is (not shared), (one, other, shared)


def _inside(rules: ScopeConfig, person: dict[str, str]) -> bool:
    employee = Employee("E1", "e@x.example", extra=person)
    return judge(employee, rules_of(rules)).why == ""


def test_scope_and_schedule_in_hrsync_toml(tmp_path: Path) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text('[scope]\ndepartment = "Sales"\n[sync]\nschedule = "every 2 hours"\n')
    settings = load_settings(config)
    assert settings.scope == ScopeConfig(include={"department": ["Sales"]})
    assert settings.sync.schedule == "every 2 hours"
    config.write_text("")
    assert load_settings(config).sync.schedule == "every 15 min"  # the toml's default
    assert not load_settings(config).scope.restricts
    for wrong, said in (
        ("[scope]\ndepartment = []\n", r"scope.include: department = \[\]: name a field and at "),
        ('[sync]\nschedule = "hourly"\n', "sync.schedule: schedule 'hourly': write it as"),
        ('[sync]\nschedule = "every 1 min"\n', "at least every 5 min"),
    ):
        config.write_text(wrong)
        with pytest.raises(ConfigError, match=said):
            load_settings(config)


def test_include_exclude_and_on_leave_in_hrsync_toml(tmp_path: Path) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text(
        "[scope]\n"
        'include = { department = ["Sales", "Support"], work_location = "Chennai" }\n'
        'exclude = { employment_type = ["Contractor", "Intern"] }\n'
        'on_leave = "deactivate"\n'
    )
    settings = load_settings(config)
    assert settings.scope.include == {
        "department": ["Sales", "Support"],
        "work_location": ["Chennai"],
    }
    assert settings.scope.exclude == {"employment_type": ["Contractor", "Intern"]}
    assert settings.scope.on_leave == "deactivate"
    config.write_text('[scope]\ndepartment = "Sales"\non_leave = "deactivate"\n')
    assert load_settings(config).scope.on_leave == "deactivate"  # beside the older form too


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (
            'department = "Sales"\nexclude = { designation = "Intern" }',
            r"scope: department sits beside include/exclude: write it inside include "
            r'\(include = \{ department = "Sales" \}\)',
        ),
        (
            'exlude = { designation = "Intern" }',
            "scope: exlude = .*unknown key; did you mean exclude",
        ),
        (
            'on_leav = "deactivate"',
            'scope: on_leav = "deactivate": unknown key; did you mean on_leave',
        ),
        ('on_leave = "drop"', "scope.on_leave: Input should be 'keep' or 'deactivate'"),
        ("include = { department = 3 }", r"scope.include: department = 3: write a value or a list"),
        ('include = "Sales"', "scope.include: write it as a table of HR field = values"),
        (
            'include = { department = "Sales" }\nexclude = { department = ["sales"] }',
            "exclude department = sales leaves nobody of include department = Sales",
        ),
    ],
)
def test_a_wrong_scope_is_refused_naming_the_key_and_the_value(
    tmp_path: Path, toml: str, said: str
) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text(f"[scope]\n{toml}\n")
    with pytest.raises(ConfigError, match=said):
        load_settings(config)


def test_on_leave_from_the_environment_joins_the_files_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text('[scope]\ndepartment = "Sales"\n')
    monkeypatch.setenv("HRSYNC_SCOPE__ON_LEAVE", "deactivate")
    settings = load_settings(config)
    assert settings.scope.include == {"department": ["Sales"]}
    assert settings.scope.on_leave == "deactivate"


def test_scope_entries_of_the_command_line_and_the_admin_page() -> None:
    made = scope_from(["department=Sales,Support", "employment_type!=Contractor", "on_leave=keep"])
    assert made == {
        "include": {"department": ["Sales", "Support"]},
        "exclude": {"employment_type": ["Contractor"]},
        "on_leave": "keep",
    }
    older = config_from(scope=["department=HR"], config={"scope": {"department": "Sales"}})
    assert older["scope"] == {"include": {"department": ["HR"]}}  # the entries' field wins
    both = config_from(scope=["designation=Lead"], config={"scope": {"department": "Sales"}})
    assert both["scope"] == {"include": {"department": "Sales", "designation": ["Lead"]}}
    with pytest.raises(ConfigError, match="FIELD!=VALUE"):
        scope_from(["Finance"])


class Listed:
    """A source that lists the people it is given."""

    def __init__(self, employees: list[Employee]) -> None:
        self.employees = employees

    def describe(self) -> str:
        return "listed"

    def read(self) -> SourceSnapshot:
        return SourceSnapshot(list(self.employees), total_records=len(self.employees))


def person(eid: str, department: str, **extra: str) -> Employee:
    return Employee(eid, f"{eid.lower()}@x.example", "A", eid, department=department, extra=extra)


def in_cliq(employee: Employee, status: str = "active") -> CurrentUser:
    fields = {"email_id": employee.email, "employee_id": employee.employee_id}
    return CurrentUser(f"z{employee.employee_id}", status, fields)


def planned(rules: ScopeConfig, employees: list[Employee], links: dict[str, str]) -> Plan:
    snapshot = ScopedSource(Listed(employees), rules).read()
    desired = desired_state(
        snapshot.employees, today=TODAY, held=snapshot.held, scope=snapshot.scope
    )
    inventory = Inventory(users=[in_cliq(e) for e in employees], protected={"zE6"})
    return diff(desired, inventory, links)


PEOPLE = [
    person("E1", "Sales"),
    person("E2", "Finance"),  # left the scope, managed
    person("E3", "Finance"),  # outside, never managed
    person("E4", "Sales", employment_type="Contractor"),  # excluded, managed
    Employee("E5", "e5@x.example", blocked=frozenset({"department"})),  # unreadable, managed
    person("E6", "Finance"),  # left the scope, managed, protected
]
LINKS = {e: f"z{e}" for e in ("E1", "E2", "E4", "E5", "E6")}


def test_on_leave_keep_leaves_managed_leavers_of_the_scope_as_cliq_has_them() -> None:
    rules = scope(include={"department": "Sales"}, exclude={"employment_type": "Contractor"})
    plan = planned(rules, PEOPLE, LINKS)
    assert not plan.of(DeactivateUser)
    assert plan.scope["managed_outside"] == ["E2", "E4", "E6"]  # E5 unknown, E3 not managed
    assert plan.scope["rules"] == [
        {"rule": "include", "field": "department", "values": ["Sales"], "people": 3},
        {"rule": "exclude", "field": "employment_type", "values": ["Contractor"], "people": 1},
    ]
    assert (plan.scope["inside"], plan.scope["outside"], plan.scope["unreadable"]) == (1, 4, 1)
    note_kept(plan, noted=["E6"])  # named by an applied run before
    assert plan.scope["left"] == ["E2", "E4"]
    assert plan.notes[-1].startswith(
        "2 people left the scope and are no longer managed: E2, E4; hrsync leaves them"
    )
    assert Plan.from_json(plan.to_json()).scope == plan.scope


def test_on_leave_deactivate_deactivates_only_managed_people_known_to_be_outside() -> None:
    rules = scope(
        include={"department": "Sales"},
        exclude={"employment_type": "Contractor"},
        on_leave="deactivate",
    )
    plan = planned(rules, PEOPLE, LINKS)
    gone = {c.employee_id: c.reason for c in plan.of(DeactivateUser)}
    assert gone == {
        "E2": "left the scope: department is 'Finance' (include department = Sales)",
        "E4": "left the scope: employment_type is 'Contractor' (exclude employment_type = "
        "Contractor)",
    }  # never E3 (not managed), E5 (unreadable), E6 (protected)
    assert plan.scope["left"] == ["E2", "E4"]
    assert "2 people left the scope and are deactivated" in plan.notes[-1]
    plan.managed_users = 5
    check_deactivations(plan, Thresholds(deactivation_floor=2), confirmed=None)
    with pytest.raises(SafetyHold, match=r"deactivate 2 of 5 .*, 2 of them for leaving \[scope\]"):
        check_deactivations(plan, Thresholds(deactivation_floor=1), confirmed=None)


def test_explain_says_which_rule_puts_someone_in_or_out(tmp_path: Path) -> None:
    rules = scope(include={"department": "Sales"}, exclude={"employment_type": "Contractor"})
    source = ScopedSource(Listed(PEOPLE), rules)
    assert source.scope_of(PEOPLE[0]) == (
        "in scope: department is 'Sales', which matches include department = Sales; "
        "employment_type is '', which is not named by exclude employment_type = Contractor"
    )
    assert source.scope_of(PEOPLE[3]).endswith("(exclude employment_type = Contractor)")
    inactive = Employee("E9", "e9@x.example", department="Sales", status=Status.INACTIVE)
    assert source.scope_of(inactive).startswith("in scope")


def test_asking_for_someone_outside_the_scope_says_so(tmp_path: Path) -> None:
    from hrsync.sync.scope import NotInSource, check_people

    export = tmp_path / "employees.csv"
    write_csv(export, sample_employees(10))
    snapshot = ScopedSource(CsvSource(export), scope(department=["Sales"])).read()
    desired = desired_state(snapshot.employees, today=TODAY, held=snapshot.held)
    said = r"E00001 is outside \[scope\]: department is 'Leadership'"
    with pytest.raises(NotInSource, match=said):
        check_people(["E00001"], desired, links={})
    leaving = ScopedSource(
        CsvSource(export), scope(department=["Sales"], on_leave="deactivate")
    ).read()
    desired = desired_state(leaving.employees, today=TODAY, held=leaving.held, scope=leaving.scope)
    check_people(["E00001"], desired, links={"E00001": "z1"})  # managed: deactivated
    with pytest.raises(NotInSource, match=said):
        check_people(["E00001"], desired, links={})
