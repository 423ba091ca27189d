"""BambooHR's employees as BambooHR stores them: one company's records in BambooHR's own field
names, each with the time it last changed, and the deletions it remembers.

Values are kept as given (strings, or ``None`` for empty). What an answer shows of a record is
read through ``value``: the fields BambooHR derives (``displayName``, ``supervisor``,
``supervisorId``, ``bestEmail``, ``lastChanged``) and the names the newer list endpoint and the
Get Employee document use for the same values (``jobTitleName``, ``reportsToId``, ...).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# The fields List Fields describes: name -> (id, type, display name). The ids are the
# emulator's own numbering (BambooHR's are per account); custom fields get 4000 and up.
FIELDS: dict[str, tuple[int, str, str]] = {
    "employeeNumber": (17, "text", "Employee #"),
    "firstName": (1, "text", "First Name"),
    "lastName": (2, "text", "Last Name"),
    "middleName": (3, "text", "Middle Name"),
    "preferredName": (1358, "text", "Preferred Name"),
    "displayName": (1359, "text", "Display Name"),
    "workEmail": (15, "email", "Work Email"),
    "homeEmail": (16, "email", "Home Email"),
    "bestEmail": (1360, "email", "Best Email"),
    "department": (4, "list", "Department"),
    "division": (1355, "list", "Division"),
    "jobTitle": (5, "list", "Job Title"),
    "location": (6, "list", "Location"),
    "status": (1361, "status", "Status"),
    "employmentHistoryStatus": (1362, "list", "Employment Status"),
    "hireDate": (8, "date", "Hire Date"),
    "originalHireDate": (1363, "date", "Original Hire Date"),
    "terminationDate": (1364, "date", "Termination Date"),
    "dateOfBirth": (9, "date", "Birth Date"),
    "gender": (10, "gender", "Gender"),
    "supervisor": (1365, "employee", "Reporting to"),
    "supervisorId": (1366, "text", "Supervisor employee number"),
    "supervisorEId": (1367, "text", "Supervisor employee ID"),
    "supervisorEmail": (1368, "email", "Supervisor email"),
    "mobilePhone": (13, "phone", "Mobile Phone"),
    "workPhone": (12, "phone", "Work Phone"),
    "workPhoneExtension": (1369, "text", "Work Ext."),
    "homePhone": (11, "phone", "Home Phone"),
    "lastChanged": (1370, "timestamp", "Last changed"),
}
DATE_FIELDS = frozenset({"hireDate", "originalHireDate", "terminationDate", "dateOfBirth"})
EMPTY_DATE = "0000-00-00"  # BambooHR's empty date on its older endpoints
# Another name for a stored or derived field: the list endpoint's and Get Employee's words.
ALIASES: dict[str, str] = {
    "jobTitleName": "jobTitle",
    "birthDate": "dateOfBirth",
    "reportsToId": "supervisorEId",
    "reportsToName": "supervisor",
    "departmentName": "department",
    "divisionName": "division",
    "locationName": "location",
    "employmentStatus": "employmentHistoryStatus",
    "employmentStatusName": "employmentHistoryStatus",
}
# Ids of list options (department, division, location, job title, employment status).
OPTION_IDS: dict[str, str] = {
    "departmentId": "department",
    "divisionId": "division",
    "locationId": "location",
    "jobTitleId": "jobTitle",
    "employmentStatusId": "employmentHistoryStatus",
}
DERIVED = frozenset(
    {"displayName", "bestEmail", "supervisor", "supervisorId", "supervisorEmail", "lastChanged"}
)
CUSTOM_FIELD_IDS_FROM = 4000


def iso(ts: float) -> str:
    """A time as BambooHR writes one: whole seconds, UTC, ``+00:00``."""
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).isoformat()


def parse_time(text: str) -> float | None:
    """An ISO 8601 date-time (``Z``, ``+00:00`` or ``+0000``; no offset is UTC), or None."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


@dataclass
class Employee:
    """One record: BambooHR's field names to their values, and when it was made and changed."""

    id: str
    fields: dict[str, str | None]
    created_at: float
    last_changed: float


