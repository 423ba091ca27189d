"""The only writer: carries out a plan, journalling each change before and after.

Order matters for Zoho: departments and designations first (invites name them), rehires
reactivated before their profiles are updated, joiners invited managers-first with every
field in the invitation, then profile updates, and deactivations last.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hrsync.errors import ApiError, BadRequest, Conflict, TransientError
from hrsync.sync.invite import BATCH, InviteRound
from hrsync.sync.plan import (
    Change,
    ConnectMembers,
    CreateConnectGroup,
    CreateDepartment,
    CreateDesignation,
    CreateRole,
    CreateTeam,
    DeactivateUser,
    InviteUser,
    LinkUser,
    Plan,
    ReactivateUser,
    RoleMembers,
    TeamMembers,
    UpdateRole,
    UpdateUser,
)
from hrsync.sync.state import Inventory

log = logging.getLogger(__name__)
PEOPLE_OWNS = "operation_not_allowed"  # Cliq's answer to group writes in a People-run org
GROUP_FIELDS = {"department", "designation"}


class AddResult(Protocol):
    success_users: list[str]
    failed_users: dict[str, str]
    already_availableusers: list[str]


class Target(Protocol):
    def create_department(self, name: str) -> str: ...
    def create_designation(self, name: str) -> str: ...
    def add_department_members(self, department_id: str, zuids: Sequence[str]) -> None: ...
    def add_designation_members(self, designation_id: str, zuids: Sequence[str]) -> None: ...
    def invite(self, users: Sequence[dict[str, Any]]) -> AddResult: ...
    def find_users(self, emails: Iterable[str]) -> dict[str, str]: ...
    def update_user(self, zuid: str, fields: dict[str, Any], *, email: str) -> AddResult: ...
    def set_active(self, zuid: str, active: bool) -> None: ...
    def create_team(self, name: str) -> str: ...
    def add_team_members(self, team_id: str, zuids: Sequence[str]) -> None: ...
    def remove_team_members(self, team_id: str, zuids: Sequence[str]) -> None: ...
    def create_role(
        self, name: str, *, profile_type: str, clone_id: str, description: str
    ) -> str: ...
    def update_role(self, role_id: str, *, name: str, description: str) -> None: ...
    def set_permissions(self, role_id: str, entries: Sequence[dict[str, Any]]) -> None: ...
    def add_role_users(self, role_id: str, zuids: Sequence[str]) -> None: ...
    def remove_role_users(self, role_id: str, zuids: Sequence[str]) -> None: ...
    def set_idle(self, work: Callable[[float], None] | None) -> None: ...


class ConnectSide(Protocol):
    def ready(self) -> bool: ...
    def groups(self) -> dict[str, str]: ...
    def create_group(self, name: str) -> str: ...
    def add_members(self, group_id: str, emails: Sequence[str]) -> None: ...
    def remove_member(self, group_id: str, email: str, zuid: str = "") -> None: ...


class Journal(Protocol):
    def journal_intend(self, run_id: int, entries: Iterable[tuple[str, str, str, str]]) -> None: ...
    def journal_mark(
        self, run_id: int, keys: Sequence[str], state: str, *, error: str = ""
    ) -> None: ...
    def save_link(self, employee_id: str, zuid: str, *, email: str, origin: str) -> None: ...
    def add_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None: ...
    def remove_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None: ...
    def move_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None: ...


class Progress(Protocol):
    def start(self, plan: Plan) -> None: ...
    def advance(self, changes: int, note: str) -> None: ...


class NoProgress:
    def start(self, plan: Plan) -> None:
        return None

    def advance(self, changes: int, note: str) -> None:
        return None


@dataclass
class ApplyReport:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "who: why"
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    groups_by_people: bool = False  # Cliq said Zoho People owns departments and designations

    @property
    def ok(self) -> bool:
        return not self.failed


class Applier:
    """Carries out one plan against one target within one run."""

    def __init__(
        self,
        target: Target,
        journal: Journal,
        run_id: int,
        *,
        inventory: Inventory,
        progress: Progress | None = None,
        connect: ConnectSide | None = None,
    ) -> None:
        self.target = target
        self.journal = journal
        self.run_id = run_id
        self.departments = dict(inventory.departments)
        self.designations = dict(inventory.designations)
        self.teams = {key: team.id for key, team in inventory.teams.items()}
        self.connect = connect
        self.roles = {key: role.id for key, role in inventory.roles.items()}
        self.done_keys: set[str] = set()
        # Connect work needs nothing from Cliq: it fills the time Cliq's pacing waits.
        self.background: deque[Change] = deque()
        self.connect_groups = dict(inventory.connect.groups) if inventory.connect else {}
        self.progress = progress or NoProgress()
        self.zuid_of: dict[str, str] = {}
        self.report = ApplyReport()

    def apply(self, plan: Plan) -> ApplyReport:
        self.zuid_of = dict(plan.known_users)
        self.progress.start(plan)
        self.journal.journal_intend(
            self.run_id,
            (
                (c.key, c.kind, c.describe(done=False), json.dumps(c.to_dict()))
                for c in plan.changes
            ),
        )
        self.background.extend(plan.of(CreateConnectGroup) + plan.of(ConnectMembers))
        if self.background and self.connect is not None:
            self.target.set_idle(self._idle)
        try:
            self._cliq(plan)
        finally:
            self.target.set_idle(None)
        while self.background:
            self._background_one()
        for change in plan.of(DeactivateUser):
            self._one(change, lambda c=change: self.target.set_active(c.zuid, False))
        return self.report

    def _cliq(self, plan: Plan) -> None:
        """Everything in Cliq before the deactivations, in the order Cliq needs."""
        for link in plan.of(LinkUser):
            self._link(link)
        for change in plan.of(CreateDepartment) + plan.of(CreateDesignation):
            if self.report.groups_by_people:
                self.skipped([change], "departments and designations are managed by Zoho People")
                continue
            self._one(change, lambda c=change: self._create_group(c))
        for team in plan.of(CreateTeam):
            self._one(team, lambda c=team: self._create_team(c))
        for role in plan.of(CreateRole):
            self._one(role, lambda c=role: self._create_role(c))
        for update in plan.of(UpdateRole):
            self._one(update, lambda c=update: self._update_role(c))
        for change in plan.of(ReactivateUser):
            self._one(change, lambda c=change: self.target.set_active(c.zuid, True))
        invites = plan.of(InviteUser)
        InviteRound(self, invites).run()
        self._roles_of_joiners([i for i in invites if i.role])
        emails = {i.employee_id: i.email for i in plan.of(InviteUser)}
        updates = plan.of(UpdateUser)
        moved = self._batched_moves(updates)
        for change in updates:
            if self.report.groups_by_people and set(change.changes) <= GROUP_FIELDS:
                self.skipped([change], "departments and designations are managed by Zoho People")
                continue
            done = moved.get(change.key, set())
            self._one(change, lambda c=change, d=done: self._update(c, emails, d))
        for members in plan.of(TeamMembers):
            self._one(members, lambda c=members: self._team_members(c))
        for members in plan.of(RoleMembers):
            self._one(members, lambda c=members: self._role_members(c))

    def _create_role(self, change: CreateRole) -> None:
        clone_id = self.roles.get(change.clone_of.strip().lower(), "") if change.clone_of else ""
        if change.clone_of and not clone_id:
            raise BadRequest(f"role {change.clone_of!r} to copy does not exist")
        role_id = self.target.create_role(
            change.name,
            profile_type=change.profile_type,
            clone_id=clone_id,
            description=change.description,
        )
        self.roles[change.name.strip().lower()] = role_id
        if change.permissions:
            self.target.set_permissions(role_id, change.permissions)

    def _update_role(self, change: UpdateRole) -> None:
        role_id = self.roles[change.name.strip().lower()]
        if change.description is not None:
            self.target.update_role(role_id, name=change.name, description=change.description)
        if change.permissions:
            self.target.set_permissions(role_id, change.permissions)

    def _role_members(self, change: RoleMembers) -> None:
        role_id = self.roles.get(change.role.strip().lower())
        if role_id is None:
            raise BadRequest(f"role {change.role!r} does not exist (its creation failed)")
        if change.join:
            self.target.add_role_users(role_id, change.zuids)
            self.journal.move_memberships("role", change.role, change.employee_ids)
        else:
            self.target.remove_role_users(role_id, change.zuids)
            self.journal.remove_memberships("role", change.role, change.employee_ids)

    def _roles_of_joiners(self, invites: list[InviteUser]) -> None:
        """Cliq cannot take a role in the invitation: give it as soon as the ids are known."""
        if not invites:
            return
        invited = [i for i in invites if i.key in self.done_keys]
        missing = {i.email.lower() for i in invited if i.employee_id not in self.zuid_of}
        found = self.target.find_users(missing) if missing else {}
        by_role: dict[str, list[InviteUser]] = {}
        for invite in invited:
            zuid = self.zuid_of.get(invite.employee_id) or found.get(invite.email.lower())
            if zuid and invite.role.lower() in self.roles:
                self.zuid_of[invite.employee_id] = zuid
                by_role.setdefault(invite.role, []).append(invite)
        for role, people in sorted(by_role.items()):
            for i in range(0, len(people), BATCH):
                chunk = people[i : i + BATCH]
                try:
                    zuids = [self.zuid_of[p.employee_id] for p in chunk]
                    self.target.add_role_users(self.roles[role.lower()], zuids)
                except (ApiError, TransientError) as error:
                    self.report.notes.append(
                        f"role {role!r} not yet given to {len(chunk)} joiners ({error}); "
                        "the next run gives it"
                    )
                    continue
                self.journal.move_memberships("role", role, [p.employee_id for p in chunk])

    def _idle(self, seconds: float) -> None:
        """Cliq's pacing is about to wait ``seconds``: do Connect work that can go now."""
        while self.background and self.connect is not None and self.connect.ready():
            self._background_one()

    def _background_one(self) -> None:
        change = self.background.popleft()
        if isinstance(change, CreateConnectGroup):
            self._one(change, lambda: self._create_connect_group(change))
        elif isinstance(change, ConnectMembers):
            self._one(change, lambda: self._connect_members(change))

    def _connect_side(self) -> ConnectSide:
        if self.connect is None:
            raise BadRequest("Zoho Connect is not configured ([connect] network_id)")
        return self.connect

    def _create_connect_group(self, change: CreateConnectGroup) -> None:
        group_id = self._connect_side().create_group(change.name)
        self.connect_groups[change.name.strip().lower()] = group_id

    def _connect_members(self, change: ConnectMembers) -> None:
        group_id = self.connect_groups.get(change.group.strip().lower())
        if group_id is None:
            raise BadRequest(f"Connect group {change.group!r} does not exist (creation failed)")
        if change.join:
            self._connect_side().add_members(group_id, change.emails)
            self.journal.add_memberships("connect_group", change.group, change.employee_ids)
        else:
            self._connect_side().remove_member(group_id, change.emails[0], change.zuid)
            self.journal.remove_memberships("connect_group", change.group, change.employee_ids)

    def _create_team(self, change: CreateTeam) -> None:
        self.teams[change.name.strip().lower()] = self.target.create_team(change.name)

    def team_ids(self, names: Iterable[str]) -> list[str]:
        return [self.teams[n.lower()] for n in names if n.lower() in self.teams]

    def _team_members(self, change: TeamMembers) -> None:
        team_id = self.teams.get(change.team.strip().lower())
        if team_id is None:
            raise BadRequest(f"team {change.team!r} does not exist (its creation failed)")
        if change.join:
            self.target.add_team_members(team_id, change.zuids)
            self.journal.add_memberships("team", change.team, change.employee_ids)
        else:
            self.target.remove_team_members(team_id, change.zuids)
            self.journal.remove_memberships("team", change.team, change.employee_ids)

    # helpers -------------------------------------------------------------------------------
    def _one(self, change: Change, action: Any) -> None:
        self.journal.journal_mark(self.run_id, [change.key], "sent")
        try:
            action()
        except (ApiError, TransientError) as error:
            group = isinstance(change, CreateDepartment | CreateDesignation)
            if group and isinstance(error, BadRequest) and error.code == PEOPLE_OWNS:
                self.skipped([change], "departments and designations are managed by Zoho People")
                return
            self.failed([change], str(error))
            return
        self.confirmed([change])

    def skipped(self, changes: Sequence[Change], why: str) -> None:
        self.journal.journal_mark(self.run_id, [c.key for c in changes], "skipped", error=why)
        for change in changes:
            self.report.skipped.append(f"{change.describe(done=False)}: {why}")
        self.progress.advance(len(changes), f"skipped: {why}")

    def confirmed(self, changes: Sequence[Change]) -> None:
        self.journal.journal_mark(self.run_id, [c.key for c in changes], "confirmed")
        self.done_keys.update(c.key for c in changes)
        for change in changes:
            self.report.done.append(change.describe(done=True))
            log.info("%s", change.describe(done=True))
        self.progress.advance(len(changes), changes[-1].describe(done=True) if changes else "")

    def failed(self, changes: Sequence[Change], why: str) -> None:
        self.journal.journal_mark(self.run_id, [c.key for c in changes], "failed", error=why)
        for change in changes:
            self.report.failed.append(f"{change.describe(done=False)}: {why}")
            log.error("%s failed: %s", change.key, why)
        self.progress.advance(len(changes), f"failed: {why}")

    def _link(self, link: LinkUser) -> None:
        self.journal.save_link(link.employee_id, link.zuid, email=link.email, origin="adopted")
        self.zuid_of[link.employee_id] = link.zuid
        self.confirmed([link])

    def _create_group(self, change: Change) -> None:
        assert isinstance(change, CreateDepartment | CreateDesignation)
        table = self.departments if isinstance(change, CreateDepartment) else self.designations
        create = (
            self.target.create_department
            if isinstance(change, CreateDepartment)
            else self.target.create_designation
        )
        try:
            table[change.name] = create(change.name)
        except Conflict:
            log.info("%s already exists; using it", change.name)
        except BadRequest as refused:
            if refused.code != PEOPLE_OWNS:
                raise
            self._people_owns_groups()
            raise

    def group_ids(self, department: str | None, designation: str | None) -> dict[str, str]:
        if self.report.groups_by_people:
            return {}
        ids: dict[str, str] = {}
        if department:
            ids["department_id"] = _lookup(self.departments, department)
        if designation:
            ids["designation_id"] = _lookup(self.designations, designation)
        return {k: v for k, v in ids.items() if v}

    def _batched_moves(self, updates: list[UpdateUser]) -> dict[str, set[str]]:
        """Move people with the department's and the designation's "add member" calls, up to
        100 people each, as seed 000 says to, rather than one user update per mover. Returns
        the fields so moved per change key; a call that fails leaves its fields to the user
        updates, and a refusal because Zoho People owns the groups stops the rest."""
        moved: dict[str, set[str]] = {}
        steps = (
            ("department", self.departments, self.target.add_department_members),
            ("designation", self.designations, self.target.add_designation_members),
        )
        for name, table, add in steps:
            joining: dict[str, list[UpdateUser]] = {}
            for change in updates:
                new = change.changes.get(name, ["", ""])[1]
                group_id = _lookup(table, new) if new else ""
                if group_id:
                    joining.setdefault(group_id, []).append(change)
            for group_id, changes in sorted(joining.items()):
                for i in range(0, len(changes), BATCH):
                    if self.report.groups_by_people:
                        return moved
                    chunk = changes[i : i + BATCH]
                    try:
                        add(group_id, [c.zuid for c in chunk])
                    except BadRequest as refused:
                        if refused.code == PEOPLE_OWNS:
                            self._people_owns_groups()
                        log.warning("moving %d people by %s failed: %s", len(chunk), name, refused)
                        continue
                    except (ApiError, TransientError) as error:
                        log.warning("moving %d people by %s failed: %s", len(chunk), name, error)
                        continue
                    for change in chunk:
                        moved.setdefault(change.key, set()).add(name)
        return moved

    def _people_owns_groups(self) -> None:
        self.report.groups_by_people = True
        self.report.notes.append(
            "Cliq refused to change a department or designation (operation_not_allowed): "
            "Zoho People manages them in this organisation. hrsync stopped writing them "
            "and will not plan them again for a week."
        )

    def _update(self, change: UpdateUser, emails: dict[str, str], moved: set[str]) -> None:
        body: dict[str, Any] = {}  # only the changed keys; email_id only when it changes
        for name, (_, new) in change.changes.items():
            if name in moved or (name in GROUP_FIELDS and self.report.groups_by_people):
                continue
            if name in change.wire:
                body[name] = change.wire[name]
            elif name == "department":
                body.update(self.group_ids(new, None))
            elif name == "designation":
                body.update(self.group_ids(None, new))
            elif name == "reporting_to":
                body["reporting_to_zuid"] = self.manager_zuid(new, emails)
            else:
                body[name] = new
        if not body:
            return  # nothing Cliq can take here (a department People manages, say)
        result = self.target.update_user(change.zuid, body, email=change.email)
        if result.failed_users:
            raise BadRequest(f"Cliq refused: {result.failed_users}")

    def manager_zuid(self, employee_id: str, emails: dict[str, str]) -> str:
        if not employee_id:
            return ""
        if employee_id not in self.zuid_of and employee_id in emails:
            found = self.target.find_users([emails[employee_id]])
            if emails[employee_id].lower() in found:
                self.zuid_of[employee_id] = found[emails[employee_id].lower()]
        return self.zuid_of.get(employee_id, "")


def _lookup(table: dict[str, str], name: str) -> str:
    if name in table:
        return table[name]
    return next((v for k, v in table.items() if k.lower() == name.lower()), "")
