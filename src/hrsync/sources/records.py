"""Raw HR rows → validated ``Employee`` records, with one clear error per bad record."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from hrsync.model import CANONICAL_FIELDS, Employee, RecordError, SourceSnapshot, Status

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Status words of common HR systems; a source's own map is added on top.
STATUS_WORDS: dict[str, Status] = {
    word: Status.ACTIVE
    for word in (
        "active",
        "activo",
        "employed",
        "current",
        "on leave",
        "leave of absence",
        "probation",
        "notice period",
        "1",
        "true",
        "yes",
    )
} | {
    word: Status.INACTIVE
    for word in (
        "inactive",
        "terminated",
        "terminated for cause",
        "voluntarily terminated",
        "resigned",
        "retired",
        "deceased",
        "exited",
        "absconded",
        "relieved",
        "separated",
        "left",
        "former",
        "disabled",
        "0",
        "false",
        "no",
    )
}
DATE_FIELDS = ("date_of_birth", "hire_date", "exit_date")


class RowParser:
    """Turns mappings of canonical field → text into employees."""

    def __init__(self, *, status_map: Mapping[str, str], date_format: str = "") -> None:
        self.status_words = dict(STATUS_WORDS)
        self.status_words.update({k.strip().lower(): Status(v) for k, v in status_map.items()})
        self.date_format = date_format

    def parse(self, where: str, row: Mapping[str, str]) -> Employee | RecordError:
        values = {k: (row.get(k) or "").strip() for k in CANONICAL_FIELDS}
        eid = values["employee_id"]
        if not eid:
            return RecordError(where, "no employee id", field="employee_id")
        email = values["email"]
        if not email:
            return RecordError(where, "no email address", employee_id=eid, field="email")
        if not EMAIL.match(email):
            return RecordError(where, f"{email!r} is not an email address", eid, "email")
        dates: dict[str, dt.date | None] = {}
        for name in DATE_FIELDS:
            try:
                dates[name] = self._date(values[name])
            except ValueError:
                return RecordError(
                    where,
                    f"{values[name]!r} is not a date"
                    f"{' (' + self.date_format + ')' if self.date_format else ''}",
                    eid,
                    name,
                )
        status = self.status_words.get((values["status"] or "active").lower())
        if status is None:
            return RecordError(
                where,
                f"unknown status {values['status']!r}; map it in [source.status_map]",
                eid,
                "status",
            )
        extra = {k: v for k, v in row.items() if k not in CANONICAL_FIELDS and v}
        text = {k: values[k] for k in CANONICAL_FIELDS if k not in DATE_FIELDS and k != "status"}
        text["email"] = email
        return Employee(**text, status=status, **dates, extra=extra)  # type: ignore[arg-type]

    def _date(self, raw: str) -> dt.date | None:
        if not raw:
            return None
        if self.date_format:
            return dt.datetime.strptime(raw, self.date_format).date()
        return dt.date.fromisoformat(raw[:10])


def validate(rows: Iterable[tuple[str, Employee | RecordError]]) -> SourceSnapshot:
    """Keep the good records; report duplicates, unknown managers and reporting cycles."""
    snapshot = SourceSnapshot(employees=[])
    seen: dict[str, str] = {}
    emails: dict[str, str] = {}
    good: list[tuple[str, Employee]] = []
    for where, item in rows:
        snapshot.total_records += 1
        if isinstance(item, RecordError):
            snapshot.errors.append(item)
        elif item.employee_id in seen:
            snapshot.errors.append(
                RecordError(
                    where,
                    f"duplicate employee id (first seen at {seen[item.employee_id]})",
                    item.employee_id,
                    "employee_id",
                )
            )
        elif item.email.lower() in emails and item.is_active_on(dt.date.max - dt.timedelta(1)):
            snapshot.errors.append(
                RecordError(
                    where,
                    f"email {item.email} is also used at {emails[item.email.lower()]}",
                    item.employee_id,
                    "email",
                )
            )
        else:
            seen[item.employee_id] = where
            emails[item.email.lower()] = where
            good.append((where, item))
    known = {e.employee_id for _, e in good}
    managers = {e.employee_id: e.manager_id for _, e in good}
    for where, employee in good:
        if employee.manager_id and employee.manager_id not in known:
            snapshot.errors.append(
                RecordError(
                    where,
                    f"unknown manager {employee.manager_id!r}",
                    employee.employee_id,
                    "manager_id",
                )
            )
        elif _in_cycle(employee.employee_id, managers):
            snapshot.errors.append(
                RecordError(
                    where,
                    "reporting cycle: " + " → ".join(_chain(employee.employee_id, managers)),
                    employee.employee_id,
                    "manager_id",
                )
            )
        else:
            snapshot.employees.append(employee)
            snapshot.origins[employee.employee_id] = where
    return snapshot


def _chain(start: str, managers: Mapping[str, str]) -> list[str]:
    chain, current = [start], managers.get(start, "")
    while current and current not in chain:
        chain.append(current)
        current = managers.get(current, "")
    return [*chain, current] if current else chain


def _in_cycle(start: str, managers: Mapping[str, str]) -> bool:
    seen: set[str] = set()
    current = start
    while current:
        if current in seen:
            return start in seen and current == start
        seen.add(current)
        current = managers.get(current, "")
    return False