@dataclass
class Company:
    """One BambooHR account (``{companyDomain}``): its employees and remembered deletions."""

    employees: dict[str, Employee] = field(default_factory=dict)
    deleted: dict[str, float] = field(default_factory=dict)  # id -> when
    custom_fields: dict[str, int] = field(default_factory=dict)  # name -> field id
    options: dict[str, dict[str, str]] = field(default_factory=dict)  # list -> name -> id

    def upsert(self, records: list[dict[str, Any]], now: float) -> list[str]:
        """Create or change each record (by ``id``; none: a new id); their ids."""
        return [self._upsert_one(record, now) for record in records]

    def _upsert_one(self, record: dict[str, Any], now: float) -> str:
        given = {str(k): _text(v) for k, v in record.items() if str(k) != "id"}
        raw_id = record.get("id")
        emp_id = str(raw_id) if raw_id not in (None, "") else self._next_id()
        for name in given:
            if name not in FIELDS and name.startswith("custom"):
                self.custom_fields.setdefault(name, CUSTOM_FIELD_IDS_FROM + len(self.custom_fields))
        current = self.employees.get(emp_id)
        if current is None:
            given.setdefault("status", "Active")
            self.employees[emp_id] = Employee(emp_id, given, now, now)
            self.deleted.pop(emp_id, None)
        else:
            current.fields.update(given)
            current.last_changed = now
        return emp_id

    def delete(self, emp_id: str, now: float) -> bool:
        if self.employees.pop(emp_id, None) is None:
            return False
        self.deleted[emp_id] = now
        return True

    def _next_id(self) -> str:
        known = [int(i) for i in (*self.employees, *self.deleted) if i.isdigit()]
        return str(max(known, default=0) + 1)

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a field of this account (by name, alias, or field id)."""
        return self.field_name(name) is not None

    def field_name(self, name: str) -> str | None:
        """The stored or derived field ``name`` reads, by name, alias or numeric id."""
        if name in FIELDS or name in OPTION_IDS or name in self.custom_fields:
            return name
        if name in ALIASES:
            return ALIASES[name]
        by_id = {str(fid): n for n, (fid, _, _) in FIELDS.items()}
        by_id.update({str(fid): n for n, fid in self.custom_fields.items()})
        return by_id.get(name)

    def describe(self, name: str) -> tuple[str, str]:
        """(type, display name) of a known field."""
        real = self.field_name(name) or name
        if real in FIELDS:
            return FIELDS[real][1], FIELDS[real][2]
        if real in OPTION_IDS:
            return "int", f"{FIELDS[OPTION_IDS[real]][2]} ID"
        return "text", real.removeprefix("custom") or real

    def value(self, emp: Employee, name: str) -> str | None:
        """What BambooHR shows for field ``name`` of ``emp`` (None: empty)."""
        real = self.field_name(name)
        if real is None:
            return None
        if real in OPTION_IDS:
            return self.option_id(OPTION_IDS[real], emp.fields.get(OPTION_IDS[real]))
        if real in DERIVED:
            return self._derived(emp, real)
        return emp.fields.get(real)

    def option_id(self, kind: str, name: str | None) -> str | None:
        """The id of a list option, given on first sight and stable after."""
        if not name:
            return None
        known = self.options.setdefault(kind, {})
        return known.setdefault(name, str(len(known) + 1))

    def _derived(self, emp: Employee, name: str) -> str | None:
        f = emp.fields
        boss = self.employees.get(f.get("supervisorEId") or "")
        if name == "displayName":
            first = f.get("preferredName") or f.get("firstName") or ""
            return f"{first} {f.get('lastName') or ''}".strip() or None
        if name == "bestEmail":
            return f.get("workEmail") or f.get("homeEmail")
        if name == "lastChanged":
            return iso(emp.last_changed)
        if boss is None:
            return None
        if name == "supervisor":  # BambooHR writes the manager "Last, First"
            return f"{boss.fields.get('lastName') or ''}, {boss.fields.get('firstName') or ''}"
        if name == "supervisorId":  # the manager's employee *number*, not their id
            return boss.fields.get("employeeNumber")
        return boss.fields.get("workEmail")  # supervisorEmail

    def classic(self, emp: Employee, name: str) -> str | None:
        """A value as the older endpoints write it: an empty date is ``0000-00-00``."""
        found = self.value(emp, name)
        if found is None and self.field_name(name) in DATE_FIELDS:
            return EMPTY_DATE
        return found

    def state(self) -> dict[str, Any]:
        return {
            "employees": [
                {"id": e.id, **e.fields, "lastChanged": iso(e.last_changed)}
                for e in sorted(self.employees.values(), key=sort_key)
            ],
            "deleted": {i: iso(t) for i, t in sorted(self.deleted.items())},
        }


def sort_key(emp: Employee) -> tuple[int, str]:
    return (int(emp.id) if emp.id.isdigit() else 0, emp.id)


def _text(value: Any) -> str | None:
    """A stored value: BambooHR answers every field as a string; empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
