"""How emulated objects look on the wire, shaped like the examples of Zoho's documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hrsync.emulator.state import ORG_ID, ZOID, Department, Org, Role, Team, User, UserField


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def user_brief(user: User) -> dict[str, Any]:
    """The list-users item when no ``fields`` are asked for."""
    return {
        "email_id": user.email_id,
        "zuid": user.id,
        "zoid": ZOID,
        "display_name": user.display_name or user.full_name,
        "name": user.full_name,
        "organization_id": ORG_ID,
        "id": user.id,
    }


def lead_view(user: User) -> dict[str, Any]:
    """A department's ``lead`` in a listing, as the departments document shows it."""
    return {
        "name": user.full_name,
        "id": user.id,
        "country": user.country,
        "email_id": user.email_id,
        "zoid": ZOID,
        "timezone": user.timezone,
        "first_name": user.first_name,
        "full_name": user.full_name,
        "zuid": user.id,
        "display_name": user.display_name or user.full_name,
        "last_name": user.last_name,
    }


def user_full(org: Org, user: User, variants: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The get-user ``data`` object: every field that has a value, plus custom fields (at
    the top level, or under ``custom_attributes`` with that variant)."""
    body: dict[str, Any] = {
        "employee_id": user.employee_id,
        "first_name": user.first_name,
        "mobile": user.mobile,
        "phone": user.phone,
        "zoid": ZOID,
        "organization_id": ORG_ID,
        "email_id": user.email_id,
        "extension": user.extension,
        "work_location": user.work_location,
        "id": user.id,
        "timeoffset": 19800000,
        "timezone": user.timezone,
        "language": user.language,
        "status": user.status,
        "country": user.country,
        "last_name": user.last_name,
        "full_name": user.full_name,
        "display_name": user.display_name or user.full_name,
        "name": user.full_name,
    }
    body = {k: v for k, v in body.items() if v != ""}
    manager = org.users.get(user.reporting_to)
    if manager is not None:
        body["reportingto"] = {"name": manager.full_name, "id": manager.id}
    department = org.departments.get(user.department_id)
    if department is not None:
        body["department"] = {"name": department.name, "id": department.id}
    designation = org.designations.get(user.designation_id)
    if designation is not None:
        body["designation"] = {"name": designation.name, "id": designation.id}
    custom = custom_values(org, user, variants)
    if "custom-attributes-nested" in variants:
        body["custom_attributes"] = custom
    else:
        body.update(custom)
    return body


def custom_values(org: Org, user: User, variants: frozenset[str]) -> dict[str, Any]:
    """The user's custom values as answers carry them: a drop-down as its option id, or
    with a variant as the option's name or ``{id, name}``. The value kept is the id."""
    shown = dict(user.custom)
    forms = variants & {"dropdown-as-name", "dropdown-as-object"}
    if not forms:
        return shown
    for uf in org.userfields.values():
        value = shown.get(uf.unique_name)
        option = next((o for o in uf.options if o["id"] == str(value)), None)
        if uf.type != "drop_down" or option is None:
            continue
        if "dropdown-as-object" in forms:
            shown[uf.unique_name] = {"id": option["id"], "name": option["name"]}
        else:
            shown[uf.unique_name] = option["name"]
    return shown


def user_fields(
    org: Org, user: User, fields: list[str], variants: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A list item with the asked-for ``fields`` (``all`` gives the get-user shape)."""
    if "all" in fields:
        return user_full(org, user, variants)
    body = user_brief(user)
    full = user_full(org, user, variants)
    for name in fields:
        if name in full:
            body[name] = full[name]
    return body


def department(
    org: Org, dept: Department, *, members: int | None = None, listing: bool = False
) -> dict[str, Any]:
    """One department; a listing shows more of its lead than a single answer does."""
    lead = org.users.get(dept.lead_zuid)
    body: dict[str, Any] = {
        "name": dept.name,
        "is_default": dept.is_default,
        "id": dept.id,
        "parent_department_id": dept.parent_department_id,
        "lead_zuid": dept.lead_zuid,
    }
    if members is not None:
        body["members_count"] = str(members)
    if lead is not None:
        body["lead"] = lead_view(lead) if listing else user_brief(lead)
    return body


def team(team: Team, *, caller: str, numeric_id: bool = False) -> dict[str, Any]:
    """A team; its id as text, or as a number with the variant team-ids-numeric."""
    return {
        "name": team.name,
        "creation_time": iso(team.created),
        "organization_id": ZOID,
        "is_active": True,
        "is_moderator": caller in team.members,
        "description": team.description,
        "team_id": team.id if numeric_id else str(team.id),
        "joined": caller in team.members,
        "participant_count": len(team.members),
    }


def team_member(user: User, *, moderator: bool) -> dict[str, Any]:
    """A team member as Zoho lists them (READINGS #4)."""
    return {
        "user_id": user.id,
        "email_id": user.email_id,
        "display_name": user.display_name or user.full_name,
        "full_name": user.full_name,
        "is_moderator": moderator,
        "role": "moderator" if moderator else "member",
    }


def role(role: Role, *, numeric_id: bool = False) -> dict[str, Any]:
    return {
        "is_custom_admin": role.profile_type == "Cliq Admin",
        "name": role.name,
        "creation_time": iso(role.created),
        "last_modified_time": iso(role.modified),
        "organization_id": ORG_ID,
        "is_default": role.is_default,
        "profile_type": role.profile_type,
        "id": int(role.id) if numeric_id else role.id,  # the variant ids-numeric
        "description": role.description,
    }


def userfield(uf: UserField, *, options: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "system_defined": False,
        "is_searchable": False,
        "unique_name": uf.unique_name,
        "name": uf.name,
        "id": uf.id,
        "creation_time": iso(uf.created),
        "last_modified_time": iso(uf.modified),
        "mandatory": uf.mandatory,
        "encrypted": False,
        "edit_permission": True,
        "organization_id": ORG_ID,
        "enabled": True,
        "type": uf.type,
        "label": uf.name,
    }
    if uf.options and options:
        body["options"] = list(uf.options)
    return body
