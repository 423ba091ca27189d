"""Rule-driven memberships in the plan: Cliq teams, Zoho Connect groups and roles, and the
declared roles' permissions. Pure, like the rest of the diff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hrsync.sync.plan import (
    Change,
    ConnectMembers,
    CreateConnectGroup,
    CreateRole,
    CreateTeam,
    Plan,
    RoleMembers,
    TeamMembers,
    UpdateRole,
)
from hrsync.sync.state import ConnectState, DesiredState, Inventory, RoleSpec

MEMBERS_PER_CALL = 100  # member ids per team call


def teams(
    desired: DesiredState,
    current: Inventory,
    zuid_of: Mapping[str, str],
    managed: Mapping[str, set[str]],
) -> list[Change]:
    """Create missing rule-driven teams; add people who belong; take out those hrsync put in
    who no longer belong. Joiners join through their invitation, not here."""
    changes: list[Change] = []
    wanted: dict[str, set[str]] = {}  # team name as the rules spell it -> employee ids
    for want in desired.deciding("teams"):
        for team in want.teams:
            wanted.setdefault(team, set()).add(want.employee_id)
    names = {n.lower(): n for n in wanted}
    for team, employees in sorted(wanted.items()):
        state = current.team(team)
        if state is None:
            changes.append(CreateTeam(team))
        members = state.members if state is not None else set()
        joining = sorted(e for e in employees if e in zuid_of and zuid_of[e] not in members)
        changes.extend(_batches(team, joining, join=True))
    for key, employees in sorted(managed.items()):
        state = current.team(key)
        if state is None:
            continue
        belong = wanted.get(names.get(key, ""), set())
        leaving = sorted(
            e
            for e in employees
            if e not in belong
            and e in zuid_of
            and zuid_of[e] in state.members
            and zuid_of[e] not in current.protected
            and _decides(desired, e, "teams")
        )
        changes.extend(_batches(state.name, leaving, join=False))
    return changes


def connect(desired: DesiredState, connect: ConnectState) -> list[Change]:
    """Connect groups: create missing ones, add who belongs (by email, so a joiner still
    pending in Cliq is invited to the network too), take out who hrsync put in and who no
    longer belongs. Connect cannot list members, so hrsync's own record is the truth."""
    changes: list[Change] = []
    wanted: dict[str, set[str]] = {}
    for want in desired.deciding("connect_groups"):
        for group in want.connect_groups:
            wanted.setdefault(group, set()).add(want.employee_id)
    names = {n.lower(): n for n in wanted}
    for group, employees in sorted(wanted.items()):
        if group.lower() not in connect.groups:
            changes.append(CreateConnectGroup(group))
        joining = sorted(employees - connect.managed.get(group.lower(), set()))
        for i in range(0, len(joining), MEMBERS_PER_CALL):
            chunk = joining[i : i + MEMBERS_PER_CALL]
            emails = [desired.users[e].email for e in chunk]
            changes.append(ConnectMembers(group, chunk, emails))
    for key, employees in sorted(connect.managed.items()):
        if key not in connect.groups:
            continue
        belong = wanted.get(names.get(key, ""), set())
        for employee_id in sorted(employees - belong):
            person = desired.users.get(employee_id)
            if person is None or not _decides(desired, employee_id, "connect_groups"):
                continue  # leavers keep their groups (deactivation ends their access)
            group = names.get(key, key)
            changes.append(ConnectMembers(group, [employee_id], [person.email], join=False))
    return changes


def declared_roles(specs: Sequence[RoleSpec], current: Inventory) -> list[Change]:
    changes: list[Change] = []
    for spec in specs:
        role = current.role(spec.name)
        if role is None:
            changes.append(
                CreateRole(
                    spec.name, spec.profile_type, spec.clone_of, spec.description, spec.entries()
                )
            )
            continue
        drifted = [e for e in spec.entries() if not permission_holds(role.permissions, e)]
        description = spec.description if spec.description != role.description else None
        if drifted or (description is not None and spec.description):
            changes.append(UpdateRole(role.name, description or None, drifted))
    return changes


