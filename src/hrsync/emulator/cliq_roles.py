"""Cliq API v2 roles (``/profiles``) with permissions and users, and custom user fields."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from hrsync.emulator import views
from hrsync.emulator.body import INPUT_MISSING, Body, read
from hrsync.emulator.cliq_groups import NO_CONTENT
from hrsync.emulator.context import Ctx
from hrsync.emulator.core import INPUT_INVALID, EmuRequest, EmuResponse, ZohoError, require
from hrsync.emulator.state import DEFAULT_PERMISSIONS, Org, Role, UserField

PROFILE_TYPES = ("Members", "Cliq Admin", "Admin")
STATES = ("enabled", "disabled")
# Custom user-field types Zoho documents (READINGS #12): there is no type "date".
FIELD_TYPES = ("text_field", "number", "url", "date_picker", "drop_down")
PERMISSION_KEYS = ("module", "action", "status", "configs")
MAX_CUSTOM_FIELDS = 10
FIELD_LIMIT = "FIELD_MAX_CUSTOM_FIELD_LIMIT_REACHED"
FIELD_LIMIT_MESSAGE = "The maximum of 10 custom user fields has been reached."


def _role(org: Org, role_id: str) -> Role:
    role = org.roles.get(role_id)
    if role is None:
        raise ZohoError(404)
    return role


def list_roles(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    return {"data": [views.role(r, numeric_id=_numeric(ctx)) for r in ctx.org.roles.values()]}


def create_role(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    org = ctx.org
    keys = ("name", "profile_type", "user_ids", "description", "clone_id")
    body = read(req, allowed=keys, required=("name", "profile_type"))
    name = _name(body)
    profile_type = body.text("profile_type")
    require(profile_type in PROFILE_TYPES, INPUT_INVALID, f"'profile_type': {PROFILE_TYPES}.")
    require(all(r.name.lower() != name.lower() for r in org.roles.values()), "role_already_exist")
    clone_id = body.ident("clone_id", "")
    template = _role(org, clone_id).permissions if clone_id else DEFAULT_PERMISSIONS
    user_ids = body.ids("user_ids")
    for user_id in user_ids:
        require(user_id in org.users, "not_zoho_organization_user")
    role = Role(org.ids.object_id(), name, profile_type, body.text("description", ""))
    role.created = role.modified = ctx.now
    role.permissions = copy.deepcopy(template)
    org.roles[role.id] = role
    for user_id in user_ids:
        org.role_of[user_id] = role.id
    return {"data": views.role(role, numeric_id=_numeric(ctx))}


def _name(body: Body) -> str:
    name = body.text("name").strip()
    require(bool(name), INPUT_INVALID, "'name' must not be empty.")
    return name


def get_role(ctx: Ctx, req: EmuRequest, role_id: str) -> dict[str, Any]:
    return {"data": views.role(_role(ctx.org, role_id), numeric_id=_numeric(ctx))}


def update_role(ctx: Ctx, req: EmuRequest, role_id: str) -> EmuResponse:
    """The roles document requires both ``name`` and ``description`` (READINGS #17)."""
    role = _role(ctx.org, role_id)
    body = read(req, allowed=("name", "description"), required=("name", "description"))
    name, description = _name(body), body.text("description")
    others = (r for r in ctx.org.roles.values() if r.id != role.id)
    require(all(r.name.lower() != name.lower() for r in others), "role_already_exist")
    role.name, role.description = name, description
    role.modified = ctx.now
    return NO_CONTENT


def delete_role(ctx: Ctx, req: EmuRequest, role_id: str) -> EmuResponse:
    org = ctx.org
    role = _role(org, role_id)
    require(not role.is_default, "operation_not_allowed")
    fallback = org.default_role("Members").id
    for user_id, rid in list(org.role_of.items()):
        if rid == role.id:
            org.role_of[user_id] = fallback
    del org.roles[role.id]
    return NO_CONTENT


def get_permissions(ctx: Ctx, req: EmuRequest, role_id: str) -> dict[str, Any]:
    # The roles document shows the modules at the top level, with no "data" envelope; a
    # module's configs are a list of {name, label, type, value} (READINGS #16), the value an
    # object that carries the setting as text.
    answer = copy.deepcopy(_role(ctx.org, role_id).permissions)
    for module in answer.values():
        if "configs" in module:
            module["configs"] = [
                {
                    "name": name,
                    "label": name.replace("_", " ").capitalize(),
                    "type": "long",
                    "value": {name: str(value)},
                }
                for name, value in module["configs"].items()
            ]
    return answer


def update_permissions(ctx: Ctx, req: EmuRequest, role_id: str) -> dict[str, Any]:
    """``{"list": [{module, action?, status?, configs?}]}``, as the roles document shows."""
    role = _role(ctx.org, role_id)
    require(not role.is_default, "operation_not_allowed")
    entries = read(req, allowed=("list",), required=("list",)).objects("list")
    require(bool(entries), INPUT_INVALID, "'list' must not be empty.")
    changes = [_permission_change(role, entry) for entry in entries]
    for change in changes:
        change()
    role.modified = ctx.now
    return {"list": copy.deepcopy(entries)}


def _permission_change(role: Role, entry: dict[str, Any]) -> Callable[[], None]:
    """One entry checked whole, then applied: nothing changes if any entry is refused."""
    item = Body.of(entry, allowed=PERMISSION_KEYS, required=("module",), where="An entry")
    module = role.permissions.get(item.text("module"))
    require(module is not None, INPUT_INVALID, "Unknown 'module'.")
    assert module is not None
    status = item.text("status") if item.has("status") else None
    action = item.text("action") if item.has("action") else None
    require(status is None or status in STATES, INPUT_INVALID, f"'status': {STATES}.")
    require(action is None or action in module.get("actions", {}), INPUT_INVALID)
    configs = [_config(module, c) for c in item.objects("configs")]

    def apply() -> None:
        if status is not None and action is not None:
            module["actions"][action] = status
        elif status is not None:
            module["status"] = status
        for name, value in configs:
            module["configs"][name] = value

    return apply


def _config(module: dict[str, Any], raw: dict[str, Any]) -> tuple[str, int]:
    config = Body.of(raw, allowed=("name", "value"), required=("name", "value"), where="A config")
    name = config.text("name")
    require(name in module.get("configs", {}), INPUT_INVALID, f"Unknown config '{name}'.")
    return name, config.whole("value")


def role_users(ctx: Ctx, req: EmuRequest, role_id: str) -> dict[str, Any]:
    role = _role(ctx.org, role_id)
    ids = sorted((u for u, r in ctx.org.role_of.items() if r == role.id), key=int)
    return {"data": [{"user_id": u} for u in ids]}


def _role_body_users(org: Org, req: EmuRequest) -> list[str]:
    ids = read(req, allowed=("user_ids",), required=("user_ids",)).ids("user_ids")
    require(0 < len(ids) <= 100, INPUT_INVALID, "1 to 100 user_ids.")
    for user_id in ids:
        require(user_id in org.users, "not_zoho_organization_user")
    return ids


def add_role_users(ctx: Ctx, req: EmuRequest, role_id: str) -> EmuResponse:
    role = _role(ctx.org, role_id)
    for user_id in _role_body_users(ctx.org, req):
        require(user_id != ctx.org.admin_id, "operation_not_allowed")
        ctx.org.role_of[user_id] = role.id
    return NO_CONTENT


def remove_role_users(ctx: Ctx, req: EmuRequest, role_id: str) -> EmuResponse:
    role = _role(ctx.org, role_id)
    fallback = ctx.org.default_role("Members").id
    for user_id in _role_body_users(ctx.org, req):
        if ctx.org.role_of.get(user_id) == role.id:
            ctx.org.role_of[user_id] = fallback
    return NO_CONTENT


# --- user fields -------------------------------------------------------------------------


def _field(org: Org, field_id: str) -> UserField:
    uf = org.userfields.get(field_id)
    if uf is None:
        raise ZohoError(404)
    return uf


def list_userfields(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    # The fields document names this list "list", unlike every other Cliq listing.
    # Drop-down options come with the field (GET /userfields/{id}); the listing leaves them
    # out unless the variant options-listed is played (READINGS #13).
    listed = "options-listed" in ctx.variants
    return {
        "url": "/api/v2/userfields",
        "list": [views.userfield(uf, options=listed) for uf in ctx.org.userfields.values()],
    }


def create_userfield(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    org = ctx.org
    keys = ("name", "type", "mandatory", "encrypted", "edit_permission", "options")
    body = read(req, allowed=keys, required=("name",))
    name = _field_name(body)
    kind = body.text("type", "text_field")
    require(kind in FIELD_TYPES, INPUT_INVALID, f"'type': {FIELD_TYPES}.")
    unique = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    require(
        unique not in {uf.unique_name for uf in org.userfields.values()}, "userfield_already_exist"
    )
    # At most 10 custom fields an organisation (READINGS #14); the code is the one a public
    # connector maps Cliq's refusal from.
    require(len(org.userfields) < MAX_CUSTOM_FIELDS, FIELD_LIMIT, FIELD_LIMIT_MESSAGE)
    names = body.texts("options")
    require(kind != "drop_down" or bool(names), INPUT_MISSING, "A drop-down needs 'options'.")
    uf = UserField(org.ids.object_id(), name, unique, kind)
    uf.created = uf.modified = ctx.now
    uf.mandatory = _flags(body, mandatory=False)
    if kind == "drop_down":
        uf.options = [{"name": n, "id": org.ids.object_id()} for n in names]
    org.userfields[uf.id] = uf
    return {"url": f"/api/v2/userfields/{uf.id}", "data": views.userfield(uf)}


def _flags(body: Body, *, mandatory: bool) -> bool:
    """``mandatory`` as given (or as it was); ``encrypted`` and ``edit_permission`` are only
    checked to be true or false, as the emulator keeps no value for them."""
    body.flag("encrypted", False)
    body.flag("edit_permission", True)
    return body.flag("mandatory", mandatory)


def _field_name(body: Body) -> str:
    name = body.text("name").strip()
    require(0 < len(name) <= 30, INPUT_INVALID, "'name': 1 to 30 characters.")
    return name


def get_userfield(ctx: Ctx, req: EmuRequest, field_id: str) -> dict[str, Any]:
    uf = _field(ctx.org, field_id)
    return {"url": f"/api/v2/userfields/{uf.id}", "data": views.userfield(uf)}


def update_userfield(ctx: Ctx, req: EmuRequest, field_id: str) -> dict[str, Any]:
    uf = _field(ctx.org, field_id)
    keys = ("name", "mandatory", "encrypted", "edit_permission", "options")
    body = read(req, allowed=keys)
    name = _field_name(body) if body.has("name") else uf.name
    mandatory = _flags(body, mandatory=uf.mandatory)
    options = [_option(o) for o in body.objects("options")]
    uf.name, uf.mandatory = name, mandatory
    if uf.type == "drop_down":
        by_id = {o["id"]: o for o in uf.options}
        for option_id, option_name in options:
            if option_id in by_id:
                by_id[option_id]["name"] = option_name
            else:
                uf.options.append({"name": option_name, "id": ctx.org.ids.object_id()})
    uf.modified = ctx.now
    return {"url": f"/api/v2/userfields/{uf.id}", "data": views.userfield(uf)}


def _option(raw: dict[str, Any]) -> tuple[str, str]:
    """A drop-down option of an update: ``{"id"?, "name"}`` (no id: a new option)."""
    option = Body.of(raw, allowed=("id", "name"), required=("name",), where="An option")
    return option.ident("id", ""), option.text("name")


def delete_userfield(ctx: Ctx, req: EmuRequest, field_id: str) -> EmuResponse:
    uf = _field(ctx.org, field_id)
    for user in ctx.org.users.values():
        user.custom.pop(uf.unique_name, None)
    del ctx.org.userfields[uf.id]
    return NO_CONTENT


def _numeric(ctx: Ctx) -> bool:
    """The variant ids-numeric: role ids as JSON numbers (READINGS #15)."""
    return "ids-numeric" in ctx.variants
