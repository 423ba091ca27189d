"""HR employee → Cliq profile fields. The one place that knows which field goes where."""

from __future__ import annotations

from hrsync.model import Employee


def cliq_fields(employee: Employee) -> dict[str, str]:
    """The Cliq text fields an employee should have (seating location is ``work_location``)."""
    return {
        "email_id": employee.email,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "display_name": employee.display_name,
        "mobile": employee.mobile,
        "phone": employee.work_phone,
        "extension": employee.extension,
        "work_location": employee.seating_location,
        "employee_id": employee.employee_id,
    }


def same_value(field: str, current: str, wanted: str) -> bool:
    """Equal as Cliq compares them: emails ignore case, everything ignores edge spaces."""
    if field == "email_id":
        return current.strip().lower() == wanted.strip().lower()
    return current.strip() == wanted.strip()
