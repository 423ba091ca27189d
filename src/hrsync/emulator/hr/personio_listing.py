"""Personio's employee reads: ``GET /company/employees`` (``limit``, ``offset``, ``email``,
``attributes[]``, ``updated_since``), one employee, and the attributes a credential may read
(docs/readings/personio.md has the reading of each parameter)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from hrsync.emulator.hr.personio_access import NOT_FOUND, PersonioError
from hrsync.emulator.hr.personio_people import COMPANY_ZONE, SHORT, Company, Employee

DEFAULT_LIMIT = 50  # Personio's pagination guide: unpaginated requests get 50 per page
MAX_LIMIT = 100  # ... and a page holds at most 100 employees
SINCE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True, slots=True)
class Reading:
    """The disputed readings a listing plays (each a variant of personio.VARIANTS)."""

    offset_is_page: bool = False  # personio-offset-page
    since_paged: bool = False  # personio-updated-since-paged
    limit_capped: bool = False  # personio-limit-capped
    boss_id_only: bool = False  # personio-supervisor-id-only

    @property
    def boss_keys(self) -> tuple[str, ...]:
        return ("id",) if self.boss_id_only else SHORT


def readable(company: Company, whitelist: tuple[str, ...] | None) -> list[str]:
    """The attributes a credential may read, in Personio's order; ``id`` always."""
    keys = company.attribute_keys()
    if whitelist is None:
        return keys
    return [k for k in keys if k == "id" or k in whitelist]


def list_employees(
    company: Company,
    query: list[tuple[str, str]],
    *,
    keys: list[str],
    reading: Reading,
    truncate: bool = False,
) -> dict[str, Any]:
    """The answer to ``GET /company/employees``: one page in Personio's envelope."""
    params = dict(query)
    wanted = [v for k, v in query if k == "attributes[]"]
    shown = _projection(keys, wanted)
    people = sorted(company.employees.values(), key=lambda e: e.id)
    since_text = params.get("updated_since")
    if since_text is not None:
        since = parse_since(since_text)
        picked = [p for p in people if _updated(p, since, wanted, keys)]
        if not reading.since_paged:  # "the email, limit, and offset parameters are ignored"
            return _page(company, picked, shown, reading, everything=True, truncate=truncate)
    else:
        email = params.get("email")
        picked = [p for p in people if _email_is(p, email)] if email is not None else people
    limit, offset = _limit(params.get("limit"), reading), _offset(params.get("offset"))
    return _page(company, picked, shown, reading, limit=limit, offset=offset, truncate=truncate)


def _page(
    company: Company,
    people: list[Employee],
    keys: list[str],
    reading: Reading,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    everything: bool = False,
    truncate: bool = False,
) -> dict[str, Any]:
    total = len(people)
    if everything:
        limit, offset, page, start = max(total, 1), 0, 0, 0
    elif reading.offset_is_page:  # offset is a page number from 1; 0 is read as 1
        page = max(offset, 1)
        start = (page - 1) * limit
    else:
        page, start = offset // limit, offset
    chosen = people[start : start + limit]
    if truncate:  # fault: the page ends early; its metadata still counts every record
        chosen = chosen[: len(chosen) - max(1, len(chosen) // 2)]
    return {
        "success": True,
        "metadata": {
            "total_elements": total,
            "current_page": page,
            "total_pages": math.ceil(total / limit),
        },
        "offset": offset,
        "limit": limit,
        "data": [company.envelope(p, keys, boss_keys=reading.boss_keys) for p in chosen],
    }


def get_employee(
    company: Company, ident: str, *, keys: list[str], reading: Reading
) -> dict[str, Any]:
    """``GET /company/employees/{employee_id}``: ``{"success", "data": Employee}``."""
    number = _integer(ident)
    employee = company.employees.get(number) if number is not None else None
    if employee is None:
        raise PersonioError(404, NOT_FOUND)
    return {"success": True, "data": company.envelope(employee, keys, boss_keys=reading.boss_keys)}


def attributes(company: Company, keys: list[str]) -> dict[str, Any]:
    """``GET /company/employees/attributes``: what the credential may read, with options."""
    data = []
    for key in keys:
        if key == "id":
            continue
        label, kind, universal = company.describe(key)
        custom = company.custom.get(key)
        options = list(custom.options) if custom else []
        data.append(
            {
                "key": key,
                "label": label,
                "type": kind,
                "universal_id": universal,
                "options": options,
            }
        )
    return {"success": True, "data": data}


def parse_since(text: str) -> float:
    """``updated_since``: ISO 8601 (2022-12-24T08:15:30) or YYYY-MM-DD; a time without an
    offset is the company's local time, as Personio writes its own timestamps."""
    moment: dt.datetime | None = None
    if SINCE.match(text):
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if moment is None:
        raise PersonioError(
            400,
            "The updated_since parameter must be a date in the ISO 8601 format "
            "(2022-12-24T08:15:30) or YYYY-MM-DD.",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COMPANY_ZONE)
    return moment.timestamp()


def _updated(person: Employee, since: float, wanted: list[str], keys: list[str]) -> bool:
    """Updated after ``since`` (to the second); with ``attributes[]``, one of those."""
    if not wanted:
        return int(person.modified) > since
    for key in wanted:
        changed = person.changed_at(key) if key in keys else None
        if changed is not None and int(changed) > since:
            return True
    return False


def _projection(keys: list[str], wanted: list[str]) -> list[str]:
    """The attributes shown: those asked for that the credential may read, ``id`` first."""
    if not wanted:
        return keys
    chosen = ["id", *(k for k in wanted if k in keys and k != "id")]
    return list(dict.fromkeys(chosen))


def _limit(text: str | None, reading: Reading) -> int:
    if text is None:
        return DEFAULT_LIMIT
    value = _integer(text)
    if reading.limit_capped and value is not None and value > MAX_LIMIT:
        return MAX_LIMIT
    if value is None or not 1 <= value <= MAX_LIMIT:
        raise PersonioError(400, f"The limit must be between 1 and {MAX_LIMIT}.")
    return value


def _offset(text: str | None) -> int:
    if text is None:
        return 0
    value = _integer(text)
    if value is None or value < 0:
        raise PersonioError(400, "The offset must be an integer of 0 or more.")
    return value


def _integer(text: str) -> int | None:
    """A non-negative integer written in ASCII digits (a very long one is just large)."""
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()):
        return None
    return int(stripped) if len(stripped) <= 18 else 10**18


def _email_is(person: Employee, email: str) -> bool:
    found = person.values.get("email")
    return isinstance(found, str) and found.casefold() == email.strip().casefold()
