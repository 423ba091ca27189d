"""A [source.columns] mapping suggested from an export's headers: the typical HRMS export,
each HR system's own headers, near misses, and ``hrsync sources suggest``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from hrsync.config import SourceConfig
from hrsync.sources.headers import suggest_columns
from tests.support import run_main

TYPICAL = [
    "Employee ID", "First Name", "Work Email", "Reporting Manager", "Date of Joining",
    "Employee Status",
]  # fmt: skip
VENDORS = {
    "BambooHR": (
        ["Employee #", "First Name", "Last Name", "Preferred Name", "Work Email", "Job Title",
         "Department", "Location", "Mobile Phone", "Work Phone", "Work Ext.", "Hire Date",
         "Termination Date", "Birth Date", "Supervisor EID", "Status"],
        {"employee_id": "Employee #", "nickname": "Preferred Name", "extension": "Work Ext.",
         "date_of_birth": "Birth Date", "manager_id": "Supervisor EID", "status": "Status"},
    ),
    "Personio": (
        ["ID", "First name", "Last name", "Email", "Position", "Department", "Office",
         "Hire date", "Termination date", "Supervisor", "Status"],
        {"employee_id": "ID", "email": "Email", "designation": "Position",
         "work_location": "Office", "manager_id": "Supervisor"},
    ),
    "HiBob": (
        ["Employee ID", "First name", "Surname", "Display name", "Work email", "Job title",
         "Department", "Site", "Reports to", "Start date", "Termination date",
         "Lifecycle status"],
        {"last_name": "Surname", "nickname": "Display name", "work_location": "Site",
         "manager_id": "Reports to", "hire_date": "Start date", "status": "Lifecycle status"},
    ),
    "Keka": (
        ["Employee Number", "Display Name", "First Name", "Last Name", "Work Email",
         "Job Title", "Department", "Location", "Reporting Manager Employee Number",
         "Date Joined", "Exit Date", "Employment Status", "Mobile Phone"],
        {"employee_id": "Employee Number", "manager_id": "Reporting Manager Employee Number",
         "hire_date": "Date Joined", "exit_date": "Exit Date", "status": "Employment Status"},
    ),
    "greytHR": (
        ["Employee No", "Employee Name", "First Name", "Last Name", "Email", "Designation",
         "Department", "Location", "Reporting Manager", "Date of Joining", "Date of Leaving",
         "Mobile Number", "Status"],
        {"employee_id": "Employee No", "designation": "Designation", "mobile": "Mobile Number",
         "exit_date": "Date of Leaving", "manager_id": "Reporting Manager"},
    ),
    "Zoho People": (
        ["Employee ID", "First Name", "Last Name", "Nick Name", "Email address", "Department",
         "Designation", "Location", "Seating Location", "Reporting Manager", "Date of Joining",
         "Date of Exit", "Employee Status", "Work Phone Number", "Extension",
         "Personal Mobile Number", "Gender", "Date of Birth"],
        {"email": "Email address", "seating_location": "Seating Location",
         "work_phone": "Work Phone Number", "mobile": "Personal Mobile Number",
         "exit_date": "Date of Exit"},
    ),
    "Workday": (
        ["Employee ID", "Legal First Name", "Legal Last Name", "Preferred Name",
         "Primary Work Email", "Business Title", "Supervisory Organization", "Location",
         "Manager Employee ID", "Hire Date", "Termination Date", "Worker Status",
         "Primary Work Phone"],
        {"first_name": "Legal First Name", "email": "Primary Work Email",
         "designation": "Business Title", "department": "Supervisory Organization",
         "manager_id": "Manager Employee ID", "status": "Worker Status"},
    ),
}  # fmt: skip


def test_the_typical_export_gets_a_complete_suggestion_with_the_manager_caveat() -> None:
    suggestion = suggest_columns(TYPICAL)
    assert suggestion.columns == {
        "employee_id": "Employee ID",
        "first_name": "First Name",
        "email": "Work Email",
        "manager_id": "Reporting Manager",
        "hire_date": "Date of Joining",
        "status": "Employee Status",
    }
    assert suggestion.unmapped == []
    [note] = suggestion.notes
    assert note.startswith("manager_id: manager_id needs the manager's employee id")
    assert "'Reporting Manager' holds a name or an email" in note
    # The block pastes into hrsync.toml as it is.
    pasted = tomllib.loads(suggestion.toml())
    assert SourceConfig(**pasted["source"]).columns == suggestion.columns


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_each_hr_systems_headers_are_known(vendor: str) -> None:
    headers, expected = VENDORS[vendor]
    suggestion = suggest_columns(headers)
    assert expected.items() <= suggestion.columns.items()
    assert {"employee_id", "email", "first_name"} <= set(suggestion.columns)
    assert not any(m.near for m in suggestion.mapped)  # all known, none guessed


def test_near_misses_say_did_you_mean_and_the_best_header_wins() -> None:
    suggestion = suggest_columns(
        ["Emp ID", "Work Emial", "Job Titel", "Email", "Employee Name", "Personal Email"]
    )
    by_field = {m.field: m for m in suggestion.mapped}
    assert by_field["designation"].near
    assert by_field["designation"].note == (
        "did you mean 'Job Title'? 'Job Titel' is not a header hrsync knows"
    )
    assert by_field["email"].header == "Email"  # a known header beats a near miss
    assert suggestion.unmapped == ["Work Emial", "Employee Name", "Personal Email"]
    assert "did you mean 'Job Title'?" in suggestion.toml()
    assert any("export First Name and Last Name apart" in n for n in suggestion.notes)


def test_a_manager_column_of_employee_ids_is_taken_as_it_is() -> None:
    rows = [
        {"Employee ID": "E1", "Reporting Manager": ""},
        {"Employee ID": "E2", "Reporting Manager": "E1"},
    ]
    suggestion = suggest_columns(["Employee ID", "Reporting Manager"], rows)
    assert suggestion.notes == [
        "manager_id: 'Reporting Manager' holds employee ids in this file: it can be used"
    ]


def test_sources_suggest_prints_toml_and_what_it_could_not_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        ",".join([*TYPICAL, "Blood Group"]) + "\n"
        "E1,Ana,ana@x.example,Priya Sharma,2020-01-01,Active,O+\n"
        "E2,Bo,bo@x.example,Ana Rao,2021-03-01,Serving Notice,A+\n",
        encoding="utf-8",
    )
    config = tmp_path / "hrsync.toml"
    code, out, err = run_main(capsys, config, "sources", "suggest", str(export))
    assert code == 0, err
    assert 'email = "Work Email"' in out and 'manager_id = "Reporting Manager"' in out
    assert "not mapped (no field takes them): Blood Group" in out
    assert "'Reporting Manager' holds names, not employee ids, in this file" in out
    assert '# "Serving Notice" = "active"' in out
    code, out, _ = run_main(capsys, config, "--json", "sources", "suggest", str(export))
    document = json.loads(out)
    assert document["columns"]["hire_date"] == "Date of Joining"
    assert document["unmapped_headers"] == ["Blood Group"]
    assert document["status_words"] == ["Serving Notice"]
    code, _, err = run_main(capsys, config, "sources", "suggest", str(tmp_path / "nope.csv"))
    assert code == 1 and "nope.csv: no such file" in err
