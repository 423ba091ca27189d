"""Cliq API v2 departments, designations and teams, with their members."""

from __future__ import annotations

from typing import Any

from hrsync.emulator import views
from hrsync.emulator.body import Body, missing, read
from hrsync.emulator.context import Ctx, parse_limit
from hrsync.emulator.core import INPUT_INVALID, EmuRequest, EmuResponse, ZohoError, require
from hrsync.emulator.state import Department, Designation, Org, Team, User

NO_CONTENT = EmuResponse(204)
MAX_MEMBERS_PER_CALL = 100
PEOPLE_MANAGED = (
    "The operation is not allowed. This might also be because you are using Zoho People to "
    "manage your departments."
)


def _guard_people(org: Org) -> None:
    if org.people_managed:
        raise ZohoError(400, "operation_not_allowed", PEOPLE_MANAGED)


def _members(org: Org, req: EmuRequest, *, emails_allowed: bool) -> list[User]:
    """The users a members call names: ``user_ids``, or (where taken) ``email_ids``."""
    keys = ["user_ids", "email_ids"] if emails_allowed else ["user_ids"]
    body = read(req, allowed=keys)
    present = [k for k in keys if body.has(k)]
    if not present:
        raise missing(keys[0])
    require(len(present) == 1, INPUT_INVALID, "Give user_ids or email_ids, not both.")
    return _users(org, body, present[0])


def _users(org: Org, body: Body, key: str) -> list[User]:
    values = body.ids(key)
    require(0 < len(values) <= MAX_MEMBERS_PER_CALL, INPUT_INVALID, f"1 to 100 {key}.")
    found = []
    for value in values:
        user = org.users.get(value) if key == "user_ids" else org.user_by_email(value)
        require(user is not None, "not_zoho_organization_user")
        assert user is not None
        found.append(user)
    return found


# --- departments -------------------------------------------------------------------------


DEPARTMENT_KEYS = ("name", "lead_zuid", "parent_department_id", "user_ids")


