"""Zoho People's data: the employee, department and designation forms, and their rules.

Records are kept as People returns them: lookups as pairs (``Department`` + ``Department.ID``),
``Zoho_ID`` a number above 2^53, ``ModifiedTime`` epoch milliseconds as a string, dates like
``05-Jan-2015``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

DATE = "%d-%b-%Y"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Form link names as People knows them (the P_ names are the older ones).
FORMS = {
    "employee": "employee",
    "p_employee": "employee",
    "department": "department",
    "p_department": "department",
    "designation": "designation",
    "p_designation": "designation",
}
# Keys of the employee form that a caller may set; the rest People derives.
WRITABLE = (
    "EmployeeID",
    "EmailID",
    "FirstName",
    "LastName",
    "Nick_Name",
    "Gender",
    "Date_of_birth",
    "Mobile",
    "Work_phone",
    "Extension",
    "Work_location",
    "LocationName",
    "Department",
    "Designation",
    "Reporting_To",
    "Reporting_To.MailID",
    "Employeestatus",
    "Dateofjoining",
    "Dateofexit",
    "Employee_type",
)
DATE_KEYS = ("Date_of_birth", "Dateofjoining", "Dateofexit")
STATUS_TYPES = {"Active": 1, "Inactive": 2, "Resigned": 3, "Terminated": 4, "Deceased": 5}


class PeopleError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass
class People:
    """The People side of the organisation: employee, department and designation forms."""

    employees: dict[int, dict[str, Any]] = field(default_factory=dict)  # record id -> fields
    departments: dict[int, dict[str, Any]] = field(default_factory=dict)
    designations: dict[int, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _by_eid: dict[str, int] = field(default_factory=dict)  # lower-cased EmployeeID -> record
    _by_email: dict[str, int] = field(default_factory=dict)

    def new_id(self) -> int:
        return 858578000000200000 + next(self._ids) * 3  # above 2^53, as People's ids are

    def form(self, name: str) -> dict[int, dict[str, Any]]:
        kind = FORMS[name.lower()]
        found: dict[int, dict[str, Any]] = getattr(self, kind + "s")
        return found

    def by_employee_id(self, employee_id: str) -> int | None:
        return self._by_eid.get(employee_id.lower())

    def by_email(self, email: str) -> int | None:
        return self._by_email.get(email.lower())

    # --- writes, shared by the API and the control API -------------------------------------
    def upsert(self, values: dict[str, Any], now: float, *, record_id: int | None = None) -> int:
        """Insert or update one employee; resolve lookups; bump ModifiedTime. All or nothing."""
        unknown = [k for k in values if k not in WRITABLE]
        if unknown:
            raise PeopleError(7013, f"Field name '{unknown[0]}' is invalid")
        for key in DATE_KEYS:
            if values.get(key):
                try:
                    dt.datetime.strptime(str(values[key]), DATE)
                except ValueError:
                    raise PeopleError(7055, f"Invalid date format for {key}") from None
        if record_id is None:
            record_id = self.by_employee_id(str(values.get("EmployeeID", "")).strip())
        old = self.employees.get(record_id) if record_id is not None else None
        record = dict(old) if old is not None else _new_record(0, now)
        for key in WRITABLE:
            if key in values and key not in ("Department", "Designation", "Reporting_To"):
                record[key] = "" if values[key] is None else str(values[key]).strip()
        for key in ("EmployeeID", "EmailID"):
            if not record.get(key):
                raise PeopleError(7052, f"Please enter a value for {key}")
        if not EMAIL.match(record["EmailID"]):
            raise PeopleError(7053, f"Invalid email address '{record['EmailID']}'")
        for key, index in (("EmployeeID", self._by_eid), ("EmailID", self._by_email)):
            holder = index.get(record[key].lower())
            if holder is not None and holder != record_id:
                raise PeopleError(7051, f"Value already exists for {key} '{record[key]}'")
        if record_id is None:
            record_id = self.new_id()
            record["Zoho_ID"] = record_id
        if old is not None:
            self._by_eid.pop(old["EmployeeID"].lower(), None)
            self._by_email.pop(old["EmailID"].lower(), None)
        self._by_eid[record["EmployeeID"].lower()] = record_id
        self._by_email[record["EmailID"].lower()] = record_id
        if "Department" in values:
            self._lookup(record, "Department", self.departments, str(values["Department"]), now)
        if "Designation" in values:
            self._lookup(record, "Designation", self.designations, str(values["Designation"]), now)
        if "Reporting_To" in values:  # a lookup: the manager's record id, as People takes it
            ref = str(values["Reporting_To"] or "").strip()
            if ref and not (ref.isdigit() and int(ref) in self.employees):
                raise PeopleError(7050, f"Invalid value for the field Reporting_To '{ref}'")
            record["Reporting_To.ID"], record["Reporting_To.MailID"] = ref, ""
            if ref:
                record["Reporting_To.MailID"] = self.employees[int(ref)]["EmailID"]
        elif values.get("Reporting_To.MailID") == "":
            record["Reporting_To.ID"] = ""
        status = record.get("Employeestatus") or "Active"
        record["Employeestatus"] = status
        record["Employeestatus.type"] = STATUS_TYPES.get(status, 1)
        if old is None or {**record, "ModifiedTime": ""} != {**old, "ModifiedTime": ""}:
            record["ModifiedTime"] = str(int(now * 1000))  # a record saved unchanged keeps it
        self.employees[record_id] = record
        return record_id

    def resolve_managers(self) -> None:
        """Point ``Reporting_To`` and its ``.ID`` and ``.MailID`` at the manager's record,
        found by id (so an email change follows) or else by ``Reporting_To.MailID``."""
        for record in self.employees.values():
            ref = record.get("Reporting_To.ID", "")
            manager = self.employees.get(int(ref)) if ref.isdigit() else None
            mail = record.get("Reporting_To.MailID", "")
            if mail and (manager is None or manager["EmailID"].lower() != mail.lower()):
                found = self.by_email(mail)
                manager = self.employees[found] if found is not None else manager
            if manager is None:
                if not mail:
                    record["Reporting_To"] = record["Reporting_To.ID"] = ""
                continue  # a manager outside the employee form keeps what it has
            name = f"{manager['FirstName']} {manager['LastName']} {manager['EmployeeID']}"
            record["Reporting_To"] = name.strip()
            record["Reporting_To.ID"] = str(manager["Zoho_ID"])
            record["Reporting_To.MailID"] = manager["EmailID"]

    def _lookup(
        self,
        record: dict[str, Any],
        key: str,
        form: dict[int, dict[str, Any]],
        name: str,
        now: float,
    ) -> None:
        name = name.strip()
        if not name:
            record[key] = record[key + ".ID"] = ""
            return
        if name.isdigit() and int(name) in form:  # a lookup id, as insertRecord takes it
            record[key], record[key + ".ID"] = form[int(name)][key], name
            return
        for rid, entry in form.items():
            if entry[key].lower() == name.lower():
                record[key], record[key + ".ID"] = entry[key], str(rid)
                return
        rid = self.new_id()
        form[rid] = {key: name, "Zoho_ID": rid, "ModifiedTime": str(int(now * 1000))}
        record[key], record[key + ".ID"] = name, str(rid)


def _new_record(record_id: int, now: float) -> dict[str, Any]:
    stamp = dt.datetime.fromtimestamp(now, dt.UTC)
    record: dict[str, Any] = {key: "" for key in WRITABLE}
    record.update(
        {
            "Zoho_ID": record_id,
            "ZUID": "-1",
            "CreatedTime": str(int(now * 1000)),
            "AddedTime": stamp.strftime("%d-%b-%Y %H:%M:%S"),
            "AddedBy": "adminUser",
            "ModifiedBy": "adminUser",
            "ApprovalStatus": "Approval Not Enabled",
            "Department.ID": "",
            "Designation.ID": "",
            "Reporting_To.ID": "",
            "LocationName.ID": "",
            "Employeestatus": "Active",
            "Employeestatus.type": 1,
            "Mobile.country_code": "",
            "Tags": "",
        }
    )
    return record
