"""``[scope]``: an integration manages only the people whose HR fields it lists; the rest of
the feed is held, left exactly as Cliq has them, never "gone". Two scopes are disjoint when
some field both restrict shares no value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrsync.cli.demo import sample_employees, write_csv
from hrsync.config import load_settings
from hrsync.errors import ConfigError
from hrsync.model import OUTSIDE_SCOPE
from hrsync.sources.csv_file import CsvSource
from hrsync.sources.scoped import ScopedSource, disjoint


def test_people_outside_the_scope_are_held_not_gone(tmp_path: Path) -> None:
    export = tmp_path / "employees.csv"
    rows = sample_employees(40)
    rows[10]["date_of_birth"] = "not a date"  # one broken field: not the scope's
    write_csv(export, rows)
    source = ScopedSource(CsvSource(export), {"department": ["Sales", "support"]})
    snapshot = source.read()
    kept = {e.employee_id for e in snapshot.employees}
    expected = {r["employee_id"] for r in rows if r["department"] in ("Sales", "Support")}
    assert kept == expected and kept
    outside = {r["employee_id"] for r in rows} - expected
    assert outside <= set(snapshot.held) and snapshot.complete
    assert snapshot.held["E00001"] == f"{OUTSIDE_SCOPE}: department is 'Leadership'"
    assert source.describe() == f"{export} (scope: department = Sales, support)"
    assert source.field_origin("department") == "column 'department'"


def test_an_unreadable_scope_field_holds_the_person() -> None:
    from hrsync.model import Employee
    from hrsync.sources.scoped import outside

    broken = Employee("E1", "a@x.example", department="Sales", blocked=frozenset({"department"}))
    assert outside(broken, {"department": frozenset({"sales"})}).endswith("could not be read")
    carried = Employee("E2", "b@x.example", extra={"cost_centre": "CC-7"})
    assert outside(carried, {"cost_centre": frozenset({"cc-7"})}) == ""


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
    ],
)
def test_scopes_are_disjoint_only_when_no_person_can_be_in_both(
    one: dict[str, list[str]], other: dict[str, list[str]], apart: bool
) -> None:
    assert disjoint(one, other) is apart and disjoint(other, one) is apart


def test_scope_and_schedule_in_hrsync_toml(tmp_path: Path) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text('[scope]\ndepartment = "Sales"\n[sync]\nschedule = "every 2 hours"\n')
    settings = load_settings(config)
    assert settings.scope == {"department": ["Sales"]}
    assert settings.sync.schedule == "every 2 hours"
    config.write_text("")
    assert load_settings(config).sync.schedule == "every 15 min"  # the toml's default
    for wrong, said in (
        ("[scope]\ndepartment = []\n", "scope: department: name a field and at least one value"),
        ('[sync]\nschedule = "hourly"\n', "sync.schedule: schedule 'hourly': write it as"),
        ('[sync]\nschedule = "every 1 min"\n', "at least every 5 min"),
    ):
        config.write_text(wrong)
        with pytest.raises(ConfigError, match=said):
            load_settings(config)


def test_asking_for_someone_outside_the_scope_says_so(tmp_path: Path) -> None:
    import datetime as dt

    from hrsync.sync.desired import desired_state
    from hrsync.sync.scope import NotInSource, check_people

    export = tmp_path / "employees.csv"
    write_csv(export, sample_employees(10))
    snapshot = ScopedSource(CsvSource(export), {"department": ["Sales"]}).read()
    desired = desired_state(snapshot.employees, today=dt.date(2026, 1, 1), held=snapshot.held)
    said = r"E00001 is outside \[scope\]: department is 'Leadership'"
    with pytest.raises(NotInSource, match=said):
        check_people(["E00001"], desired, links={})
