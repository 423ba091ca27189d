"""``diff(desired, current, links) -> Plan``: pure, no I/O, unit-tested by its changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hrsync.model import RecordError
from hrsync.plural import counted
from hrsync.sync.left_scope import left_scope
from hrsync.sync.mapping import NoSuchOption, decode, encode, same_custom, same_value
from hrsync.sync.memberships import (
    connect,
    declared_roles,
    role_members,
    team_names_cliq_takes,
    teams,
)
from hrsync.sync.plan import (
    Change,
    CreateDepartment,
    CreateDesignation,
    DeactivateUser,
    InviteUser,
    LinkUser,
    Plan,
    ReactivateUser,
    UpdateUser,
)
from hrsync.sync.state import (
    PROFILE_FIELDS,
    CurrentUser,
    DesiredState,
    DesiredUser,
    Inventory,
    RoleSpec,
    UserFieldMeta,
)

WHOSE = "person's"  # "1 person's values", "2 people's values"


class _Index:
    """Cliq users by zuid, employee id and email, for matching."""

    def __init__(self, users: list[CurrentUser]) -> None:
        self.by_zuid = {u.zuid: u for u in users}
        self.by_employee_id = {u.employee_id: u for u in users if u.employee_id}
        self.by_email = {u.email.lower(): u for u in users if u.email}


def diff(
    desired: DesiredState,
    current: Inventory,
    links: Mapping[str, str],
    managed_teams: Mapping[str, set[str]] | None = None,
    *,
    roles: Sequence[RoleSpec] = (),
    managed_roles: Mapping[str, set[str]] | None = None,
) -> Plan:
    """The changes that make Cliq match HR. ``links`` maps employee id → zuid (managed users);
    ``managed_teams`` maps a team (lower-cased name) to the employee ids hrsync put in it."""
    index = _Index(current.users)
    plan = Plan(managed_users=sum(1 for z in links.values() if z in index.by_zuid))
    if current.groups_by_people:
        desired = _without_groups(desired)
        plan.notes.append(PEOPLE_OWNS_GROUPS)
    elif current.departments_unread:
        desired = _without_departments(desired)
        plan.pending.append(current.departments_unread)
    desired = team_names_cliq_takes(desired, plan)
    plan.changes.extend(_groups(desired, current))
    matched = _match(desired, index, links, plan, protected=current.protected)
    zuid_of = {eid: user.zuid for eid, (user, _) in matched.items()}
    plan.known_users = dict(zuid_of)
    custom = _CustomFields(current, plan)
    for want in sorted(desired.users.values(), key=lambda u: (u.depth, u.employee_id)):
        if want.employee_id in matched:
            user, linked = matched[want.employee_id]
            changes = _user_changes(want, user, linked, zuid_of, current, plan, custom)
            plan.changes.extend(_readable_manager(c, index, desired) for c in changes)
        elif want.active:
            plan.changes.append(_invite(want, custom))
    plan.changes.extend(_gone_from_feed(desired, index, links, current, plan))
    plan.changes.extend(
        left_scope(desired, index.by_zuid, links, protected=current.protected, plan=plan)
    )
    if desired.starting:
        first = sorted(desired.starting.items(), key=lambda item: item[1])[:3]
        shown = ", ".join(f"{eid} ({day.isoformat()})" for eid, day in first)
        plan.notes.append(
            f"{len(desired.starting)} people start later and are left alone until their "
            f"invitation is due: {shown}" + (" …" if len(desired.starting) > 3 else "")
        )
    plan.changes.extend(teams(desired, current, zuid_of, managed_teams or {}))
    if current.connect is not None:
        plan.changes.extend(connect(desired, current.connect))
    plan.changes.extend(declared_roles(roles, current))
    plan.changes.extend(role_members(desired, current, zuid_of, managed_roles or {}, roles, plan))
    custom.finish()
    return plan


PEOPLE_OWNS_GROUPS = (
    "Zoho People manages this organisation's departments and designations, so Cliq refuses "
    "to change them: hrsync leaves them to People"
)


def _without_groups(desired: DesiredState) -> DesiredState:
    """Everyone's department and designation left as Cliq has them; the rest of what HR
    says (who is held, whether the feed is complete) kept."""
    users = {eid: replace(u, department=None, designation=None) for eid, u in desired.users.items()}
    return replace(desired, users=users)


def _without_departments(desired: DesiredState) -> DesiredState:
    """Everyone's department left as Cliq has it: hrsync could not list Cliq's departments."""
    users = {eid: replace(u, department=None) for eid, u in desired.users.items()}
    return replace(desired, users=users)


class _CustomFields:
    """HR values of custom fields, as Cliq takes them; problems become errors and pending
    actions, never a crash."""

    def __init__(self, current: Inventory, plan: Plan) -> None:
        self.current = current
        self.plan = plan
        self.missing: dict[str, int] = {}
        self.no_option: dict[tuple[str, str], int] = {}  # (field, value) -> people
        # Each reference looked up once: every person names the same few fields.
        self._meta: dict[str, UserFieldMeta | None] = {}

    def _field(self, ref: str) -> UserFieldMeta | None:
        if ref not in self._meta:
            self._meta[ref] = self.current.userfield(ref)
        return self._meta[ref]

    def wanted(self, want: DesiredUser) -> dict[str, tuple[UserFieldMeta, str, Any]]:
        """Unique name → (field, HR value, value as Cliq takes it). Blank HR values are
        left out: hrsync does not clear a custom field HR has no value for."""
        found: dict[str, tuple[UserFieldMeta, str, Any]] = {}
        for ref, value in want.custom.items():
            if not value:
                continue
            meta = self._field(ref)
            if meta is None:
                self.missing[ref] = self.missing.get(ref, 0) + 1
                continue
            try:
                found[meta.unique_name] = (meta, value, encode(meta, value))
            except (NoSuchOption, ValueError) as problem:
                error = RecordError(want.email, str(problem), want.employee_id, ref)
                self.plan.errors.append(error)
                if isinstance(problem, NoSuchOption):
                    key = (meta.name, value)
                    self.no_option[key] = self.no_option.get(key, 0) + 1
        return found

    def finish(self) -> None:
        for ref, count in sorted(self.missing.items()):
            self.plan.pending.append(
                f"Cliq has no user field '{ref}': create it (Admin Panel → User Fields) or "
                f"change [custom_fields]; {counted(count, WHOSE)} values wait for it"
            )
        for (name, value), count in sorted(self.no_option.items()):
            self.plan.pending.append(
                f"Cliq field '{name}' has no option {value!r}: add it in Cliq; "
                f"{counted(count, WHOSE)} values wait for it"
            )


def _groups(desired: DesiredState, current: Inventory) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(desired.departments()):
        if current.department_id(name) is None:
            changes.append(CreateDepartment(name))
    for name in sorted(desired.designations()):
        if current.designation_id(name) is None:
            changes.append(CreateDesignation(name))
    return changes


def _match(
    desired: DesiredState,
    index: _Index,
    links: Mapping[str, str],
    plan: Plan,
    *,
    protected: set[str],
) -> dict[str, tuple[CurrentUser, bool]]:
    """Employee id → (Cliq user, already linked). Link first, then employee id, then email."""
    matched: dict[str, tuple[CurrentUser, bool]] = {}
    taken = _held_zuids(desired, index, links)
    for eid in sorted(desired.users):
        linked = index.by_zuid.get(links.get(eid, ""))
        if linked is not None:
            matched[eid] = (linked, True)
            taken.add(linked.zuid)
    for eid, want in sorted(desired.users.items()):
        if eid in matched:
            continue
        found = index.by_employee_id.get(eid)
        reason = "same employee id"
        if found is None:
            found = index.by_email.get(want.email.lower())
            reason = "same email"
            if found is not None and found.employee_id and found.employee_id != eid:
                plan.notes.append(
                    f"employee {eid}: {want.email} belongs to Cliq user with employee id "
                    f"{found.employee_id}; not adopted"
                )
                found = None
        if found is None or found.zuid in taken or found.zuid in protected:
            continue
        taken.add(found.zuid)
        matched[eid] = (found, False)
        if want.active:
            plan.changes.append(LinkUser(eid, found.email, reason))
    return matched


def _held_zuids(desired: DesiredState, index: _Index, links: Mapping[str, str]) -> set[str]:
    """Cliq users of people whose records are broken: nobody else may be matched to them."""
    taken: set[str] = set()
    for eid in desired.held:
        taken.update(z for z in (links.get(eid, ""),) if z)
        if (user := index.by_employee_id.get(eid)) is not None:
            taken.add(user.zuid)
    return taken


def _user_changes(
    want: DesiredUser,
    user: CurrentUser,
    linked: bool,
    zuid_of: Mapping[str, str],
    current: Inventory,
    plan: Plan,
    custom: _CustomFields,
) -> list[Change]:
    if user.zuid in current.protected:
        return []
    if not want.active:
        if not linked:
            plan.notes.append(
                f"employee {want.employee_id} ({user.email}) left HR but is not "
                "managed by hrsync; left alone"
            )
            return []
        if user.status == "inactive":
            return []
        return [DeactivateUser(want.employee_id, user.email, "inactive in HR")]
    changes: list[Change] = []
    if user.status == "inactive":
        changes.append(ReactivateUser(want.employee_id, want.email))
    fields = _field_changes(want, user, zuid_of)
    for unique, (meta, value, encoded) in custom.wanted(want).items():
        held = user.custom.get(unique, "")
        if not same_custom(meta, held, encoded):
            fields[unique] = [decode(meta, held), value]
    if fields:
        changes.append(UpdateUser(want.employee_id, want.email, fields))
    return changes


def _field_changes(
    want: DesiredUser, user: CurrentUser, zuid_of: Mapping[str, str]
) -> dict[str, list[str]]:
    changes: dict[str, list[str]] = {}
    if user.fields != want.fields:  # equal, as most are: no field to compare one by one
        for field in PROFILE_FIELDS:
            if field in want.keep:
                continue
            old, new = user.fields.get(field, ""), want.fields.get(field, "")
            if not same_value(field, old, new):
                changes[field] = [old, new]
    if want.department is not None and want.department.lower() != user.department.lower():
        changes["department"] = [user.department, want.department]
    if want.designation is not None and want.designation.lower() != user.designation.lower():
        changes["designation"] = [user.designation, want.designation]
    manager_zuid = zuid_of.get(want.manager_id, "") if want.manager_id else ""
    if "reporting_to" in want.keep:
        return changes
    # A manager with no Cliq user yet joins in this run: apply learns their id from the
    # invitation, so their reports get reporting-to in the same run, not the next one.
    joining = want.manager_id and not manager_zuid
    if joining or manager_zuid != user.manager_zuid:
        changes["reporting_to"] = [user.manager_zuid, want.manager_id]
    return changes


def _readable_manager(change: Change, index: _Index, desired: DesiredState) -> Change:
    """Show a new manager by email on both sides, not as a zuid and an employee id."""
    if not isinstance(change, UpdateUser) or "reporting_to" not in change.changes:
        return change
    old_zuid, new_id = change.changes["reporting_to"]
    old = index.by_zuid.get(old_zuid)
    new = desired.users.get(new_id)
    shown = {
        **change.changes,
        "reporting_to": [old.email if old else old_zuid, new_id],
    }
    return replace(change, changes=shown, manager_email=new.email if new else "")


def _invite(want: DesiredUser, custom: _CustomFields) -> InviteUser:
    return InviteUser(
        employee_id=want.employee_id,
        fields={k: v for k, v in want.fields.items() if v and k not in want.keep},
        department=want.department,
        designation=want.designation,
        manager_id=want.manager_id,
        depth=want.depth,
        custom={unique: value for unique, (_, value, _) in custom.wanted(want).items()},
        teams=[] if "teams" in want.keep else sorted(want.teams),
        role="" if "role" in want.keep else want.role,
    )


def _gone_from_feed(
    desired: DesiredState,
    index: _Index,
    links: Mapping[str, str],
    current: Inventory,
    plan: Plan,
) -> list[Change]:
    """Deactivate managed users HR no longer lists, only when the feed was read completely;
    a person whose record is broken is not gone."""
    gone: list[DeactivateUser] = []
    for eid, zuid in sorted(links.items()):
        user = index.by_zuid.get(zuid)
        if eid in desired.users or eid in desired.held or user is None:
            continue
        if user.status == "inactive" or zuid in current.protected:
            continue
        gone.append(DeactivateUser(eid, user.email, "gone from the HR feed"))
        plan.known_users[eid] = zuid
    if gone and not desired.complete:
        plan.notes.append(
            f"{len(gone)} managed users are missing from an HR feed that could not be read "
            "completely; none is deactivated until it can"
        )
        return []
    return list(gone)
