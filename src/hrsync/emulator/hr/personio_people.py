"""Personio's employees as the emulator keeps them: flat values in Personio's attribute names,
when each attribute last changed, and their rendering in Personio's attribute envelope
(``{"label", "value", "type", "universal_id"}`` per attribute, docs/readings/personio.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hrsync.emulator.core import require

# The company's time zone: Personio writes timestamps and dates with the company's offset
# (the document's examples: 2014-11-09T00:00:00+01:00, 2020-11-18T17:33:55+01:00).
COMPANY_ZONE = ZoneInfo("Europe/Berlin")

# Personio's standard attributes, with the label and type its document shows for each.
STANDARD: dict[str, tuple[str, str]] = {
    "id": ("ID", "integer"),
    "first_name": ("First name", "standard"),
    "last_name": ("Last name", "standard"),
    "preferred_name": ("Name (preferred)", "standard"),
    "email": ("Email", "standard"),
    "gender": ("Gender", "standard"),
    "status": ("Status", "standard"),
    "position": ("Position", "standard"),
    "supervisor": ("Supervisor", "standard"),
    "employment_type": ("Employment type", "standard"),
    "weekly_working_hours": ("Weekly hours", "standard"),
    "hire_date": ("Hire date", "date"),
    "contract_end_date": ("Contract ends", "date"),
    "termination_date": ("Termination date", "date"),
    "termination_type": ("Termination type", "standard"),
    "termination_reason": ("Termination reason", "standard"),
    "probation_period_end": ("Probation period end", "date"),
    "created_at": ("created_at", "date"),
    "last_modified_at": ("Last modified", "date"),
    "subcompany": ("Subcompany", "standard"),
    "office": ("Office", "standard"),
    "department": ("Department", "standard"),
    "cost_centers": ("Cost center", "standard"),
    "team": ("Team", "standard"),
    "last_working_day": ("Last day of work", "date"),
}
# Attributes Personio keeps itself: a seed may not set them.
DERIVED = ("id", "created_at", "last_modified_at")
# Relationships rendered as {"type": <kind>, "attributes": {"id", "name"}}.
UNITS = {"department": "Department", "office": "Office", "team": "Team", "subcompany": "Subcompany"}
CHOICES = {
    "status": ("active", "inactive", "onboarding", "leave"),
    "gender": ("male", "female", "diverse"),
    "employment_type": ("internal", "external"),
}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DYNAMIC = re.compile(r"^dynamic_\d+$")
FIRST_ID = 10001
# The supervisor's attributes: the document's ShortEmployee schema.
SHORT = ("id", "first_name", "last_name", "email")


@dataclass
class CustomAttribute:
    """A ``dynamic_<id>`` attribute: its label, type, universal id and list options."""

    key: str
    label: str
    type: str = "standard"
    universal_id: str | None = None
    options: list[str] = field(default_factory=list)


# A company's custom attributes at the start (labels and universal ids as the document's
# examples show them: a birthday is a custom attribute with universal id date_of_birth).
DEFAULT_CUSTOM = (
    CustomAttribute("dynamic_180883", "Birthday", "date", "date_of_birth"),
    CustomAttribute("dynamic_24407", "Titel"),
    CustomAttribute("dynamic_1475061", "Work phone"),
    CustomAttribute("dynamic_1475062", "Mobile phone"),
)


@dataclass
class Employee:
    """One person: flat values, and when each attribute last changed (emulator clock)."""

    id: int
    values: dict[str, Any]
    created: float
    changed: dict[str, float] = field(default_factory=dict)

    @property
    def modified(self) -> float:
        return max([self.created, *self.changed.values()])

    def changed_at(self, key: str) -> float | None:
        """When ``key`` last changed; None if it never held a value."""
        if key in ("id", "created_at"):
            return self.created
        if key == "last_modified_at":
            return self.modified
        return self.changed.get(key)


class Company:
    """The employees, organisational units and custom attributes of one Personio company."""

    def __init__(self) -> None:
        self.employees: dict[int, Employee] = {}
        self.custom: dict[str, CustomAttribute] = {c.key: c for c in DEFAULT_CUSTOM}
        self.units: dict[tuple[str, str], int] = {}  # (kind, name) -> id

    def attribute_keys(self) -> list[str]:
        return [*STANDARD, *self.custom]

    def describe(self, key: str) -> tuple[str, str, str | None]:
        """(label, type, universal_id) of an attribute."""
        if key in STANDARD:
            label, kind = STANDARD[key]
            return label, kind, key
        custom = self.custom[key]
        return custom.label, custom.type, custom.universal_id

    def unit_id(self, kind: str, name: str) -> int:
        return self.units.setdefault((kind, name), 1000 + len(self.units) + 1)

    def upsert(self, records: Any, now: float) -> list[Employee]:
        """Seed or change employees from flat records (control call ``POST employees``)."""
        require(isinstance(records, list), "invalid_employees", "Send a JSON list of employees.")
        checked = [self._checked(record) for record in records]
        new_ids = {r["id"] for r in checked if "id" in r}
        for record in checked:
            supervisor = record.get("supervisor")
            require(
                supervisor is None or supervisor in self.employees or supervisor in new_ids,
                "invalid_employee",
                f"Supervisor with ID {supervisor} not found",
            )
            require(
                supervisor is None or supervisor != record.get("id"),
                "invalid_employee",
                "An employee cannot be their own supervisor",
            )
        return [self._upsert_one(record, now) for record in checked]

    def _checked(self, record: Any) -> dict[str, Any]:
        require(isinstance(record, dict), "invalid_employee", "Each employee is an object.")
        assert isinstance(record, dict)
        values = {k: v for k, v in record.items() if k not in DERIVED[1:]}
        unknown = [k for k in values if k not in STANDARD and not DYNAMIC.match(k)]
        require(not unknown, "invalid_employee", f"Not Personio attributes: {unknown}")
        if "id" in values:
            require(_is_int(values["id"]) and values["id"] > 0, "invalid_employee", "id: integer")
        if values.get("supervisor") is not None:
            require(_is_int(values["supervisor"]), "invalid_employee", "supervisor: an id")
        for key, allowed in CHOICES.items():
            value = values.get(key)
            require(value is None or value in allowed, "invalid_employee", f"{key}: {allowed}")
        for key, value in values.items():
            if self._is_date(key) and value is not None:
                require(
                    isinstance(value, str) and bool(DATE.match(value)),
                    "invalid_employee",
                    f"{key}: a date as YYYY-MM-DD",
                )
                _parse_date(value, key)
        return values

    def _is_date(self, key: str) -> bool:
        if key in STANDARD:
            return STANDARD[key][1] == "date"
        custom = self.custom.get(key)
        return custom is not None and custom.type == "date"

    def _upsert_one(self, record: dict[str, Any], now: float) -> Employee:
        for key in record:
            if DYNAMIC.match(key) and key not in self.custom:
                self.custom[key] = CustomAttribute(key, key)
        ident = record.pop("id", None)
        if ident is None:
            ident = max([FIRST_ID - 1, *self.employees]) + 1
        employee = self.employees.get(ident)
        if employee is None:
            employee = self.employees[ident] = Employee(ident, {}, created=now)
        for key, value in record.items():
            value = self._normalised(key, value)
            if employee.values.get(key) != value:
                employee.changed[key] = now
            if value is None:
                employee.values.pop(key, None)
            else:
                employee.values[key] = value
        return employee

    def _normalised(self, key: str, value: Any) -> Any:
        """Units given by name become {"id", "name"}; cost centers a list of them."""
        if value is None or value == "" or value == []:
            return None
        if key in UNITS:
            return self._unit(key, value)
        if key == "cost_centers":
            items = value if isinstance(value, list) else [value]
            centers = [self._unit(key, item) for item in items]
            for center in centers:
                center.setdefault("percentage", round(100 / len(centers), 2))
            return centers
        return value

    def _unit(self, kind: str, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            name = str(value.get("name", ""))
            require(bool(name), "invalid_employee", f"{kind}: a name")
            unit = {"id": value.get("id") or self.unit_id(kind, name), "name": name}
            if kind == "cost_centers" and "percentage" in value:
                unit["percentage"] = value["percentage"]
            return unit
        require(isinstance(value, str | int), "invalid_employee", f"{kind}: a name")
        return {"id": self.unit_id(kind, str(value)), "name": str(value)}

    def flat(self, employee: Employee) -> dict[str, Any]:
        """The control API's view: flat values, and the times Personio would show."""
        return {
            "id": employee.id,
            **employee.values,
            "created_at": timestamp(employee.created),
            "last_modified_at": timestamp(employee.modified),
        }

    def envelope(
        self, employee: Employee, keys: list[str], *, boss_keys: tuple[str, ...] = SHORT
    ) -> dict[str, Any]:
        """``{"type": "Employee", "attributes": {key: {label, value, type, universal_id}}}``;
        the supervisor's value is the same object with ``boss_keys`` only."""
        attributes = {key: self._attribute(employee, key, boss_keys) for key in keys}
        return {"type": "Employee", "attributes": attributes}

    def _attribute(self, employee: Employee, key: str, boss: tuple[str, ...]) -> dict[str, Any]:
        label, kind, universal = self.describe(key)
        value = self._value(employee, key, kind, boss)
        return {"label": label, "value": value, "type": kind, "universal_id": universal}

    def _value(self, employee: Employee, key: str, kind: str, boss: tuple[str, ...]) -> Any:
        if key == "id":
            return employee.id
        if key == "created_at":
            return timestamp(employee.created)
        if key == "last_modified_at":
            return timestamp(employee.modified)
        value = employee.values.get(key)
        if value is None:
            return [] if key == "cost_centers" else None
        if key == "supervisor":
            return self._supervisor(int(value), boss)
        if key in UNITS:
            return {"type": UNITS[key], "attributes": dict(value)}
        if key == "cost_centers":
            return [{"type": "CostCenter", "attributes": dict(c)} for c in value]
        if kind == "date" and key in STANDARD:
            return midnight(str(value))
        return value

    def _supervisor(self, ident: int, keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The supervisor as a short Employee object (the document's ShortEmployee)."""
        boss = self.employees.get(ident)
        return None if boss is None else self.envelope(boss, list(keys))


def timestamp(epoch: float) -> str:
    """A time as Personio writes it: ISO 8601, seconds, with the company's offset."""
    moment = dt.datetime.fromtimestamp(int(epoch), COMPANY_ZONE)
    return moment.isoformat()


def midnight(date: str) -> str:
    """A standard date attribute as Personio writes it: midnight, with the company's offset."""
    day = dt.date.fromisoformat(date)
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=COMPANY_ZONE)
    return moment.isoformat()


def _parse_date(value: str, key: str) -> None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        require(False, "invalid_employee", f"{key}: not a date")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
