"""Cliq API v2 roles (``/profiles``) with permissions and users, and custom user fields."""

from __future__ import annotations

import copy
import re
from typing import Any

from hrsync.emulator import views
from hrsync.emulator.cliq_groups import NO_CONTENT
from hrsync.emulator.context import Ctx, str_list
from hrsync.emulator.core import EmuRequest, EmuResponse, ZohoError, require
from hrsync.emulator.state import DEFAULT_PERMISSIONS, Org, Role, UserField

PROFILE_TYPES = ("Members", "Cliq Admin", "Admin")
STATES = ("enabled", "disabled")
# Custom user-field types Zoho documents (READINGS #12): there is no type "date".
FIELD_TYPES = ("text_field", "number", "url", "date_picker", "drop_down")


def _role(org: Org, role_id: str) -> Role:
    role = org.roles.get(role_id)
    if role is None:
        raise ZohoError(404)
    return role


def list_roles(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    return {"data": [views.role(r, numeric_id=_numeric(ctx)) for r in ctx.org.roles.values()]}


def create_role(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    org = ctx.org
    body = req.json()
    require(isinstance(body, dict) and isinstance(body.get("name"), str) and body["name"].strip())
    require(body.get("profile_type") in PROFILE_TYPES)
    name = body["name"].strip()
    require(all(r.name.lower() != name.lower() for r in org.roles.values()), "role_already_exist")
    role = Role(org.ids.object_id(), name, body["profile_type"], str(body.get("description", "")))
    role.created = role.modified = ctx.now
    if body.get("clone_id"):
        role.permissions = copy.deepcopy(_role(org, str(body["clone_id"])).permissions)
    else:
        role.permissions = copy.deepcopy(DEFAULT_PERMISSIONS)
    org.roles[role.id] = role
    for user_id in str_list(body.get("user_ids", [])):
        require(user_id in org.users, "not_zoho_organization_user")
        org.role_of[user_id] = role.id
    return {"data": views.role(role, numeric_id=_numeric(ctx))}


def get_role(ctx: Ctx, req: EmuRequest, role_id: str) -> dict[str, Any]:
    return {"data": views.role(_role(ctx.org, role_id), numeric_id=_numeric(ctx))}


def update_role(ctx: Ctx, req: EmuRequest, role_id: str) -> EmuResponse:
    role = _role(ctx.org, role_id)
    body = req.json()
    require(isinstance(body, dict))
    if "name" in body:
        require(isinstance(body["name"], str) and bool(body["name"].strip()))
        role.name = body["name"].strip()
    if "description" in body:
        role.description = str(body["description"])
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
    body = req.json()
    require(isinstance(body, dict) and isinstance(body.get("list"), list) and body["list"])
    for item in body["list"]:
        require(isinstance(item, dict) and item.get("module") in role.permissions)
        module = role.permissions[item["module"]]
        if "status" in item:
            require(item["status"] in STATES)
            if "action" in item:
                require(item["action"] in module.get("actions", {}))
                module["actions"][item["action"]] = item["status"]
            else:
                module["status"] = item["status"]
        for config in item.get("configs", []):
            require(isinstance(config, dict) and config.get("name") in module.get("configs", {}))
            require(isinstance(config.get("value"), int))
            module["configs"][config["name"]] = config["value"]
    role.modified = ctx.now
    return {"list": copy.deepcopy(body["list"])}


def role_users(ctx: Ctx, req: EmuRequest, role_id: str) -> dict[str, Any]:
    role = _role(ctx.org, role_id)
    ids = sorted((u for u, r in ctx.org.role_of.items() if r == role.id), key=int)
    return {"data": [{"user_id": u} for u in ids]}


def _role_body_users(org: Org, req: EmuRequest) -> list[str]:
    body = req.json()
    require(isinstance(body, dict))
    ids = str_list(body.get("user_ids"))
    require(0 < len(ids) <= 100)
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
    body = req.json()
    require(isinstance(body, dict) and isinstance(body.get("name"), str) and body["name"].strip())
    require(len(body["name"]) <= 30 and body.get("type", "text_field") in FIELD_TYPES)
    unique = re.sub(r"[^a-z0-9]+", "_", body["name"].lower()).strip("_")
    taken = {uf.unique_name for uf in org.userfields.values()}
    require(unique not in taken, "userfield_already_exist")
    uf = UserField(
        org.ids.object_id(), body["name"].strip(), unique, body.get("type", "text_field")
    )
    uf.created = uf.modified = ctx.now
    uf.mandatory = bool(body.get("mandatory", False))
    if uf.type == "drop_down":
        names = str_list(body.get("options", []))
        require(bool(names))
        uf.options = [{"name": n, "id": org.ids.object_id()} for n in names]
    org.userfields[uf.id] = uf
    return {"url": f"/api/v2/userfields/{uf.id}", "data": views.userfield(uf)}


def get_userfield(ctx: Ctx, req: EmuRequest, field_id: str) -> dict[str, Any]:
    uf = _field(ctx.org, field_id)
    return {"url": f"/api/v2/userfields/{uf.id}", "data": views.userfield(uf)}


def update_userfield(ctx: Ctx, req: EmuRequest, field_id: str) -> dict[str, Any]:
    uf = _field(ctx.org, field_id)
    body = req.json()
    require(isinstance(body, dict))
    if "name" in body:
        require(isinstance(body["name"], str) and 0 < len(body["name"]) <= 30)
        uf.name = body["name"]
    if "mandatory" in body:
        uf.mandatory = bool(body["mandatory"])
    if "options" in body and uf.type == "drop_down":
        require(isinstance(body["options"], list))
        by_id = {o["id"]: o for o in uf.options}
        for option in body["options"]:
            require(isinstance(option, dict) and isinstance(option.get("name"), str))
            if option.get("id") in by_id:
                by_id[option["id"]]["name"] = option["name"]
            else:
                uf.options.append({"name": option["name"], "id": ctx.org.ids.object_id()})
    uf.modified = ctx.now
    return {"url": f"/api/v2/userfields/{uf.id}", "data": views.userfield(uf)}


def delete_userfield(ctx: Ctx, req: EmuRequest, field_id: str) -> EmuResponse:
    uf = _field(ctx.org, field_id)
    for user in ctx.org.users.values():
        user.custom.pop(uf.unique_name, None)
    del ctx.org.userfields[uf.id]
    return NO_CONTENT


def _numeric(ctx: Ctx) -> bool:
    """The variant ids-numeric: role ids as JSON numbers (READINGS #15)."""
    return "ids-numeric" in ctx.variants
