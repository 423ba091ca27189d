"""``config check`` and ``plan`` agree about missing columns: an export whose columns are
there under other names is not "ready to run" when the plan would hold for them, and the check
offers the [source.columns] mapping that finds them."""

from __future__ import annotations

import csv
import tomllib

import pytest

from hrsync.checkup import check_settings
from hrsync.cli.demo import sample_employees
from hrsync.errors import SafetyHold
from hrsync.model import CANONICAL_FIELDS
from tests.conftest import World
from tests.support import converge

ZOHO_PEOPLE = {
    "employee_id": "Employee ID", "email": "Email address", "first_name": "First Name",
    "last_name": "Last Name", "nickname": "Nick Name", "gender": "Gender",
    "date_of_birth": "Date of Birth", "mobile": "Personal Mobile Number",
    "work_phone": "Work Phone Number", "extension": "Extension",
    "seating_location": "Seating Location", "work_location": "Location",
    "department": "Department", "designation": "Designation",
    "manager_id": "Reporting Manager Employee ID", "status": "Employee Status",
    "hire_date": "Date of Joining", "exit_date": "Date of Exit",
}  # fmt: skip


def test_config_check_names_the_columns_plan_holds_for_and_suggests_their_mapping(
    world: World,
) -> None:
    rows = sample_employees(20)
    world.write(rows)
    converge(world)  # the store now remembers the export's columns
    with world.csv.open("w", encoding="utf-8", newline="") as export:
        writer = csv.writer(export)
        writer.writerow([ZOHO_PEOPLE[name] for name in CANONICAL_FIELDS])
        writer.writerows([[row.get(name, "") for name in CANONICAL_FIELDS] for row in rows])
    world.settings.source.columns = {"employee_id": "Employee ID", "email": "Email address"}

    app = world.app()
    plan, _, _ = app.engine.plan()
    with pytest.raises(SafetyHold, match="has no column for"):
        app.engine.run_apply()
    app.close()
    assert len(plan.lost_columns) >= 10

    result = check_settings(world.settings, clock=world.clock)
    [problem] = [p for p in result.problems if "no column for" in p]
    assert problem.startswith(f"the HR export has no column for {', '.join(plan.lost_columns)} ")
    assert f"--confirm-missing-columns {','.join(plan.lost_columns)}" in problem
    suggested = tomllib.loads(result.suggestion)["source"]["columns"]
    assert {field: ZOHO_PEOPLE[field] for field in plan.lost_columns}.items() <= suggested.items()

    # With the suggestion pasted, both are content, and the plan holds for nothing.
    world.settings.source.columns = suggested
    assert check_settings(world.settings, clock=world.clock).problems == []
    app = world.app()
    again, _, _ = app.engine.plan()
    app.close()
    assert again.lost_columns == [] and again.changes == []
