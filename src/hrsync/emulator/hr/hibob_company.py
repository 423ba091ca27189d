"""A HiBob company as Bob keeps it: employees in nested categories, list values as named-list
item IDs, and the field metadata that says which field is a list and which list it uses.

An employee is stored by category (``root``, ``work``, ``internal``, ``about``, and any custom
category), each a mapping of field to its machine value: a list field holds the item ID as
text (``"209192163"``), a multi-list field a list of them, ``work.reportsTo`` the manager's
employee ID, a date ``YYYY-MM-DD``. Seeds arrive with list values by name (the control API's
``POST employees``); a name no list has yet becomes a new item of that list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

ROOT = "root"


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of Bob's metadata (``GET /company/people/fields``)."""

    id: str  # "work.department": the field ID and its JSON path
    name: str
    type: str  # text, number, date, list, multi-list, employee-reference
    list_id: str | None = None
    historical: bool = False

    @property
    def category(self) -> str:
        return self.id.partition(".")[0]

    @property
    def key(self) -> str:
        return self.id.partition(".")[2]

    def metadata(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": self.id,
            "category": self.category,
            "name": self.name,
            "description": self.name,
            "jsonPath": self.id,
            "type": self.type,
            "historical": self.historical,
        }
        if self.list_id is not None:
            answer["typeData"] = {"listId": self.list_id}
        return answer


BUILTIN: tuple[FieldDef, ...] = (
    FieldDef("root.id", "Employee ID", "text"),
    FieldDef("root.companyId", "Company ID", "number"),
    FieldDef("root.email", "Email", "text"),
    FieldDef("root.firstName", "First name", "text"),
    FieldDef("root.surname", "Last name", "text"),
    FieldDef("root.middleName", "Middle name", "text"),
    FieldDef("root.displayName", "Display name", "text"),
    FieldDef("root.fullName", "Full name", "text"),
    FieldDef("root.creationDateTime", "Creation timestamp", "text"),
    FieldDef("root.avatarUrl", "Avatar URL", "text"),
    FieldDef("work.department", "Department", "list", "department", historical=True),
    FieldDef("work.title", "Job title", "list", "title", historical=True),
    FieldDef("work.site", "Site", "list", "site", historical=True),
    FieldDef("work.reportsTo", "Reports to", "employee-reference", historical=True),
    FieldDef("work.startDate", "Start date", "date"),
    FieldDef("work.employeeIdInCompany", "Employee ID in company", "number"),
    FieldDef("internal.status", "Status", "text"),
    FieldDef("internal.terminationDate", "Termination date", "date"),
    FieldDef("about.avatar", "Avatar", "text"),
    FieldDef("about.about", "About", "text"),
    FieldDef("about.hobbies", "Hobbies", "multi-list", "hobbies"),
)
# Without `fields`, a read answers these root fields and whole categories (the request
# schema's description of `fields`: basic fields and the About, Employment, Work categories).
BASIC_ROOT = ("id", "companyId", "email", "firstName", "surname", "middleName", "displayName")
BASIC_ROOT_MORE = ("creationDateTime", "avatarUrl")
BASIC_CATEGORIES = ("about", "employment", "work")


class SeedError(ValueError):
    """A control call's employee that cannot be stored (missing name, wrong type)."""


@dataclass(slots=True)
class ListItem:
    id: int
    name: str
    archived: bool = False

    def answer(self, textual: bool) -> dict[str, Any]:
        ident: int | str = str(self.id) if textual else self.id
        return {"id": ident, "name": self.name, "archived": self.archived, "children": []}


@dataclass(slots=True)
class NamedList:
    """One company list (``department``, ``site``, ``title``, ``hobbies``)."""

    name: str
    items: dict[int, ListItem] = field(default_factory=dict)

    def by_name(self, name: str) -> ListItem | None:
        return next((i for i in self.items.values() if i.name == name), None)

    def name_of(self, item_id: str) -> str | None:
        if not item_id.isdigit():
            return None
        item = self.items.get(int(item_id))
        return None if item is None else item.name

    def answer(self, *, archived: bool, textual: bool) -> dict[str, Any]:
        shown = [i.answer(textual) for i in self.items.values() if archived or not i.archived]
        return {"name": self.name, "items": shown}


@dataclass(slots=True)
class Employee:
    data: dict[str, dict[str, Any]]
    created: float
    modified: float

    @property
    def id(self) -> str:
        return str(self.data[ROOT]["id"])

    @property
    def email(self) -> str:
        return str(self.data[ROOT].get("email", ""))

    def value(self, fid: FieldDef) -> Any:
        return self.data.get(fid.category, {}).get(fid.key)

    @property
    def active(self) -> bool:
        status: object = self.data.get("internal", {}).get("status", "Active")
        return status == "Active"


def _digits(seed: str, salt: str, below: int) -> int:
    digest = hashlib.sha256(f"{seed}/{salt}".encode()).hexdigest()
    return int(digest, 16) % below


