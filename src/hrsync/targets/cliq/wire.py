"""Cliq's users as listed → users in sync terms (``CurrentUser``).

A full read lists every user of the organisation: at 100,000 people, validating each one
into the wire model before converting it was a third of the read. An entry whose every
documented field has the type Cliq documents (text, an id as text or a number, a
department, designation and manager as ``{"id", "name"}``) is converted directly, to the
same ``CurrentUser`` the wire model gives; any other entry goes through the wire model,
which converts it the same way or says what is wrong with it.
"""

from __future__ import annotations

from typing import Any

from hrsync.api.cliq import CUSTOM_ATTRIBUTES, CliqUser
from hrsync.sync.state import PROFILE_FIELDS, CurrentUser

_TEXT = (
    *("email_id", "first_name", "last_name", "display_name", "full_name", "name"),
    *("mobile", "phone", "extension", "work_location", "status"),
)
_IDS = ("id", "zuid", "employee_id")  # text, or a number (READINGS #15)
_REFS = ("department", "designation", "reportingto")
_DOCUMENTED = frozenset(_TEXT + _IDS + _REFS)
_NOT_CUSTOM = _DOCUMENTED | {CUSTOM_ATTRIBUTES}


def current_user(user: CliqUser) -> CurrentUser:
    """A Cliq wire user in sync terms."""
    fields = {name: str(getattr(user, name) or "") for name in PROFILE_FIELDS}
    if user.display_name == user.full_name and not fields["display_name"]:
        fields["display_name"] = user.full_name
    return CurrentUser(
        zuid=user.id,
        status=user.status,
        fields=fields,
        department=user.department.name if user.department else "",
        designation=user.designation.name if user.designation else "",
        manager_zuid=user.reportingto.id if user.reportingto else "",
        custom={k: str(v) for k, v in user.custom.items() if isinstance(v, str | int)},
    )


def current_user_of(item: Any) -> CurrentUser:
    """A listed user (decoded JSON) in sync terms, as ``current_user`` would give it."""
    if not _plain(item):
        return current_user(CliqUser.model_validate(item))
    get = item.get
    # (``current_user``'s display-name rule changes nothing here: an empty display name
    # equal to the full name leaves both empty.)
    fields = {name: str(get(name) or "") for name in PROFILE_FIELDS}
    department, designation, manager = get("department"), get("designation"), get("reportingto")
    return CurrentUser(
        zuid=str(item["id"]),
        status=get("status") or "",
        fields=fields,
        department=department.get("name", "") if department else "",
        designation=designation.get("name", "") if designation else "",
        manager_zuid=str(manager["id"]) if manager else "",
        custom=_custom_of(item),
    )


def _custom_of(item: dict[str, Any]) -> dict[str, str]:
    """``CliqUser.custom`` as ``current_user`` keeps it, in one pass over the answer: text
    kept as it is, anything else through ``_text`` (most values are text)."""
    custom = {
        k: text
        for k, v in item.items()
        if k not in _NOT_CUSTOM and (text := v if type(v) is str else _text(v)) is not None
    }
    nested = item.get(CUSTOM_ATTRIBUTES)
    if type(nested) is dict:  # some answers nest the custom fields: theirs win
        for k, v in nested.items():
            if (text := v if type(v) is str else _text(v)) is not None:
                custom[k] = text
            else:
                custom.pop(k, None)
    elif CUSTOM_ATTRIBUTES in item and (text := _text(nested)) is not None:
        custom[CUSTOM_ATTRIBUTES] = text
    return custom


def _text(value: Any) -> str | None:
    """A custom value as ``current_user`` keeps it: a number as text, an option
    ``{"id", "name"}`` as its id; None for what it leaves out."""
    if type(value) is dict:
        value = value.get("id")
    return str(value) if isinstance(value, str | int) else None


def _plain(item: Any) -> bool:
    """Whether every documented field of ``item`` is of the documented type (a null only
    where the wire model takes one: a department, designation or manager)."""
    if type(item) is not dict or "id" not in item or type(item.get("email_id")) is not str:
        return False
    for name in _TEXT:
        if name in item and type(item[name]) is not str:
            return False
    for name in _IDS:
        if name in item and type(item[name]) is not str and type(item[name]) is not int:
            return False
    get = item.get
    for name in _REFS:
        ref = get(name)
        if ref is None:
            continue
        if type(ref) is not dict or type(ref.get("id")) not in (str, int):
            return False
        if type(ref.get("name", "")) is not str:
            return False
    return True
