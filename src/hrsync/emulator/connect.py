"""Zoho Connect groups (``/pulse/api/...``): allGroups, addGroup, addUsersToGroup,
removeUserFromGroup, deletePartition and orgMembers, with parameters in the query string (or a
form body) as Connect's documents show them.

The network's members are the organisation's Cliq users who are not deactivated (one Zoho
directory). A group keeps its members by account (zuid), so a changed email stays a member;
``userEmailIds`` may name someone not in the directory yet, who is kept by email (invited).
"""

from __future__ import annotations

from typing import Any

from hrsync.emulator.connect_data import ConnectGroup
from hrsync.emulator.context import Ctx
from hrsync.emulator.core import EmuRequest, ZohoError, require
from hrsync.emulator.state import Org, User

MAX_IDS = 100


def _params(ctx: Ctx, req: EmuRequest) -> dict[str, str]:
    params = req.form()
    require(params.get("scopeID") == ctx.org.connect.scope_id, "invalid_scope")
    return params


def _ids(raw: str) -> list[str]:
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    require(len(ids) <= MAX_IDS, "limit_exceeded", f"At most {MAX_IDS} ids in one call.")
    return ids


def _group(ctx: Ctx, params: dict[str, str]) -> ConnectGroup:
    group = ctx.org.connect.groups.get(params.get("partitionId", ""))
    if group is None:
        raise ZohoError(404)
    return group


def _members_of_network(org: Org) -> list[User]:
    return [u for u in org.users.values() if u.status != "inactive"]


def _in_network(org: Org, zuid: str) -> bool:
    user = org.users.get(zuid)
    return user is not None and user.status != "inactive"


def _user_view(user: User, role: str = "MEMBER") -> dict[str, Any]:
    return {
        "zuid": user.id,
        "id": user.id,
        "name": user.full_name,
        "canFollow": "true",
        "isFollowing": "false",
        "type": "C",
        "emailId": user.email_id,
        "role": role,
    }


def _group_view(org: Org, group: ConnectGroup) -> dict[str, Any]:
    admin = org.users[org.admin_id]
    brief = {"zuid": admin.id, "id": admin.id, "name": admin.full_name, "canFollow": "true"}
    return {
        "id": group.id,
        "name": group.name,
        "partitionUrl": group.url,
        "url": group.url,
        "status": "ACTIVE",
        "isAdmin": "true",
        "type": "GROUP",
        "typeOrd": "2",
        "isUserFollow": "false",
        "desc": group.desc,
        "isFavourite": "false",
        "adminUsersDetails": [brief],
        "userDetails": brief,
        "isClosed": "true",
        "canJoin": "false",
        "isJoined": "true",
        "canDelete": "true",
        "time": str(int(group.created * 1000)),
    }


def all_groups(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    _params(ctx, req)
    groups = sorted(ctx.org.connect.groups.values(), key=lambda g: int(g.id))
    return {"allGroups": {"groups": [_group_view(ctx.org, g) for g in groups]}}


def add_group(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    params = _params(ctx, req)
    name = params.get("name", "").strip()
    require(bool(name), "name_required")
    network = ctx.org.connect
    require(
        all(g.name.lower() != name.lower() for g in network.groups.values()), "group_name_exists"
    )
    group_id = ctx.org.ids.object_id()
    url = "-".join(name.lower().split())
    group = ConnectGroup(group_id, name, params.get("desc", ""), ctx.now, url)
    group.members.add(ctx.caller)
    group.admins.add(ctx.caller)
    for zuid in _ids(params.get("userIds", "")):
        require(zuid in ctx.org.users, "invalid_user")
        group.members.add(zuid)
    network.groups[group_id] = group
    return {"addGroup": {"result": "success", "partitionId": group_id}}


def add_users_to_group(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    params = _params(ctx, req)
    group = _group(ctx, params)
    members = _ids(params.get("memberIds", ""))
    admins = _ids(params.get("adminIds", ""))
    emails = _ids(params.get("userEmailIds", ""))
    require(bool(members or admins or emails), "users_required")
    in_network = {z for z in members + admins if _in_network(ctx.org, z)}
    failed = [z for z in members + admins if z not in in_network]
    group.members.update(z for z in members + admins if z in in_network)
    group.admins.update(z for z in admins if z in in_network)
    for email in emails:
        require("@" in email, "invalid_email")
        user = ctx.org.user_by_email(email)
        group.members.add(user.id if user is not None else "email:" + email.lower())
    if failed:
        return {"addUsersToGroup": {"failedUserIds": failed}}
    return {"addUsersToGroup": {"result": "success"}}


def remove_user_from_group(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    params = _params(ctx, req)
    group = _group(ctx, params)
    zuid = params.get("userId", "")
    user = ctx.org.users.get(zuid)
    # someone added by email before they had an account is the same member once they do
    keys = {zuid} | ({"email:" + user.email_id.lower()} if user is not None else set())
    require(bool(keys & group.members), "user_not_member")
    group.members -= keys
    group.admins -= keys
    return {"removeUserFromGroup": {"result": "success"}}


def delete_partition(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    params = _params(ctx, req)
    group = _group(ctx, params)
    del ctx.org.connect.groups[group.id]
    return {"deletePartition": {"result": "success"}}


def org_members(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    _params(ctx, req)
    users = sorted(_members_of_network(ctx.org), key=lambda u: int(u.id))
    details = [_user_view(u, "ADMIN" if u.id == ctx.org.admin_id else "MEMBER") for u in users]
    return {"orgMembers": {"usersDetails": details}}


def _email(org: Org, member: str) -> str:
    if member.startswith("email:"):
        return member.removeprefix("email:")
    user = org.users.get(member)
    return user.email_id.lower() if user is not None else member


def state(org: Org) -> dict[str, Any]:
    """Groups with their members' current emails."""
    network = org.connect
    groups = sorted(network.groups.values(), key=lambda g: int(g.id))
    return {
        "scope_id": network.scope_id,
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "members": sorted(_email(org, m) for m in g.members),
                "admins": sorted(_email(org, m) for m in g.admins),
            }
            for g in groups
        ],
    }
