"""Cliq API v2 users: add (batched), list, get, update, activate/deactivate, teams, layout."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from hrsync.emulator import views
from hrsync.emulator.body import INPUT_MISSING, Body, extra_key, read
from hrsync.emulator.cliq_groups import PEOPLE_MANAGED
from hrsync.emulator.cliq_statuses import current_of
from hrsync.emulator.context import Ctx
from hrsync.emulator.core import INPUT_INVALID, EmuRequest, ZohoError, require
from hrsync.emulator.state import Org, User, watched

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_USERS_PER_ADD = 100
STATUSES = {"active", "inactive", "pending", "imported_active", "imported_inactive"}
LISTING_VALUES = {"status": STATUSES, "plan_type": {"paid", "free"}, "sort_by": {"usage"}}
LISTED_FIELDS = {"display_name", "mobile", "department", "designation", "all"}
# Writable fields of the documented user object, other than ids resolved below.
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "display_name",
    "phone",
    "mobile",
    "timezone",
    "language",
    "country",
    "work_location",
    "extension",
    "employee_id",
)
OTHER_FIELDS = {
    "email_id",
    "designation_id",
    "department_id",
    "reporting_to_zuid",
    "image_data",
    "channel_ids",
    "team_ids",
}


def add_users(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    entries = read(req, allowed={"users"}, required={"users"}).objects("users")
    require(0 < len(entries) <= MAX_USERS_PER_ADD)
    for entry in entries:
        require(isinstance(entry.get("email_id"), str), INPUT_MISSING, "email_id is required.")
        _check_fields(ctx.org, entry)
    success: list[str] = []
    failed: dict[str, str] = {}
    existing: list[str] = []
    for entry in entries:
        email = entry["email_id"]
        reason = _invite_refusal(ctx.org, email)
        if reason in ("email.activeuser", "email.pendinguser") and (
            "add-already-available" in ctx.variants
        ):
            existing.append(email)  # READINGS #24
            continue
        if reason:
            failed[email] = reason
            continue
        user = User(
            id=ctx.org.ids.zuid(),
            email_id=email,
            created=ctx.now,
            modified=ctx.now,
            invited_at=ctx.now,
        )
        _apply_fields(ctx, user, entry)
        user.department_id = user.department_id or ctx.org.default_department().id
        ctx.org.add_user(user)
        ctx.org.role_of[user.id] = ctx.org.default_role("Members").id
        success.append(email)
    data: dict[str, Any] = {"success_users": success, "failed_users": failed}
    if existing:
        data["already_availableusers"] = existing
    return {"data": data}


def _invite_refusal(org: Org, email: str) -> str | None:
    """The documented per-email error code, or None when the invitation can go out."""
    lowered = email.lower()
    if lowered in org.blocked_emails:
        return "email.invitation.blocked"
    if lowered in org.foreign_accounts:
        return "zohoaccount.conflict"
    existing = org.user_by_email(email)
    if existing is None:
        return None
    return "email.pendinguser" if existing.status == "pending" else "email.activeuser"


def _check_fields(org: Org, entry: dict[str, Any]) -> None:
    """Refuse the whole request for an unknown key, a value of the wrong type, or an id that
    does not exist. Keys are the documented user fields and the custom fields' unique names."""
    custom = {uf.unique_name: uf for uf in org.userfields.values()}
    fields = Body.of(entry, allowed={*TEXT_FIELDS, *OTHER_FIELDS, *custom}, where="A user")
    for key in entry:
        if key in TEXT_FIELDS or key in ("image_data", "email_id"):
            text = isinstance(entry[key], str)
            require(text, "invalid_field_value", f"'{key}' must be a string.")
        elif key in custom:
            _check_custom(custom[key].type, custom[key].options, key, entry[key])
    if "email_id" in entry:
        require(bool(EMAIL.match(entry["email_id"])), INPUT_INVALID, "email_id is not an email.")
    if org.people_managed and ("department_id" in entry or "designation_id" in entry):
        raise ZohoError(400, "operation_not_allowed", PEOPLE_MANAGED)
    _check_ids(org, fields)


def _check_ids(org: Org, fields: Body) -> None:
    """Ids must name what the organisation holds; "" clears a department, designation or
    manager."""
    if fields.ident("department_id", ""):
        require(fields.ident("department_id") in org.departments, "department_not_exist")
    if fields.ident("designation_id", ""):
        require(fields.ident("designation_id") in org.designations, "designation_not_exist")
    if fields.ident("reporting_to_zuid", ""):
        require(fields.ident("reporting_to_zuid") in org.users, "invalid_reporting_to")
    fields.ids("channel_ids")
    for team_id in fields.ids("team_ids"):
        require(team_id.isdigit() and int(team_id) in org.teams, "team_not_exist")


