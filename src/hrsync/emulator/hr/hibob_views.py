"""How Bob answers reads of employees: the request's checks and the answer's shape.

A read names ``fields`` by ID (``root.id``, ``work.department``); the answer keys each
field twice, as Bob's guides show it: nested (root fields at the top, ``work.department``
under ``work``) and by slash path (``"/work/department": {"value": ...}``). Variants keep
only one of the two. List fields carry item IDs; ``humanReadable: "REPLACE"`` carries names
and dd/MM/yyyy dates instead, ``"APPEND"`` keeps the IDs and adds a nested ``humanReadable``
node with the names. A field the service user may not view, or no field has that ID, is
left out without a word (200), unless ``hibob-forbidden-403`` is played. An empty field is
``{"value": null}`` under its slash path and absent from the nested objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hrsync.emulator.hr.hibob_company import (
    BASIC_CATEGORIES,
    BASIC_ROOT,
    BASIC_ROOT_MORE,
    ROOT,
    Company,
    Employee,
    FieldDef,
)

MAX_FIELDS = 400  # the read contract: at most 400 field IDs in fields[]
FILTER_PATHS = ("root.id", "root.email")
MODES = ("APPEND", "REPLACE")


class BadRead(ValueError):
    """A read request Bob refuses with 400."""


@dataclass(frozen=True, slots=True)
class Read:
    """What a read asks for: fields (None: the basic set), filter, humanReadable, inactive."""

    fields: list[str] | None
    mode: str | None = None
    inactive: bool = False
    ids: frozenset[str] | None = None
    emails: frozenset[str] | None = None


def search_request(body: Any) -> Read:
    """``ReadEmployeesRequestReference``, checked as Bob's document says (400 otherwise)."""
    if not isinstance(body, dict):
        raise BadRead("The request body must be a JSON object")
    inactive = body.get("showInactive", False)
    if not isinstance(inactive, bool):
        raise BadRead("showInactive must be a boolean")
    read = single_request(body)
    ids, emails = _filter(body.get("filters", []))
    return Read(read.fields, read.mode, inactive, ids, emails)


def single_request(body: Any) -> Read:
    """``ReadSingleEmployeeRequestReference`` (fields and humanReadable)."""
    if body is None:
        return Read(None)
    if not isinstance(body, dict):
        raise BadRead("The request body must be a JSON object")
    fields = body.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise BadRead("fields must be a list of field IDs")
    if len(fields) > MAX_FIELDS:
        raise BadRead(f"At most {MAX_FIELDS} fields may be requested")
    mode = body.get("humanReadable", "")
    if not isinstance(mode, str):
        raise BadRead("humanReadable must be APPEND or REPLACE")
    # Another text is read as "not sent": the document's own example sends "humanReadable".
    return Read(fields or None, mode if mode in MODES else None)


def _filter(filters: Any) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    if filters == []:
        return None, None
    if not isinstance(filters, list) or len(filters) > 1 or not isinstance(filters[0], dict):
        raise BadRead("Only one filter is supported")
    one = filters[0]
    if one.get("fieldPath") not in FILTER_PATHS:
        raise BadRead("Filtering is supported on root.id and root.email only")
    if one.get("operator") != "equals":
        raise BadRead("The only supported operator is equals")
    values = one.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise BadRead("values must be a non-empty list of strings")
    if one["fieldPath"] == "root.id":
        return frozenset(values), None
    return None, frozenset(v.lower() for v in values)


def matches(read: Read, employee: Employee) -> bool:
    if not read.inactive and not employee.active:
        return False
    if read.ids is not None and employee.id not in read.ids:
        return False
    return read.emails is None or employee.email.lower() in read.emails


def wanted_fields(company: Company, read: Read) -> list[FieldDef]:
    """The fields asked for that exist (others are left out silently)."""
    if read.fields is None:
        return _basic(company)
    known = {f.id: f for f in company.fields()}
    return [known[f] for f in dict.fromkeys(read.fields) if f in known]


def _basic(company: Company) -> list[FieldDef]:
    root = {f"root.{k}" for k in (*BASIC_ROOT, *BASIC_ROOT_MORE)}
    return [f for f in company.fields() if f.id in root or f.category in BASIC_CATEGORIES]


@dataclass(frozen=True, slots=True)
class Shape:
    """The variants that change an answer's shape."""

    nested: bool = True
    slash: bool = True
    names: bool = False  # list values by name without humanReadable (hibob-list-names)


def render(
    company: Company,
    employee: Employee,
    fields: list[FieldDef],
    *,
    mode: str | None,
    shape: Shape,
) -> dict[str, Any]:
    """One employee as Bob answers it, with exactly ``fields``."""
    out: dict[str, Any] = {}
    human: dict[str, Any] = {}
    for fid in fields:
        machine = _machine(company, employee, fid)
        readable = _human(company, employee, fid)
        by_name = shape.names and fid.list_id is not None
        shown = readable if mode == "REPLACE" or by_name else machine
        # An empty field is null under its slash path and absent from the nested objects,
        # whose schema (Employee, WorkPart) types every value and allows no null.
        if shape.nested and shown is not None:
            _put(out, fid, shown)
        if shape.slash:
            out["/" + fid.id.replace(".", "/")] = {"value": shown}
        if readable is not None:
            _put(human, fid, readable)
    if mode == "APPEND":
        out["humanReadable"] = human
    return out


def _machine(company: Company, employee: Employee, fid: FieldDef) -> Any:
    value = employee.value(fid)
    if fid.type == "employee-reference":
        return company.reference(value)
    return value


def _human(company: Company, employee: Employee, fid: FieldDef) -> Any:
    if fid.type == "employee-reference":
        return company.reference(employee.value(fid))
    return company.human(fid, employee.value(fid))


def _put(out: dict[str, Any], fid: FieldDef, value: Any) -> None:
    if fid.category == ROOT:
        out[fid.key] = value
    else:
        out.setdefault(fid.category, {})[fid.key] = value


def forbidden(fields: list[FieldDef], may_view: Callable[[str], bool]) -> list[FieldDef]:
    """The fields of categories the service user may not view."""
    return [f for f in fields if not may_view(f.category)]
