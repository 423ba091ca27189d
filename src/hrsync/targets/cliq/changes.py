"""Each kind of planned change, carried out in Cliq.

Names (departments, designations, teams, roles) and employee ids are resolved to Cliq's ids
here, once per run, from the inventory and from what the run creates and invites; each change
kind is one small function. ``steps`` gives them to apply in the order Cliq needs:
departments and designations first (invites name them), rehires reactivated before their
profiles are updated, joiners invited managers-first with every field in the invitation, then
movers and profile updates, memberships, and deactivations last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from hrsync.errors import ApiError, BadRequest, Conflict, GroupsOwnedByPeople, TransientError
from hrsync.sync.apply import Ledger, Step
from hrsync.sync.mapping import encode
from hrsync.sync.plan import (
    Change,
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
from hrsync.targets.cliq.invite import BATCH, InviteRound

if TYPE_CHECKING:
    from hrsync.targets.cliq.target import CliqTarget

log = logging.getLogger(__name__)
PEOPLE_OWNS = "operation_not_allowed"  # Cliq's answer to group writes in a People-run org
GROUP_FIELDS = {"department", "designation"}
ROLE_WINDOW = 10 * BATCH  # joiners looked at for roles at a wait between invitations


class CliqChanges:
    """One plan's changes against one Cliq organisation, reported to apply's ``Ledger``."""

    def __init__(
        self, target: CliqTarget, inventory: Inventory, plan: Plan, ledger: Ledger
    ) -> None:
        self.target = target
        self.ledger = ledger
        self.departments = dict(inventory.departments)
        self.designations = dict(inventory.designations)
        self.teams = {key: team.id for key, team in inventory.teams.items()}
        self.roles = {key: role.id for key, role in inventory.roles.items()}
        self.zuid_of: dict[str, str] = dict(plan.known_users)  # employee id → zuid
        self.emails = {i.employee_id: i.email for i in plan.of(InviteUser)}
        self.people_own_groups = False  # Cliq refused a group write this run
        self.moved: dict[str, set[str]] = {}  # change key → group fields moved by member calls
        self.userfields = inventory.userfields  # custom fields by unique name
        self.role_queue: list[tuple[InviteUser, float]] = []  # joiners, when Cliq confirmed
        self.unread: dict[str, float] = {}  # joiners not read back yet → when Cliq confirmed
        self.idle_busy = False

    def steps(self, plan: Plan) -> Iterator[Step]:
        for link in plan.of(LinkUser):
            yield _one(link, self.link)
        for group in plan.of(CreateDepartment) + plan.of(CreateDesignation):
            yield _one(group, self.create_group)
        for team in plan.of(CreateTeam):
            yield _one(team, self.create_team)
        for role in plan.of(CreateRole):
            yield _one(role, self.create_role)
        for update in plan.of(UpdateRole):
            yield _one(update, self.update_role)
        for rehire in plan.of(ReactivateUser):
            yield _one(rehire, lambda c: self.target.set_active(self.zuid(c.employee_id), True))
        invites: list[InviteUser] = plan.of(InviteUser)
        if invites:
            yield Step(list(invites), lambda: InviteRound(self, invites).run(), True)
            yield Step([], self.roles_of_joiners)
        updates: list[UpdateUser] = plan.of(UpdateUser)
        yield Step([], lambda: self.move_in_batches(updates))
        for update in updates:
            yield _one(update, self.update)
        for members in plan.of(TeamMembers):
            yield _one(members, self.team_members)
        for members in plan.of(RoleMembers):
            yield _one(members, self.role_members)

    def deactivations(self, plan: Plan) -> Iterator[Step]:
        for leaver in plan.of(DeactivateUser):
            yield _one(leaver, lambda c: self.target.set_active(self.zuid(c.employee_id), False))

    # one function per kind -----------------------------------------------------------------
    def link(self, change: LinkUser) -> None:
        zuid = self.zuid(change.employee_id)
        self.ledger.journal.save_link(
            change.employee_id, zuid, email=change.email, origin="adopted"
        )

    def create_group(self, change: CreateDepartment | CreateDesignation) -> None:
        """Create a department or designation; one Cliq says exists already is used."""
        department = isinstance(change, CreateDepartment)
        kind = "departments" if department else "designations"
        create = self.target.create_department if department else self.target.create_designation
        group_id = _created_or_found(
            kind[:-1],
            change.name,
            lambda: self._group_write(lambda: create(change.name)),
            lambda: self.target.find_group(kind, change.name),
        )
        (self.departments if department else self.designations)[change.name] = group_id
        self.target.remember_group(kind, change.name, group_id)

    def _group_write(self, write: Callable[[], Any]) -> Any:
        """A department or designation write; Cliq's refusal because People owns them is
        said once, and no further group write is tried this run."""
        if self.people_own_groups:
            raise GroupsOwnedByPeople
        try:
            return write()
        except BadRequest as refused:
            if refused.code != PEOPLE_OWNS:
                raise
            self.people_own_groups = True
            owned = GroupsOwnedByPeople()
            self.ledger.heard(owned)
            raise owned from refused

    def create_team(self, change: CreateTeam) -> None:
        """Create a team; one Cliq says exists already is looked up in the listing. Some
        organisations list only the teams the caller joined: then it cannot be found, and
        the change fails saying what to do."""
        team_id = _created_or_found(
            "team",
            change.name,
            lambda: self.target.create_team(change.name),
            lambda: self.target.find_team(change.name),
        )
        self.teams[change.name.strip().lower()] = team_id

    def create_role(self, change: CreateRole) -> None:
        clone_id = self.roles.get(change.clone_of.strip().lower(), "") if change.clone_of else ""
        if change.clone_of and not clone_id:
            raise BadRequest(f"role {change.clone_of!r} to copy does not exist")
        role_id = _created_or_found(
            "role",
            change.name,
            lambda: self.target.create_role(
                change.name,
                profile_type=change.profile_type,
                clone_id=clone_id,
                description=change.description,
            ),
            lambda: self.target.find_role(change.name),
        )
        self.roles[change.name.strip().lower()] = role_id
        if change.permissions:
            self.target.set_permissions(role_id, change.permissions)

    def update_role(self, change: UpdateRole) -> None:
        role_id = self.roles[change.name.strip().lower()]
        if change.description is not None:
            self.target.update_role(role_id, name=change.name, description=change.description)
        if change.permissions:
            self.target.set_permissions(role_id, change.permissions)

    def update(self, change: UpdateUser) -> None:
        """Only the changed keys; ``email_id`` only when it changes; groups moved already by
        member calls left out; a department People owns left to People."""
        moved = self.moved.get(change.key, set())
        body: dict[str, Any] = {}
        unresolved: list[str] = []  # groups with no id: never taken as done
        for name, (_, new) in change.changes.items():
            if name in moved or (name in GROUP_FIELDS and self.people_own_groups):
                continue
            if name in self.userfields:
                body[name] = self.encoded(name, new)
            elif name in GROUP_FIELDS:
                ids = (
                    self.group_ids(new, None) if name == "department" else self.group_ids(None, new)
                )
                body.update(ids)
                if new and not ids and not self.people_own_groups:
                    unresolved.append(f"{name} {new!r}")
            elif name == "reporting_to":
                manager = self.manager_zuid(new)
                if new and not manager:  # "" would take the manager away, not set one
                    unresolved.append(f"manager {new}")
                    continue
                body["reporting_to_zuid"] = manager
            else:
                body[name] = new
        if body:
            self._send_update(change, body)
        elif set(change.changes) - moved and self.people_own_groups and not unresolved:
            raise GroupsOwnedByPeople
        if unresolved:
            raise BadRequest(
                f"{' and '.join(unresolved)}: no id in Cliq (not created or invited yet, or "
                "Cliq does not list it); left as it is, and the next run tries again"
            )

    def _send_update(self, change: UpdateUser, body: dict[str, Any]) -> None:
        def write() -> Any:
            return self.target.update_user(zuid, body, email=change.email)

        zuid = self.zuid(change.employee_id)
        groups = body.keys() & {"department_id", "designation_id"}
        try:
            result = self._group_write(write) if groups else write()
        except BadRequest as refused:
            self._forget_missing_group(refused, body)
            raise
        if result.failed_users:
            raise BadRequest(f"Cliq refused: {result.failed_users}")

    def _forget_missing_group(self, refused: BadRequest, body: dict[str, Any]) -> None:
        """Cliq says a department or designation hrsync remembered no longer exists: forget
        it, so the next run creates it again rather than failing the same way."""
        for kind, key, table in (
            ("departments", "department_id", self.departments),
            ("designations", "designation_id", self.designations),
        ):
            if refused.code == f"{kind[:-1]}_not_exist" and key in body:
                for name, group_id in list(table.items()):
                    if group_id == body[key]:
                        del table[name]
                        self.target.remember_group(kind, name, "")

    def move_in_batches(self, updates: Sequence[UpdateUser]) -> None:
        """Move people with the department's and the designation's "add member" calls, up to
        100 people each, as seed 000 says to, rather than one user update per mover. A call
        that fails leaves its fields to the user updates."""
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
                    if self.people_own_groups:
                        return
                    chunk = changes[i : i + BATCH]
                    zuids = [self.zuid(c.employee_id) for c in chunk]
                    try:
                        self._group_write(partial(add, group_id, zuids))
                    except GroupsOwnedByPeople:
                        return
                    except (ApiError, TransientError) as error:
                        log.warning("moving %d people by %s failed: %s", len(chunk), name, error)
                        continue
                    for change in chunk:
                        self.moved.setdefault(change.key, set()).add(name)

    def team_members(self, change: TeamMembers) -> None:
        team_id = self.teams.get(change.team.strip().lower())
        if team_id is None:
            raise BadRequest(f"team {change.team!r} does not exist (its creation failed)")
        journal = self.ledger.journal
        if change.join:
            self.target.add_team_members(team_id, self.zuids(change.employee_ids))
            journal.add_memberships("team", change.team, change.employee_ids)
        else:
            # Cliq takes one member out per call, paced: each is recorded as it returns, so
            # a run killed among a hundred of them keeps what it did.
            for employee_id in change.employee_ids:
                self.target.remove_team_members(team_id, [self.zuid(employee_id)])
                journal.remove_memberships("team", change.team, [employee_id])

    def role_members(self, change: RoleMembers) -> None:
        role_id = self.roles.get(change.role.strip().lower())
        if role_id is None:
            raise BadRequest(f"role {change.role!r} does not exist (its creation failed)")
        journal = self.ledger.journal
        if change.join:
            self.target.add_role_users(role_id, self.zuids(change.employee_ids))
            journal.move_memberships("role", change.role, change.employee_ids)
        else:
            self.target.remove_role_users(role_id, self.zuids(change.employee_ids))
            journal.remove_memberships("role", change.role, change.employee_ids)

    # roles of joiners --------------------------------------------------------------------
    # Cliq takes no role in an invitation. Joiners wait here from the moment Cliq confirms
    # their invitation; while "add users" pacing waits between invitation batches, their ids
    # are looked up (pending users changed since they were invited: a page or two) and their
    # role given, 100 to a call, so roles cost no time of their own. What is left when the
    # invitations are done is given right after.

    def awaiting_role(self, invites: Sequence[InviteUser]) -> None:
        """Invitations Cliq just confirmed: their ids are learnt and their users read back
        while Cliq's pacing waits, and their roles given as soon as can be."""
        now = self.target.zoho_now()
        self.unread.update((i.employee_id, now) for i in invites)
        self.role_queue.extend((i, now) for i in invites if i.role and i.role.lower() in self.roles)

    def idle(self) -> None:
        """Cliq's pacing is about to wait: read joiners back and give roles, if calls can go."""
        if self.idle_busy or not (self.role_queue or self.unread):
            return
        self.idle_busy = True
        try:
            self._give_roles(final=False)
        finally:
            self.idle_busy = False

    def roles_of_joiners(self) -> None:
        """The invitations are done: give the roles still waiting (ids found the cheap way
        first, then, for anyone still unknown, in the whole listing of pending users)."""
        self._give_roles(final=True)
        unknown = [i for i, _ in self.role_queue if i.employee_id not in self.zuid_of]
        if unknown:
            found = self.target.find_users(i.email for i in unknown)
            for invite in unknown:
                if invite.email.lower() in found:
                    self.zuid_of[invite.employee_id] = found[invite.email.lower()]
            self._give_roles(final=True)
        for invite, _ in self.role_queue:
            log.warning(
                "role %r not given to %s: no Cliq id found", invite.role, invite.employee_id
            )

    def _read_back(self, *, final: bool) -> None:
        """List the users invited since the oldest joiner not read back yet: their ids are
        linked now, and the target keeps them as Cliq shows them, so the next run need not
        read them again. A joiner such a listing leaves out is left to the next run."""
        if not self.unread or not (final or self.target.ready("users.list")):
            return
        asked = self.target.zoho_now()
        try:
            found = self.target.invited_since(min(self.unread.values()) - 1)
        except (ApiError, TransientError) as error:
            log.info("could not list the newly invited users yet (%s)", error)
            return
        learnt: list[tuple[str, str, str]] = []
        for employee_id, at in list(self.unread.items()):
            email = self.emails.get(employee_id, "")
            zuid = found.get(email.lower())
            if zuid:
                if employee_id not in self.zuid_of:
                    self.zuid_of[employee_id] = zuid
                    learnt.append((employee_id, zuid, email))
                del self.unread[employee_id]
            elif at < asked:  # confirmed before the listing, yet not in it: not listed
                del self.unread[employee_id]
        if learnt:
            self.ledger.journal.save_links(learnt, origin="invited")

    def _give_roles(self, *, final: bool) -> None:
        self._read_back(final=final)
        # While invitations go on, only the front of the queue is looked at: roles are paced
        # slower than invitations, so the queue can hold tens of thousands, and reading it
        # all at every wait grew with its square. The last pass reads it all.
        window = len(self.role_queue) if final else ROLE_WINDOW
        by_role: dict[str, list[InviteUser]] = {}
        for invite, _ in self.role_queue[:window]:
            if invite.employee_id in self.zuid_of:
                by_role.setdefault(invite.role, []).append(invite)
        given: set[str] = set()
        for role, people in sorted(by_role.items()):
            for i in range(0, len(people), BATCH):
                if not (final or self.target.ready("roles.users")):
                    break
                chunk = people[i : i + BATCH]
                try:
                    zuids = [self.zuid_of[p.employee_id] for p in chunk]
                    self.target.add_role_users(self.roles[role.lower()], zuids)
                except (ApiError, TransientError) as error:
                    if final:
                        self.ledger.note(
                            f"role {role!r} not yet given to {len(chunk)} joiners ({error}); "
                            "the next run gives it"
                        )
                        given.update(p.employee_id for p in chunk)
                    continue
                self.ledger.journal.move_memberships("role", role, [p.employee_id for p in chunk])
                given.update(p.employee_id for p in chunk)
        if given:
            front = self.role_queue[:window]
            self.role_queue[:window] = [(i, at) for i, at in front if i.employee_id not in given]

    # names and ids ---------------------------------------------------------------------------
    def zuid(self, employee_id: str) -> str:
        """The Cliq user of an employee the plan found in Cliq, or this run invited."""
        zuid = self.zuid_of.get(employee_id)
        if not zuid:
            raise BadRequest(f"employee {employee_id} has no Cliq user to change")
        return zuid

    def zuids(self, employee_ids: Sequence[str]) -> list[str]:
        return [self.zuid(e) for e in employee_ids]

    def group_ids(self, department: str | None, designation: str | None) -> dict[str, str]:
        if self.people_own_groups:
            return {}
        ids: dict[str, str] = {}
        if department:
            ids["department_id"] = _lookup(self.departments, department)
        if designation:
            ids["designation_id"] = _lookup(self.designations, designation)
        return {k: v for k, v in ids.items() if v}

    def encoded(self, unique_name: str, value: str) -> Any:
        """An HR value as the custom field takes it: a date as epoch ms, an option's id."""
        try:
            return encode(self.userfields[unique_name], value)
        except ValueError as problem:  # the field changed since the plan
            raise BadRequest(f"custom field {unique_name!r}: {problem}") from None

    def team_ids(self, names: Sequence[str]) -> list[str]:
        return [self.teams[n.lower()] for n in names if n.lower() in self.teams]

    def manager_zuid(self, employee_id: str) -> str:
        if not employee_id:
            return ""
        email = self.emails.get(employee_id)
        if employee_id not in self.zuid_of and email:
            found = self.target.find_users([email])
            if email.lower() in found:
                self.zuid_of[employee_id] = found[email.lower()]
        return self.zuid_of.get(employee_id, "")