class Company:
    """Employees, named lists and custom fields of one HiBob company."""

    def __init__(self, seed: str) -> None:
        self.company_id = 600000 + _digits(seed, "company", 100_000)
        self.employees: dict[str, Employee] = {}
        self.lists = {n: NamedList(n) for n in ("department", "site", "title", "hobbies")}
        self.custom: dict[str, FieldDef] = {}
        # Bob's employee IDs are 19-digit numbers as text; list item IDs 9-digit numbers
        self._employee_ids = itertools.count(3_332_883_800_000_000_000 + _digits(seed, "e", 10**12))
        self._item_ids = itertools.count(200_000_000 + _digits(seed, "i", 10**7))

    def fields(self) -> list[FieldDef]:
        return [*BUILTIN, *self.custom.values()]

    def field(self, fid: str) -> FieldDef | None:
        return next((f for f in self.fields() if f.id == fid), None)

    def find(self, identifier: str) -> Employee | None:
        """By employee ID or by email (Bob takes either in the path)."""
        if identifier in self.employees:
            return self.employees[identifier]
        wanted = identifier.lower()
        found = (e for e in self.employees.values() if e.email.lower() == wanted)
        return next(found, None)

    def delete(self, employee_id: str) -> bool:
        return self.employees.pop(employee_id, None) is not None

    def upsert(self, raw: Any, now: float) -> str:
        """Store one employee given in Bob's field names with list values by name."""
        if not isinstance(raw, dict):
            raise SeedError("each employee is a JSON object")
        given = _categories(raw)
        ident = str(given[ROOT].get("id") or "")
        current = self.employees.get(ident)
        if current is None:
            return self._create(given, now)
        for category, values in given.items():
            stored = self._stored(category, values)
            current.data.setdefault(category, {}).update(stored)
        current.modified = now
        return ident

    def _create(self, given: dict[str, dict[str, Any]], now: float) -> str:
        root = given[ROOT]
        for needed in ("email", "firstName", "surname"):
            if not isinstance(root.get(needed), str) or not root[needed]:
                raise SeedError(f"a new employee needs {needed}")
        ident = str(root.get("id") or next(self._employee_ids))
        data = {category: self._stored(category, values) for category, values in given.items()}
        name = f"{root['firstName']} {root['surname']}"
        created = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds")
        data[ROOT] = {
            "displayName": name,
            "fullName": name,
            "creationDateTime": created.replace("+00:00", "Z"),
            **data[ROOT],
            "id": ident,
            "companyId": self.company_id,
        }
        data.setdefault("internal", {}).setdefault("status", "Active")
        data["internal"].setdefault("terminationDate", None)
        self.employees[ident] = Employee(data, created=now, modified=now)
        return ident

    def _stored(self, category: str, values: dict[str, Any]) -> dict[str, Any]:
        stored = {}
        for key, value in values.items():
            fid = self.field(f"{category}.{key}") or self._custom(category, key)
            stored[key] = self._machine(fid, value)
        return stored

    def _custom(self, category: str, key: str) -> FieldDef:
        fid = FieldDef(f"{category}.{key}", key, "text")
        self.custom[fid.id] = fid
        return fid

    def _machine(self, fid: FieldDef, value: Any) -> Any:
        """A seed's human value as Bob stores it: list names become item IDs."""
        if value is None or fid.list_id is None:
            if fid.type == "employee-reference" and isinstance(value, dict):
                return value.get("id")
            return value
        if fid.type == "multi-list":
            if not isinstance(value, list):
                raise SeedError(f"{fid.id} takes a list of names")
            return [self._item_id(fid.list_id, v) for v in value]
        return self._item_id(fid.list_id, value)

    def _item_id(self, list_name: str, name: Any) -> str:
        if not isinstance(name, str):
            raise SeedError(f"a {list_name} is given by its name")
        named = self.lists[list_name]
        item = named.by_name(name)
        if item is None:
            item = ListItem(next(self._item_ids), name)
            named.items[item.id] = item
        return str(item.id)

    def human(self, fid: FieldDef, value: Any) -> Any:
        """A machine value as Bob renders it for humanReadable: list names, dd/MM/yyyy."""
        if value is None:
            return None
        if fid.list_id is not None:
            named = self.lists[fid.list_id]
            if isinstance(value, list):
                return [named.name_of(str(v)) or v for v in value]
            return named.name_of(str(value)) or value
        if fid.type == "date" and isinstance(value, str) and len(value) == 10:
            year, month, day = value.split("-")
            return f"{day}/{month}/{year}"
        return value

    def reference(self, manager_id: Any) -> dict[str, Any] | None:
        """``work.reportsTo``: the manager as an employee reference."""
        manager = self.employees.get(str(manager_id)) if manager_id is not None else None
        if manager is None:
            return None
        root = manager.data[ROOT]
        keys = ("id", "email", "firstName", "surname", "displayName")
        return {key: root.get(key) for key in keys}

    def seeded(self, employee: Employee) -> dict[str, Any]:
        """An employee as the control API shows it: nested, list values by name."""
        shown: dict[str, Any] = {}
        for category, values in employee.data.items():
            shown[category] = {}
            for key, value in values.items():
                fid = self.field(f"{category}.{key}") or FieldDef(f"{category}.{key}", key, "text")
                shown[category][key] = value if fid.type == "date" else self.human(fid, value)
        return {**shown, "modified": employee.modified}


def _categories(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Top-level scalars are root fields (``id``, ``email``), as Bob answers them; objects
    are categories (``work``), ``root`` included."""
    given: dict[str, dict[str, Any]] = {ROOT: {}}
    for key, value in raw.items():
        if key == ROOT or (isinstance(value, dict) and not key.startswith("/")):
            if not isinstance(value, dict):
                raise SeedError("root is an object")
            given.setdefault(key, {}).update(value)
        else:
            given[ROOT][key] = value
    work = given.get("work", {})
    if isinstance(work.get("reportsTo"), dict):  # the manager as a reference: its id
        work["reportsTo"] = work["reportsTo"].get("id")
    return given