def _check_custom(kind: str, options: list[dict[str, str]], key: str, value: Any) -> None:
    if value in ("", None):
        return
    if kind == "date_picker":
        # Zoho's HRMS guide: dates are sent as epoch milliseconds.
        epoch_ms = isinstance(value, int) and not isinstance(value, bool)
        require(epoch_ms, "invalid_field_value", f"'{key}' must be epoch ms.")
    elif kind == "drop_down":
        ids = {o["id"] for o in options}
        option = isinstance(value, str | int) and str(value) in ids
        require(option, "invalid_field_value", f"'{key}' must be an option id.")
    else:
        require(isinstance(value, str), "invalid_field_value", f"'{key}' must be a string.")


def _apply_fields(ctx: Ctx, user: User, entry: dict[str, Any]) -> None:
    org = ctx.org
    before = watched(user)
    custom = {uf.unique_name for uf in org.userfields.values()}
    for key in TEXT_FIELDS:
        if key in entry:
            setattr(user, key, entry[key])
    if "department_id" in entry:
        user.department_id = str(entry["department_id"]) or org.default_department().id
    if "designation_id" in entry:
        user.designation_id = str(entry["designation_id"])
    if "reporting_to_zuid" in entry:
        user.reporting_to = str(entry["reporting_to_zuid"])
    for key in custom & entry.keys():
        if entry[key] in ("", None):
            user.custom.pop(key, None)
        else:
            user.custom[key] = entry[key]
    for team_id in entry.get("team_ids", []):
        org.teams[int(team_id)].members.add(user.id)
    if watched(user) != before:
        user.modified = ctx.now