def _created_or_found(
    kind: str, name: str, create: Callable[[], str], find: Callable[[], str]
) -> str:
    """The id of what ``create`` made; if Cliq says it exists already, of what ``find``
    finds by name. None found, or no id answered, is a failure that says so: a change is
    done only with an id to show for it."""
    try:
        found = create()
    except Conflict as exists:
        found = find()
        if not found:
            raise _unfound(kind, name, exists) from exists
        log.info("%s %r already exists in Cliq (id %s); using it", kind, name, found)
    if not found:
        raise BadRequest(f"Cliq created {kind} {name!r} but answered no id")
    return found


def _unfound(kind: str, name: str, exists: Conflict) -> BadRequest:
    """Cliq says ``name`` exists, yet hrsync cannot find it: the change fails, saying so."""
    hint = (
        "Cliq lists only the teams hrsync's account has joined: add that account to the team "
        "in Cliq, or rename the rule's team"
        if kind == "team"
        else f"look for a {kind} of that name in Cliq's admin panel"
    )
    return BadRequest(
        f"Cliq says {kind} {name!r} already exists ({exists.code or exists}), but hrsync "
        f"cannot find it by name: {hint}",
        code=exists.code,
    )


def _one(change: Change, execute: Callable[[Any], None]) -> Step:
    return Step([change], lambda: execute(change))


def _lookup(table: dict[str, str], name: str) -> str:
    if name in table:
        return table[name]
    return next((v for k, v in table.items() if k.lower() == name.lower()), "")