def create_department(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    org = ctx.org
    _guard_people(org)
    body = read(req, allowed=DEPARTMENT_KEYS)
    name = _department_fields(org, body)
    taken = any(d.name.lower() == name.lower() for d in org.departments.values())
    require(not taken, "department_already_exist")
    dept = Department(
        org.ids.object_id(), name, body.ident("lead_zuid"), body.ident("parent_department_id")
    )
    org.departments[dept.id] = dept
    _move_in(ctx, body, department_id=dept.id)
    return {"data": views.department(org, dept)}


def _department_fields(org: Org, body: Body, *, own_id: str = "") -> str:
    """A department's name, lead and parent, each required with the code the departments
    document gives its absence; the name is returned trimmed."""
    name = body.text("name").strip()
    require(bool(name), INPUT_INVALID, "'name' must not be empty.")
    require(bool(body.ident("lead_zuid", "")), "department_lead_needed")
    require(body.ident("lead_zuid") in org.users, "department_lead_invalid")
    parent = body.ident("parent_department_id", "")
    require(bool(parent), "departmet_parent_department_needed")
    require(parent in org.departments, "department_not_exist")
    require(parent != own_id, "department_cyclic_loop")
    return name


def _move_in(ctx: Ctx, body: Body, **group: str) -> None:
    """The users a create names (``user_ids``) join the new department or designation."""
    for user_id in body.ids("user_ids"):
        require(user_id in ctx.org.users, "not_zoho_organization_user")
        _move(ctx, ctx.org.users[user_id], **group)


def _move(ctx: Ctx, user: User, **fields: str) -> None:
    for key, value in fields.items():
        setattr(user, key, value)
    user.modified = ctx.now


def list_departments(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    org = ctx.org
    depts = sorted(org.departments.values(), key=lambda d: d.id)
    search = req.query.get("search")
    if org.people_managed:
        require(bool(search))
    if search:
        depts = [d for d in depts if search.lower() in d.name.lower()]
    page, token = ctx.page(f"departments:{search}", depts, req.query, default=25, maximum=100)
    counts = _department_counts(org)
    body: dict[str, Any] = {
        "data": [views.department(org, d, members=counts.get(d.id, 0), listing=True) for d in page]
    }
    if token:
        body["next_token"] = token
    return body


def _department_counts(org: Org) -> dict[str, int]:
    counts: dict[str, int] = {}
    for user in org.users.values():
        counts[user.department_id] = counts.get(user.department_id, 0) + 1
    return counts


def _department(org: Org, dept_id: str) -> Department:
    dept = org.departments.get(dept_id)
    require(dept is not None, "department_not_exist")
    assert dept is not None
    return dept


def get_department(ctx: Ctx, req: EmuRequest, dept_id: str) -> dict[str, Any]:
    dept = _department(ctx.org, dept_id)
    count = _department_counts(ctx.org).get(dept.id, 0)
    return {"data": views.department(ctx.org, dept, members=count)}


def update_department(ctx: Ctx, req: EmuRequest, dept_id: str) -> dict[str, Any]:
    """The departments document requires name, lead and parent in an update too."""
    org = ctx.org
    _guard_people(org)
    dept = _department(org, dept_id)
    body = read(req, allowed=DEPARTMENT_KEYS)
    name = _department_fields(org, body, own_id=dept.id)
    clash = [d for d in org.departments.values() if d.name.lower() == name.lower()]
    require(all(d.id == dept.id for d in clash), "department_already_exist")
    dept.name = name
    dept.lead_zuid = body.ident("lead_zuid")
    dept.parent_department_id = body.ident("parent_department_id")
    _move_in(ctx, body, department_id=dept.id)
    return {"data": views.department(org, dept)}


def delete_department(ctx: Ctx, req: EmuRequest, dept_id: str) -> EmuResponse:
    org = ctx.org
    _guard_people(org)
    dept = _department(org, dept_id)
    require(not dept.is_default, "department_base_dept_delete_not_allowed")
    base = org.default_department().id
    for user in org.users.values():
        if user.department_id == dept.id:
            _move(ctx, user, department_id=base)
    del org.departments[dept.id]
    return NO_CONTENT


def department_members(ctx: Ctx, req: EmuRequest, dept_id: str) -> dict[str, Any]:
    dept = _department(ctx.org, dept_id)
    users = [u for u in ctx.org.users.values() if u.department_id == dept.id]
    page, token = ctx.page(f"dept-members:{dept.id}", users, req.query, default=100, maximum=100)
    body: dict[str, Any] = {"data": [views.user_brief(u) for u in page]}
    if token:
        body["next_token"] = token
    return body


def add_department_members(ctx: Ctx, req: EmuRequest, dept_id: str) -> EmuResponse:
    _guard_people(ctx.org)
    dept = _department(ctx.org, dept_id)
    for user in _members(ctx.org, req, emails_allowed=True):
        _move(ctx, user, department_id=dept.id)
    return NO_CONTENT


def remove_department_members(ctx: Ctx, req: EmuRequest, dept_id: str) -> EmuResponse:
    _guard_people(ctx.org)
    dept = _department(ctx.org, dept_id)
    base = ctx.org.default_department().id
    for user in _members(ctx.org, req, emails_allowed=False):
        if user.department_id == dept.id:
            _move(ctx, user, department_id=base)
    return NO_CONTENT


# --- designations ------------------------------------------------------------------------


def _designation(org: Org, desig_id: str) -> Designation:
    desig = org.designations.get(desig_id)
    require(desig is not None, "designation_not_exist")
    assert desig is not None
    return desig


def _designation_name(org: Org, body: Body, *, own_id: str = "") -> str:
    name = body.text("name").strip()
    require(bool(name), INPUT_INVALID, "'name' must not be empty.")
    # Zoho's document: "Maximum allowed characters: 30."
    require(len(name) <= 30, "invalid_designation_name", "Maximum allowed characters: 30.")
    clash = [d for d in org.designations.values() if d.name.lower() == name.lower()]
    require(all(d.id == own_id for d in clash), "designation_already_exist")
    return name


def create_designation(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    org = ctx.org
    _guard_people(org)
    body = read(req, allowed=("name", "user_ids"))
    desig = Designation(org.ids.object_id(), _designation_name(org, body))
    org.designations[desig.id] = desig
    _move_in(ctx, body, designation_id=desig.id)
    return {"data": {"name": desig.name, "id": desig.id}}


def list_designations(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    desigs = sorted(ctx.org.designations.values(), key=lambda d: d.id)
    search = req.query.get("search")
    if search:
        desigs = [d for d in desigs if search.lower() in d.name.lower()]
    if "designations-unpaged" in ctx.variants:  # `limit` and `search` only, as documented
        limit = parse_limit(req.query.get("limit"), default=25, maximum=100)
        return {"data": [{"name": d.name, "id": d.id} for d in desigs[:limit]]}
    page, token = ctx.page(f"designations:{search}", desigs, req.query, default=25, maximum=100)
    body: dict[str, Any] = {"data": [{"name": d.name, "id": d.id} for d in page]}
    if token:
        body["next_token"] = token
    return body


def get_designation(ctx: Ctx, req: EmuRequest, desig_id: str) -> dict[str, Any]:
    desig = _designation(ctx.org, desig_id)
    return {"data": {"name": desig.name, "id": desig.id}}


def update_designation(ctx: Ctx, req: EmuRequest, desig_id: str) -> dict[str, Any]:
    _guard_people(ctx.org)
    desig = _designation(ctx.org, desig_id)
    body = read(req, allowed=("name",))
    desig.name = _designation_name(ctx.org, body, own_id=desig.id)
    return {"data": {"name": desig.name, "id": desig.id}}


def delete_designation(ctx: Ctx, req: EmuRequest, desig_id: str) -> EmuResponse:
    _guard_people(ctx.org)
    desig = _designation(ctx.org, desig_id)
    for user in ctx.org.users.values():
        if user.designation_id == desig.id:
            _move(ctx, user, designation_id="")
    del ctx.org.designations[desig.id]
    return NO_CONTENT


def designation_members(ctx: Ctx, req: EmuRequest, desig_id: str) -> dict[str, Any]:
    desig = _designation(ctx.org, desig_id)
    if "limit" not in req.query:  # the designations document marks it required here
        raise missing("limit")
    users = [u for u in ctx.org.users.values() if u.designation_id == desig.id]
    page, token = ctx.page(f"desig-members:{desig.id}", users, req.query, default=100, maximum=100)
    body: dict[str, Any] = {"data": [views.user_brief(u) for u in page]}
    if token:
        body["next_token"] = token
    return body


def add_designation_members(ctx: Ctx, req: EmuRequest, desig_id: str) -> EmuResponse:
    _guard_people(ctx.org)
    desig = _designation(ctx.org, desig_id)
    for user in _members(ctx.org, req, emails_allowed=False):
        _move(ctx, user, designation_id=desig.id)
    return NO_CONTENT


def remove_designation_members(ctx: Ctx, req: EmuRequest, desig_id: str) -> EmuResponse:
    _guard_people(ctx.org)
    desig = _designation(ctx.org, desig_id)
    for user in _members(ctx.org, req, emails_allowed=False):
        if user.designation_id == desig.id:
            _move(ctx, user, designation_id="")
    return NO_CONTENT


# --- teams -------------------------------------------------------------------------------


def _team(org: Org, team_id: str) -> Team:
    team = org.teams.get(int(team_id)) if team_id.isdigit() else None
    if team is None:
        raise ZohoError(404)
    return team


TEAM_NAME_LIMIT = 30  # characters (READINGS #5, #21)


def create_team(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    """A flat team object answers, as the evidence shows (READINGS #5)."""
    org = ctx.org
    body = read(req, allowed=("name", "description", "user_ids", "email_ids"))
    name = body.text("name").strip()
    require(bool(name), INPUT_INVALID, "'name' must not be empty.")
    require(len(name) <= TEAM_NAME_LIMIT, "team_name_length_exceeded")
    require(all(t.name.lower() != name.lower() for t in org.teams.values()), "team_already_exist")
    require(not (body.has("user_ids") and body.has("email_ids")), INPUT_INVALID)
    joining = [key for key in ("user_ids", "email_ids") if body.has(key)]
    members = _users(org, body, joining[0]) if joining else []
    description = body.text("description", "")
    team = Team(600_000_000 + len(org.teams) + 1, name, description, ctx.now)
    team.members.add(ctx.caller)
    team.moderators.add(ctx.caller)
    team.members.update(u.id for u in members)
    org.teams[team.id] = team
    answer = _team_view(ctx, team)
    return {"data": answer} if "teams-wrapped" in ctx.variants else answer


def _team_view(ctx: Ctx, team: Team, *, caller: str = "") -> dict[str, Any]:
    numeric = "team-ids-numeric" in ctx.variants
    return views.team(team, caller=caller or ctx.caller, numeric_id=numeric)


TEAM_PARAMS = frozenset({"joined"})  # all a public client was seen to send (READINGS #2)


def _strict_params(ctx: Ctx, req: EmuRequest) -> None:
    """The variant teams-strict-params: an unknown query parameter is refused by name."""
    if "teams-strict-params" not in ctx.variants:
        return
    known = TEAM_PARAMS | ({"next_token", "limit"} if "teams-wrapped" in ctx.variants else set())
    for name in sorted(set(req.query) - known):
        raise ZohoError(400, "invalid_parameter", f"'{name}' is not a valid parameter.")


def list_teams(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    """``{"teams": [...]}``, unpaged; ``joined=true`` keeps the caller's (READINGS #2)."""
    _strict_params(ctx, req)
    teams = sorted(ctx.org.teams.values(), key=lambda t: t.id)
    joined = str(req.query.get("joined", "")).lower() == "true"
    if joined or "teams-joined-only" in ctx.variants:
        teams = [t for t in teams if ctx.caller in t.members]
    items = [_team_view(ctx, t) for t in teams]
    if "teams-wrapped" in ctx.variants:
        return _paged(ctx, req, f"teams:{req.query.get('joined')}", items)
    return {"teams": items}


def _paged(ctx: Ctx, req: EmuRequest, key: str, items: list[Any]) -> dict[str, Any]:
    """The variant teams-wrapped: ``data`` with ``next_token`` paging, like other listings."""
    page, token = ctx.page(key, items, req.query, default=25, maximum=100)
    body: dict[str, Any] = {"data": page, "has_more": token is not None}
    if token:
        body["next_token"] = token
    return body


def get_team(ctx: Ctx, req: EmuRequest, team_id: str) -> dict[str, Any]:
    answer = _team_view(ctx, _team(ctx.org, team_id))  # flat (READINGS #3)
    return {"data": answer} if "teams-wrapped" in ctx.variants else answer


def team_members(ctx: Ctx, req: EmuRequest, team_id: str) -> dict[str, Any]:
    """``{"members": [{user_id, …}]}`` (READINGS #4)."""
    _strict_params(ctx, req)
    team = _team(ctx.org, team_id)
    users = [ctx.org.users[m] for m in sorted(team.members, key=int) if m in ctx.org.users]
    if "teams-wrapped" in ctx.variants:
        items = [views.user_brief(u) for u in users]
        return _paged(ctx, req, f"team:{team.id}:members", items)
    return {"members": [views.team_member(u, moderator=u.id in team.moderators) for u in users]}


def add_team_members(ctx: Ctx, req: EmuRequest, team_id: str) -> EmuResponse:
    team = _team(ctx.org, team_id)
    team.members.update(u.id for u in _members(ctx.org, req, emails_allowed=True))
    return NO_CONTENT


def remove_team_member(ctx: Ctx, req: EmuRequest, team_id: str, user_id: str) -> EmuResponse:
    """One member out per call, by path (READINGS #6)."""
    team = _team(ctx.org, team_id)
    if user_id not in team.members:
        raise ZohoError(404)
    team.members.discard(user_id)
    team.moderators.discard(user_id)
    return NO_CONTENT