def permission_holds(permissions: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    module = permissions.get(str(entry.get("module", "")), {})
    if not isinstance(module, dict):
        return False
    if "status" in entry:
        held = module.get("actions", {}).get(entry["action"]) if "action" in entry else None
        if "action" not in entry:
            held = module.get("status")
        if held != entry["status"]:
            return False
    held_configs = _configs(module.get("configs"))
    for config in entry.get("configs", []):
        held = held_configs.get(str(config.get("name")))
        if not _same_setting(held, config.get("value")):
            return False
    return True


def _configs(raw: Any) -> dict[str, Any]:
    """A module's configs by name: Cliq lists ``[{name, label, type, value}]``; an object
    of name → value is read too."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        return {str(c.get("name")): c.get("value") for c in raw if isinstance(c, dict)}
    return {}


def _same_setting(held: Any, wanted: Any) -> bool:
    """Cliq answers a config's value as text, or as an object carrying it as text."""
    if isinstance(held, dict):
        return str(wanted) in {str(v) for v in held.values()}
    return held is not None and str(held) == str(wanted)


def role_members(
    desired: DesiredState,
    current: Inventory,
    zuid_of: Mapping[str, str],
    managed: Mapping[str, set[str]],
    specs: Sequence[RoleSpec],
    plan: Plan,
) -> list[Change]:
    """Give each matched, active person the role the rules name; take a role hrsync gave
    from someone the rules no longer give it to. Joiners get theirs right after inviting."""
    changes: list[Change] = []
    declared = {s.name.lower() for s in specs}
    joining: dict[str, list[str]] = {}
    missing: dict[str, int] = {}
    for want in sorted(desired.deciding("role"), key=lambda u: u.employee_id):
        if not (want.role and want.employee_id in zuid_of):
            continue
        zuid = zuid_of[want.employee_id]
        if zuid in current.protected:
            continue
        role = current.role(want.role)
        if role is None and want.role.lower() not in declared:
            missing[want.role] = missing.get(want.role, 0) + 1
            continue
        if role is None or zuid not in role.members:
            joining.setdefault(role.name if role else want.role, []).append(want.employee_id)
    for name, employee_ids in sorted(joining.items()):
        for i in range(0, len(employee_ids), MEMBERS_PER_CALL):
            chunk = employee_ids[i : i + MEMBERS_PER_CALL]
            changes.append(RoleMembers(name, chunk))
    for key, held in sorted(managed.items()):
        role = current.roles.get(key)
        if role is None:
            continue
        leaving = sorted(
            e
            for e in held
            if e in zuid_of
            and zuid_of[e] in role.members
            and zuid_of[e] not in current.protected
            and _decides(desired, e, "role")
            and not desired.users[e].role  # given another role, they move by joining it
        )
        for i in range(0, len(leaving), MEMBERS_PER_CALL):
            chunk = leaving[i : i + MEMBERS_PER_CALL]
            changes.append(RoleMembers(role.name, chunk, join=False))
    for name, count in sorted(missing.items()):
        plan.pending.append(
            f"Cliq has no role {name!r}: declare it under [[roles]] or create it in Cliq; "
            f"{count} people wait for it"
        )
    return changes


TEAM_NAME_LIMIT = 30  # characters Cliq takes in a team name


def team_names_cliq_takes(desired: DesiredState, plan: Plan) -> DesiredState:
    """Leave out teams whose names Cliq refuses (over 30 characters), as a pending action."""
    too_long: dict[str, int] = {}
    for user in desired.users.values():
        for name in user.teams:
            if len(name) > TEAM_NAME_LIMIT:
                too_long[name] = too_long.get(name, 0) + 1
    if not too_long:
        return desired
    for name, count in sorted(too_long.items()):
        plan.pending.append(
            f"Cliq takes team names of at most {TEAM_NAME_LIMIT} characters: team {name!r} is "
            f"not created; shorten its name in [rules]; {count} people wait for it"
        )
    users = {
        eid: replace(u, teams=frozenset(t for t in u.teams if t not in too_long))
        for eid, u in desired.users.items()
    }
    return replace(desired, users=users)


def _decides(desired: DesiredState, employee_id: str, what: str) -> bool:
    """HR decides ``what`` for this person now: they are read, active and not kept."""
    person = desired.users.get(employee_id)
    return person is not None and person.active and what not in person.keep


def _batches(team: str, employees: list[str], *, join: bool) -> list[Change]:
    return [
        TeamMembers(team, chunk, join=join)
        for chunk in (
            employees[i : i + MEMBERS_PER_CALL] for i in range(0, len(employees), MEMBERS_PER_CALL)
        )
    ]
