"""The CSV source: canonical headers, column mapping, and one clear error per bad row."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrsync.errors import SourceError
from hrsync.model import Status
from hrsync.sources.csv_file import CsvSource

HEADER = "employee_id,email,first_name,last_name,manager_id,status,hire_date\n"


def read(tmp_path: Path, text: str, **kw: object) -> tuple[list[str], list[str]]:
    path = tmp_path / "hr.csv"
    path.write_text(text, encoding="utf-8")
    snap = CsvSource(path, **kw).read()  # type: ignore[arg-type]
    return [e.employee_id for e in snap.employees], [str(e) for e in snap.errors]


def test_bad_rows_are_reported_with_row_numbers_and_the_rest_sync(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(
        HEADER
        + "1,ceo@x.example,Ada,L,,active,2020-01-01\n"
        + "2,,Bob,M,1,active,2020-01-01\n"
        + "1,dup@x.example,Dup,D,,active,2020-01-01\n"
        + "4,d@x.example,Dan,N,99,active,2020-01-01\n"
        + "5,e@x.example,Eve,O,1,active,31/12/2020\n"
        + "6,f@x.example,Fay,P,7,active,\n"
        + "7,g@x.example,Gus,Q,6,active,\n"
        + "8,h@x.example,Hal,R,1,active,\n",
        encoding="utf-8",
    )
    snap = CsvSource(path).read()
    assert [str(e) for e in snap.errors] == [
        "row 3 (employee 2): field 'email': no email address",
        "row 6 (employee 5): field 'hire_date': '31/12/2020' is not a date (YYYY-MM-DD)",
        "row 2 (employee 1): field 'employee_id': duplicate employee id (rows row 2, row 4); "
        "neither is used",
        "row 4 (employee 1): field 'employee_id': duplicate employee id (rows row 2, row 4); "
        "neither is used",
        "row 5 (employee 4): field 'manager_id': unknown manager '99'; reporting-to is left as "
        "Cliq has it",
        "row 7 (employee 6): field 'manager_id': reporting cycle: 6 → 7 → 6; reporting-to is "
        "left as Cliq has it",
        "row 8 (employee 7): field 'manager_id': reporting cycle: 7 → 6 → 7; reporting-to is "
        "left as Cliq has it",
    ]
    # Broken rows hold their people: left as Cliq has them, never taken as leavers.
    assert snap.held == {"1": "row 2, row 4", "2": "row 3", "5": "row 6"}
    assert snap.complete
    # A broken manager reference blocks reporting-to only; the people still sync.
    by_id = {e.employee_id: e for e in snap.employees}
    assert sorted(by_id) == ["4", "6", "7", "8"]
    assert {eid: "manager_id" in e.blocked for eid, e in by_id.items()} == {
        "4": True,
        "6": True,
        "7": True,
        "8": False,  # reports to 1, who is held: left alone by the desired state
    }


def test_column_mapping_status_words_and_date_format(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(
        "EmpID,Mail,Status,DOB\nA1,a@x.example,Terminated,05-Jan-2015\nA2,b@x.example,On Leave,\n",
        encoding="utf-8",
    )
    snap = CsvSource(
        path,
        columns={
            "employee_id": "EmpID",
            "email": "Mail",
            "status": "Status",
            "date_of_birth": "DOB",
        },
        date_format="%d-%b-%Y",
    ).read()
    a1, a2 = snap.employees
    assert (a1.status, a2.status) == (Status.INACTIVE, Status.ACTIVE)
    assert str(a1.date_of_birth) == "2015-01-05"


def test_unknown_status_word_is_an_error_naming_the_mapping(tmp_path: Path) -> None:
    _, errors = read(tmp_path, HEADER + "1,a@x.example,A,B,,Sabbatical,\n")
    assert errors == [
        "row 2 (employee 1): field 'status': unknown status 'Sabbatical'; "
        "map it in [source.status_map] (an unknown word is not taken to mean the person left)"
    ]


def test_missing_required_column_refuses_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="missing required column"):
        read(tmp_path, "id,mail\n1,a@x.example\n")


def test_real_hr_export_without_emails_is_refused_naming_the_column() -> None:
    path = Path(__file__).resolve().parents[3] / "shared/external/datasets/HRDataset_v14.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared HR dataset is not beside this checkout")
    source = CsvSource(path, columns={"employee_id": "EmpID", "department": "Department"})
    with pytest.raises(SourceError, match=r"missing required column\(s\) email \(column 'email'\)"):
        source.read()
