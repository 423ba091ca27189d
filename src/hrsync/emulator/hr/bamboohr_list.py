"""``GET /api/v1/employees`` (operationId list-employees): filters, sorting, optional fields and
cursor pages, as BambooHR's document describes them.

A cursor names the employee at the page's edge and the direction (``{"cursor": "after-124"}``,
base64, as the document's example decodes); a cursor that does not decode, is used in the other
direction, or whose edge employee is gone or no longer matches the filter is refused with
``BadPage``. Invalid filters, sorts and page sizes are ``BadRequest``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hrsync.emulator.hr.bamboohr_data import Company, Employee, sort_key
from hrsync.emulator.hr.bamboohr_wire import BambooError

BASE_FIELDS = ("firstName", "lastName", "preferredName", "photoUrl", "jobTitleName", "status")
OPTIONAL_FIELDS = (  # the document's EmployeeOptionalField
    "workEmail", "homeEmail", "bestEmail", "middleName", "workPhone", "workPhoneExtension",
    "mobilePhone", "homePhone", "skypeUsername", "linkedinUrl", "facebookUrl", "instagramUrl",
    "twitterUrl", "pinterestUrl", "birthDate", "hireDate", "divisionName", "divisionId",
    "departmentName", "departmentId", "locationName", "locationId", "jobTitleId",
    "employmentStatusName", "employmentStatusId", "reportsToName", "reportsToId",
)  # fmt: skip
SORTABLE = ("employeeId", *BASE_FIELDS[:2], "preferredName", "jobTitleName", "status")
STATUSES = ("active", "inactive")


@dataclass(frozen=True, slots=True)
class PageSize:
    """The page size's bounds: the document's employee object (1..2500, 250 by default), or
    with bamboohr-page-limit-100 the generic cursor object it extends (1..100, 50)."""

    default: int
    most: int


EMPLOYEE_PAGES = PageSize(250, 2500)
GENERIC_PAGES = PageSize(50, 100)


@dataclass(frozen=True, slots=True)
class Query:
    ids: frozenset[str] | None
    status: str | None
    contains: dict[str, str]  # firstName/lastName/jobTitleName -> lower-case substring
    sort: tuple[str, ...]
    fields: tuple[str, ...]
    limit: int
    after: str | None
    before: str | None


def bad_request(message: str) -> BambooError:
    return BambooError(400, message, code="BadRequest")


def bad_page(message: str) -> BambooError:
    return BambooError(400, message, code="BadPage")


def parse(pairs: list[tuple[str, str]], size: PageSize) -> Query:
    """The list's query string, read as the document's deepObject parameters."""
    ids: set[str] | None = None
    contains: dict[str, str] = {}
    status = after = before = None
    limit = size.default
    sort: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    for key, value in pairs:
        if re.fullmatch(r"filter\[ids\](\[\d*\])?", key):
            ids = (ids or set()) | _ids(value)
        elif key == "filter[status]":
            status = _status(value)
        elif key in ("filter[firstName]", "filter[lastName]", "filter[jobTitleName]"):
            contains[key[7:-1]] = value.lower()
        elif key == "page[limit]":
            limit = _limit(value, size)
        elif key == "page[after]":
            after = value
        elif key == "page[before]":
            before = value
        elif key == "sort" and value:  # an empty sort is no sort
            sort = _sort(value)
        elif key in ("fields", "fields[]"):
            fields += tuple(f.strip() for f in value.split(",") if f.strip() in OPTIONAL_FIELDS)
    if after is not None and before is not None:
        raise bad_page("Give page[after] or page[before], not both.")
    frozen = None if ids is None else frozenset(ids)
    return Query(frozen, status, contains, sort, tuple(dict.fromkeys(fields)), limit, after, before)


def _ids(value: str) -> set[str]:
    found = {v.strip() for v in value.split(",") if v.strip()}
    if not all(v.isdigit() for v in found):
        raise bad_request("filter[ids] takes employee ids (integers).")
    return {str(int(v)) for v in found}


def _status(value: str) -> str:
    if value not in STATUSES:
        raise bad_request("filter[status] must be active or inactive.")
    return value


def _limit(value: str, size: PageSize) -> int:
    if not re.fullmatch(r"\d{1,9}", value.strip()) or not 1 <= int(value) <= size.most:
        raise bad_request(f"page[limit] must be an integer from 1 to {size.most}.")
    return int(value)


def _sort(value: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in value.split(","))
    if not all(k.removeprefix("-") in SORTABLE for k in keys):
        raise bad_request(f"sort takes {', '.join(SORTABLE)} (a leading - for descending).")
    return keys


def record(company: Company, emp: Employee, fields: tuple[str, ...]) -> dict[str, Any]:
    """One employee as the list writes it: the base fields, then those asked for."""
    out: dict[str, Any] = {"employeeId": emp.id}
    for name in (*BASE_FIELDS, *fields):
        out[name] = None if name == "photoUrl" else company.value(emp, name)
    out["_restrictedFields"] = []
    return out


def matching(company: Company, query: Query) -> list[Employee]:
    """The employees the filters keep, in the order asked (by employee id by default)."""
    found = [e for e in company.employees.values() if _matches(company, e, query)]
    found.sort(key=sort_key)
    for key in reversed(query.sort):  # stable sorts, last key first
        name = key.removeprefix("-")

        def by(emp: Employee, name: str = name) -> tuple[int, Any]:
            return _sort_value(company, emp, name)

        found.sort(key=by, reverse=key.startswith("-"))
    return found


def _sort_value(company: Company, emp: Employee, name: str) -> tuple[int, Any]:
    if name == "employeeId":
        return sort_key(emp)
    value = company.value(emp, name)
    return (0, "") if value is None else (1, value.lower())  # nulls first ascending


def _matches(company: Company, emp: Employee, query: Query) -> bool:
    if query.ids is not None and emp.id not in query.ids:
        return False
    if query.status is not None and (emp.fields.get("status") or "").lower() != query.status:
        return False
    return all(
        needle in (company.value(emp, name) or "").lower()
        for name, needle in query.contains.items()
    )


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Employee]
    next_id: str | None  # the edge employee of the next page's cursor
    prev_id: str | None


def page(ordered: list[Employee], query: Query) -> Page:
    """The slice a cursor (or none: the first page) points at."""
    start, end = 0, query.limit
    if query.after is not None:
        start = _edge(ordered, query.after, "after") + 1
        end = start + query.limit
    elif query.before is not None:
        end = _edge(ordered, query.before, "before")
        start = max(0, end - query.limit)
    items = ordered[start:end]
    next_id = items[-1].id if items and end < len(ordered) else None
    prev_id = items[0].id if items and start > 0 else None
    return Page(items, next_id, prev_id)


def _edge(ordered: list[Employee], cursor: str, direction: str) -> int:
    try:
        decoded = json.loads(base64.b64decode(cursor.encode(), validate=True))
        said = str(decoded["cursor"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise bad_page("The page cursor is malformed.") from None
    kind, _, emp_id = said.partition("-")
    if kind != direction:
        raise bad_page(f"This cursor pages {kind}, not {direction}.")
    for index, emp in enumerate(ordered):
        if emp.id == emp_id:
            return index
    raise bad_page("The page's boundary employee changed since the cursor was given.")


def cursor(direction: str, emp_id: str) -> str:
    text = json.dumps({"cursor": f"{direction}-{emp_id}"})
    return base64.b64encode(text.encode()).decode()


def links(base: str, pairs: list[tuple[str, str]], found: Page) -> dict[str, Any]:
    """``_links``: this page, and the next and previous ones where they exist."""
    kept = [(k, v) for k, v in pairs if k not in ("page[after]", "page[before]")]
    out: dict[str, Any] = {"self": {"href": _url(base, pairs)}}
    if found.next_id is not None:
        out["next"] = {"href": _url(base, [*kept, ("page[after]", cursor("after", found.next_id))])}
    if found.prev_id is not None:
        out["prev"] = {
            "href": _url(base, [*kept, ("page[before]", cursor("before", found.prev_id))])
        }
    return out


def _url(base: str, pairs: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(pairs)}" if pairs else base


def answer(company: Company, query: Query, base: str, pairs: list[tuple[str, str]], *,
           truncate: str | None) -> dict[str, Any]:  # fmt: skip
    """The whole list answer; ``truncate`` (a fault) drops the page's last record
    ("drop": the cursor still points past it) or ends the cursor chain here ("end")."""
    ordered = matching(company, query)
    found = page(ordered, query)
    items = found.items
    if truncate == "drop":
        items = items[:-1]
    elif truncate == "end":
        found = Page(items, None, found.prev_id)
    meta_page = {
        "limit": query.limit,
        "nextCursor": None if found.next_id is None else cursor("after", found.next_id),
        "prevCursor": None if found.prev_id is None else cursor("before", found.prev_id),
    }
    return {
        "data": [record(company, e, query.fields) for e in items],
        "meta": {"total": len(ordered), "page": meta_page},
        "_links": links(base, pairs, found),
    }