def list_users(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    q = req.query
    status = q.get("status")
    fields = q["fields"].split(",") if "fields" in q else []
    _check_listing(q, fields)
    # In id order (ids are given out in sequence), filtered lazily: a page reads the users up
    # to its end, not the whole organisation.
    users: Iterable[User] = ctx.org.users.values()
    if status:
        users = (u for u in users if u.status == status)
    if "modified_after" in q:  # present, it must be a time ("" too is refused)
        since = max(_modified_after(ctx, q["modified_after"]), ctx.now - 7 * 86400)
        users = (u for u in users if u.modified > since)
        if "modified-excludes-new" in ctx.variants:  # an invitation is not a change of fields
            users = (u for u in users if u.modified > u.created)
    if q.get("search"):
        needle = q["search"].lower()
        users = (u for u in users if needle in u.email_id.lower() or needle in u.full_name.lower())
    key = f"users:{status}:{q.get('modified_after')}:{q.get('search')}"
    page, token = ctx.page(key, users, q, default=25, maximum=100)
    items = [views.user_fields(ctx.org, u, fields, ctx.variants) for u in page]
    if "users-no-status" in ctx.variants:  # READINGS #10
        items = [{k: v for k, v in item.items() if k != "status"} for item in items]
    body: dict[str, Any] = {"data": items}
    body["has_more"] = token is not None
    if token:
        body["next_token"] = token
    return body


def _check_listing(q: dict[str, str], fields: list[str]) -> None:
    """The users document enumerates the values of these parameters; others are refused."""
    for name, allowed in LISTING_VALUES.items():
        require(q.get(name) in (None, *allowed), INPUT_INVALID, f"'{name}': {sorted(allowed)}.")
    wrong = [f for f in fields if f not in LISTED_FIELDS]
    require(not wrong, INPUT_INVALID, f"'fields': {sorted(LISTED_FIELDS)}.")


def _modified_after(ctx: Ctx, raw: str) -> float:
    """``modified_after`` as the document types it (``format: date-time``), or, with the
    variant modified-after-epoch-ms, only as epoch milliseconds (digits), as a public
    connector sends it. Either reading refuses the other form, naming the parameter: the
    document names no error code, so the emulator's is its own."""
    if "modified-after-epoch-ms" in ctx.variants:
        if not raw.isdigit():
            raise _bad_time("'modified_after' must be a time in epoch milliseconds.")
        return int(raw) / 1000
    try:
        if raw.isdigit():
            raise ValueError(raw)  # a number is not a date-time (it would read as a year)
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad_time("'modified_after' must be an ISO 8601 date-time.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _bad_time(message: str) -> ZohoError:
    return ZohoError(400, "invalid_parameter_value", message)


def get_user(ctx: Ctx, req: EmuRequest, user_id: str) -> dict[str, Any]:
    user = _find(ctx.org, user_id)
    fields = [f for f in req.query.get("fields", "all").split(",") if f]
    if fields == ["chat_status"]:  # another user's current status (the statuses document)
        presence = current_of(ctx, user.id)
        return {"data": {"code": presence.code, "message": presence.message, "id": presence.id}}
    return {"data": views.user_fields(ctx.org, user, fields or ["all"], ctx.variants)}


def _find(org: Org, user_id: str) -> User:
    user = org.users.get(user_id) or org.user_by_email(user_id)
    if user is None:
        raise ZohoError(404)
    return user


def update_user(ctx: Ctx, req: EmuRequest, user_id: str) -> dict[str, Any]:
    user = _find(ctx.org, user_id)
    body = req.json()
    if isinstance(body, dict) and "is_active" in body:
        # Activation is a call of its own (seed 000): {"is_active": bool} and nothing else.
        active = Body.of(body, allowed={"is_active"}).flag("is_active", True)
        _set_active(ctx, user, active)
        return {"data": {"success_users": [user.email_id], "failed_users": {}}}
    entry = _update_entry(ctx, body)
    _check_fields(ctx.org, entry)
    if user.status == "inactive":
        raise ZohoError(400, "operation_not_allowed", "The user is deactivated.")
    new_email = entry.get("email_id", user.email_id)
    if new_email.lower() != user.email_id.lower():
        other = ctx.org.user_by_email(new_email)
        if other is not None:
            return {"data": {"success_users": [], "failed_users": {new_email: "email.activeuser"}}}
        ctx.org.change_email(user, new_email)
    _apply_fields(ctx, user, entry)
    return {"data": {"success_users": [user.email_id], "failed_users": {}}}


def _update_entry(ctx: Ctx, body: Any) -> dict[str, Any]:
    """The changed fields of an update (READINGS #8): a flat object of only the changed keys;
    with the variant update-wrapped, ``{"users": [{email_id, ...}]}`` as the users document
    shows it. Either way the other shape is refused as Zoho refuses unknown keys (#22)."""
    require(isinstance(body, dict), INPUT_INVALID, "The body must be a JSON object.")
    if "update-wrapped" not in ctx.variants:
        if "users" in body:
            raise extra_key("users")
        entry: dict[str, Any] = body
        return entry
    users = body.get("users")
    if users is None:
        raise extra_key(next(iter(body), "users"))
    entries = Body.of(body, allowed={"users"}).objects("users")
    require(len(entries) == 1, INPUT_INVALID, "'users' must hold one user.")
    require(isinstance(entries[0].get("email_id"), str), INPUT_MISSING, "email_id is required.")
    return entries[0]


def _set_active(ctx: Ctx, user: User, active: bool) -> None:
    if user.id == ctx.org.admin_id and not active:
        raise ZohoError(
            400, "operation_not_allowed", "The organisation admin cannot be deactivated."
        )
    if active and user.status == "inactive":
        user.status = "active"
    elif not active and user.status != "inactive":
        user.status = "inactive"


def user_teams(ctx: Ctx, req: EmuRequest, user_id: str) -> dict[str, Any]:
    user = _find(ctx.org, user_id)
    teams = [t for t in ctx.org.teams.values() if user.id in t.members]
    numeric = "team-ids-numeric" in ctx.variants  # as the users document types it
    return {"data": [views.team(t, caller=user.id, numeric_id=numeric) for t in teams]}


LAYOUT_SECTIONS = [
    (
        "Work",
        "work_info",
        [
            ("Designation", "designation"),
            ("Department", "department"),
            ("Reporting To", "reportingto"),
            ("Seating Location", "work_location"),
            ("Employee ID", "employee_id"),
            ("Status", "status"),
        ],
    ),
    (
        "Contact",
        "contact_info",
        [
            ("Phone", "phone"),
            ("Mobile", "mobile"),
            ("Email", "email_id"),
            ("Extension", "extension"),
        ],
    ),
]
LAYOUTS = ("quick_view", "profile_details_android", "profile_details_ios", "profile_details_web")


def layouts(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    wanted = req.query.get("unique_name")
    require(wanted is None or wanted in LAYOUTS)
    names = [wanted] if wanted else list(LAYOUTS)
    return {"data": [_layout(ctx.org, name) for name in names]}


def _layout(org: Org, unique_name: str) -> dict[str, Any]:
    sections = []
    for seq, (label, section_name, fields) in enumerate(LAYOUT_SECTIONS, start=1):
        items = [
            {
                "status": "enabled",
                "sequence_number": n,
                "label": flabel,
                "unique_name": fname,
                "system_defined": True,
                "id": f"190131800000126{4000 + seq * 100 + n:04d}",
            }
            for n, (flabel, fname) in enumerate(fields, start=1)
        ]
        sections.append(
            {
                "sequence_number": seq,
                "label": label,
                "unique_name": section_name,
                "system_defined": True,
                "fields": items,
            }
        )
    return {"unique_name": unique_name, "sections": sections}
