"""HR employee → Cliq profile fields. The one place that knows which field goes where."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hrsync.model import Employee
from hrsync.sync.state import UserFieldMeta

# Cliq profile field -> the HR field it comes from.
CLIQ_FROM: dict[str, str] = {
    "email_id": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "display_name": "nickname",  # or the full name when there is no nickname
    "mobile": "mobile",
    "phone": "work_phone",
    "extension": "extension",
    "work_location": "seating_location",
    "employee_id": "employee_id",
}


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


def kept_fields(employee: Employee) -> frozenset[str]:
    """Cliq profile fields to leave as Cliq has them: their HR value is broken or absent."""
    blocked = employee.blocked
    kept = {cliq for cliq, hr in CLIQ_FROM.items() if hr in blocked}
    if not employee.nickname and {"first_name", "last_name"} & blocked:
        kept.add("display_name")  # the display name would be built from a broken name
    return frozenset(kept)


def same_value(field: str, current: str, wanted: str) -> bool:
    """Equal as Cliq compares them: emails ignore case, everything ignores edge spaces."""
    if field == "email_id":
        return current.strip().lower() == wanted.strip().lower()
    return current.strip() == wanted.strip()


def custom_values(employee: Employee, fields: Mapping[str, str]) -> dict[str, str]:
    """Cliq custom field → HR value, for ``fields`` (HR field → Cliq field). A canonical
    field is read from the employee (dates in ISO form); any other name from the columns the
    source carried along."""
    values: dict[str, str] = {}
    for hr_field, cliq_field in fields.items():
        if not cliq_field:
            continue
        raw = getattr(employee, hr_field, None) if hasattr(employee, hr_field) else None
        if raw is None:
            raw = employee.extra.get(hr_field, "")
        values[cliq_field] = raw.isoformat() if isinstance(raw, dt.date) else str(raw or "")
    return values


# Cliq's date user fields are "date_picker" (Zoho's user-fields document); "date" is read too.
DATE_TYPES = ("date_picker", "date")


class NoSuchOption(ValueError):
    """An HR value that a drop-down field has no option for."""


def encode(meta: UserFieldMeta, value: str) -> Any:
    """An HR value as Cliq wants it in ``meta``: dates as epoch ms, drop-downs as option id."""
    if not value:
        return ""
    if meta.type in DATE_TYPES:
        day = dt.date.fromisoformat(value)
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
    if meta.type == "drop_down":
        option_id = _option_named(meta, value)
        if option_id is not None:
            return option_id
        choices = ", ".join(meta.options) or "none"
        raise NoSuchOption(f"{value!r} is not an option of Cliq field '{meta.name}' ({choices})")
    return value


def _option_named(meta: UserFieldMeta, name: str) -> str | None:
    wanted = name.strip().lower()
    return next((i for n, i in meta.options.items() if n.strip().lower() == wanted), None)


def same_custom(meta: UserFieldMeta, held: str, encoded: Any) -> bool:
    """Whether Cliq holds ``encoded`` (a value as ``encode`` writes it) when it answers
    ``held``. Some organisations answer a drop-down with the option's name rather than the
    id it was written as (an option ``{id, name}`` is read as its id, ``api.cliq``)."""
    if str(encoded) == held:
        return True
    return meta.type == "drop_down" and held != "" and _option_named(meta, held) == str(encoded)


def decode(meta: UserFieldMeta, wire: Any) -> str:
    """A value Cliq holds, for people to read (the inverse of ``encode``)."""
    if wire in (None, ""):
        return ""
    if meta.type in DATE_TYPES:
        try:
            return dt.datetime.fromtimestamp(int(wire) / 1000, dt.UTC).date().isoformat()
        except (TypeError, ValueError):
            return str(wire)
    if meta.type == "drop_down":
        return next((n for n, i in meta.options.items() if i == str(wire)), str(wire))
    return str(wire)
