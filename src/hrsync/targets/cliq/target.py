"""Zoho Cliq as a sync target: inventory and the operations ``apply`` calls."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from hrsync.api.cliq import AddUsersResult, CliqClient, CliqUser
from hrsync.errors import AuthError, BadRequest, NotFound
from hrsync.sync.apply import Ledger
from hrsync.sync.mapping import encode
from hrsync.sync.plan import (
    Change,
    CreateDepartment,
    CreateDesignation,
    InviteUser,
    Plan,
    UpdateUser,
)
from hrsync.sync.state import (
    CurrentUser,
    Inventory,
    RoleState,
    TeamState,
    UserFieldMeta,
)
from hrsync.targets.cliq.changes import GROUP_FIELDS, CliqChanges
from hrsync.targets.cliq.learnt import UPDATE_BODY, update_in_learnt_body, users_changed_since
from hrsync.targets.cliq.lookups import Lookups
from hrsync.targets.cliq.seen import (
    APPLYING,
    MAX_UNSURE,
    OVERLAP,
    OVERLAP_OWN_CLOCK,
    SEEN_TEAMS,
    LastRead,
    Memory,
    Seen,
    seen_teams,
    settle_teams,
    teams_json,
)
from hrsync.targets.cliq.wire import current_user, current_user_of

log = logging.getLogger(__name__)
SCOPE_REFUSED = "invalid_oauthscope"  # Cliq's code for a token without the call's scope
DEPARTMENTS_PEOPLE_SCOPE = "ZohoPeople.employee.READ"  # the departments document's, for a list


def _regrant(scope: str) -> str:
    return f"authorise hrsync's Cliq connection again, granting {scope}"


class NoMemory:
    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def bookmark(self, name: str) -> Any:
        return self._saved.get(name)

    def save_bookmark(self, name: str, value: Any) -> None:
        self._saved[name] = value


class CliqTarget(Lookups):
    """Reads and writes one Cliq organisation through ``CliqClient``."""

    def __init__(
        self,
        client: CliqClient,
        *,
        protected_emails: Iterable[str] = (),
        memory: Memory | None = None,
        full_read_every: float = 86_400.0,
        regrant: Callable[[str], str] = _regrant,
    ) -> None:
        self.client = client
        self.regrant = regrant  # how an admin grants hrsync's Cliq token a scope
        self.memory = memory or NoMemory()
        self.full_read_every = full_read_every
        self.last_read = LastRead("", "not read yet", 0)
        self.read_back: dict[str, CurrentUser] = {}  # joiners as listed during this apply
        self.created_teams: dict[str, TeamState] = {}  # teams this apply created
        self.teams_read = False  # whether this run read (or took as seen) the teams
        self.teams_found = False  # a team was found by name, its members unknown: list again
        self._protected_emails = {e.lower() for e in protected_emails}
        self.lead_zuid = ""
        self.base_department_id = ""
        self._seen: Seen | None = None  # as the last inventory saved it

    def inventory(self, *, full: str = "") -> Inventory:
        """Every user, department, designation and custom field of the organisation (teams
        only when the rules need them: ``load_team_members``, so no Teams scope is needed
        without team rules).

        Users are read in full when ``full`` says why, when the last full read is older than
        ``full_read_every`` or an apply never finished; otherwise only those Cliq lists as
        changed since the last read, and those hrsync is unsure of (``seen``)."""
        started = self.now()
        # The users last seen are read from the store only when they are kept: a full read
        # replaces them all, and at 100,000 people they cost seconds and much memory.
        seen = Seen.load(self.memory, users=False)
        why = full or self._full_read_due(seen, started)
        if not why and seen is not None:
            seen = Seen.load(self.memory)
            if seen is None:
                why = "the users hrsync kept do not match its last read"
        inv = Inventory()
        if why or seen is None or seen.groups is None:
            self._read_groups(inv)
        else:  # as last listed, until a plan writes one (``groups``)
            self._kept_groups(inv, seen.groups)
        since = self._zoho_time() - (self.now() - started)
        if why or seen is None:
            seen = Seen(started, started, since)
            self._refresh_userfields(inv, seen)
            seen.users = self._read_all_users()
            self.last_read = LastRead("full", why, len(seen.users))
        else:
            if seen.fields is None:
                self._refresh_userfields(inv, seen)
            else:  # as last listed, until a plan would write or wait for one (``userfields``)
                inv.userfields = {m.unique_name: m for m in seen.fields}
                inv.userfields_as_seen = True
            changed = self._read_changed_users(seen)
            due = dt.datetime.fromtimestamp(seen.full_at + self.full_read_every, dt.UTC)
            self.last_read = LastRead("incremental", "", changed, f"{due:%Y-%m-%d %H:%M} UTC")
            seen.read_at, seen.since_at = started, since
        seen.groups = self._groups_to_keep(inv)
        seen.save(self.memory)
        self._seen = seen  # what ``applied`` settles, rather than reading it back
        inv.users = list(seen.users.values())
        inv.full_read = self.last_read.kind == "full"
        inv.read = self.last_read.describe()
        for user in inv.users:
            if user.email.lower() in self._protected_emails:
                inv.protected.add(user.zuid)
        # The organisation's owner leads the base department; never touch that account.
        if self.lead_zuid:
            inv.protected.add(self.lead_zuid)
        log.info("%s", self.last_read.describe())
        return inv

    def _zoho_time(self) -> float:
        """Now on Zoho's clock, a little early: what ``modified_after`` may ask for next."""
        http = self.client.http
        margin = OVERLAP if http.server_offset is not None else OVERLAP_OWN_CLOCK
        return http.server_now() - margin

    def _full_read_due(self, seen: Seen | None, now: float) -> str:
        if seen is None:
            return "hrsync has not read this organisation's users before"
        if self.memory.bookmark(APPLYING):
            return "the last apply did not finish"
        if seen.to_read() > MAX_UNSURE:
            return f"{seen.to_read()} users to read again: a full read costs less"
        return seen.due(now, self.full_read_every)

    def _read_groups(self, inv: Inventory) -> None:
        try:
            self._read_departments(inv)
            for desig in self.client.iter_designations():
                inv.designations[desig.name] = desig.id
        except BadRequest as refused:
            # Cliq lists departments only by search when Zoho People manages them.
            log.info("departments cannot be listed (%s): Zoho People manages them", refused)
            inv.groups_by_people = True
        self._add_known_groups(inv)

    def _read_departments(self, inv: Inventory) -> None:
        """The departments; a listing refused for a scope leaves them to a pending action
        (some organisations need the People scope the departments document lists)."""
        try:
            for dept in self.client.iter_departments():
                inv.departments[dept.name] = dept.id
                if dept.is_default:
                    self.base_department_id, self.lead_zuid = dept.id, dept.lead_zuid
        except AuthError as refused:
            if refused.code != SCOPE_REFUSED:
                raise  # the token itself: nothing can be read
            log.warning("Cliq refused to list departments (%s): left as they are", refused)
            scope = DEPARTMENTS_PEOPLE_SCOPE
            inv.departments_unread = (
                "Cliq refused to list departments (GET /api/v2/departments: invalid_oauthscope): "
                f"the Cliq token lacks {scope}, which Zoho's departments document lists beside "
                "ZohoCliq.Departments.READ; until it holds it, hrsync leaves everyone's "
                f"department as Cliq has it: {self.regrant(scope)}"
            )

    def userfields(self, inventory: Inventory) -> bool:
        """List the custom fields again when ``inventory`` holds them as last listed; whether
        they differ from those. A plan that writes one, or waits for one an admin may have
        made since, asks for this: a run with nothing to do needs no listing."""
        if not inventory.userfields_as_seen or self._seen is None:
            return False
        before = inventory.userfields
        self._refresh_userfields(inventory, self._seen)  # saved with the rest by ``applied``
        return inventory.userfields != before

    def _refresh_userfields(self, inv: Inventory, seen: Seen) -> None:
        inv.userfields = {}
        inv.userfields_as_seen = False
        seen.options = self._read_userfields(inv, seen.options)
        seen.fields = [*inv.userfields.values()]

    def _read_userfields(
        self, inv: Inventory, known: dict[str, tuple[str, dict[str, str]]]
    ) -> dict[str, tuple[str, dict[str, str]]]:
        """The custom fields; a drop-down listed without options is asked for them, unless
        they were read before and the field has not changed since (READINGS #13)."""
        options: dict[str, tuple[str, dict[str, str]]] = {}
        for uf in self.client.list_userfields():
            found = {o.name: o.id for o in uf.options}
            if uf.type == "drop_down" and not found:
                before = known.get(uf.id)
                if before is not None and uf.last_modified_time == before[0] != "":
                    found = before[1]
                else:
                    found = {o.name: o.id for o in self.client.get_userfield(uf.id).options}
                options[uf.id] = (uf.last_modified_time, found)
            inv.userfields[uf.unique_name] = UserFieldMeta(uf.unique_name, uf.name, uf.type, found)
        return options

    def _read_all_users(self) -> dict[str, CurrentUser]:
        users: dict[str, CurrentUser] = {}
        unsure: list[str] = []  # users listed without a status
        for item in self.client.iter_user_items():  # converted as they come: no second copy
            current = current_user_of(item)
            users[current.zuid] = current
            if not current.status:
                unsure.append(current.zuid)
        if unsure:
            self._settle_statuses(users, unsure)
        return users

    def _settle_statuses(self, users: dict[str, CurrentUser], zuids: list[str]) -> None:
        """The listing left out ``status``: ask for the inactive and the pending users by
        status, and take the rest as active, rather than guess one for everybody."""
        log.info("Cliq's user listing carries no status; listing inactive and pending users")
        status_of: dict[str, str] = {}
        for status in ("inactive", "pending"):
            status_of.update({u.id: status for u in self.client.iter_users(status=status)})
        for zuid in zuids:
            users[zuid] = replace(users[zuid], status=status_of.get(zuid, "active"))

    def _read_changed_users(self, seen: Seen) -> int:
        """Users Cliq lists as changed since the last read, then those hrsync is unsure of,
        one by one (a user no longer there is forgotten). Returns how many were read."""
        count = 0
        for item in users_changed_since(self.client, self.memory, seen.since()):
            user = CliqUser.model_validate(item)
            count += 1
            current = current_user(user)
            known = seen.users.get(user.id)
            if not current.status and known is not None:  # READINGS #10: no status listed
                current = replace(current, status=known.status)
            seen.users[user.id] = current
            seen.invited.discard(user.email_id.lower())
            if current.status:
                seen.unsure.discard(user.id)
            else:
                seen.unsure.add(user.id)
        for email in sorted(seen.invited):  # invited, never listed: look for them
            count += 1
            for user in self.client.iter_users(search=email):
                if user.email_id.lower() == email:
                    seen.unsure.add(user.id)
            seen.invited.discard(email)
        for zuid in sorted(seen.unsure):
            count += 1
            try:
                seen.users[zuid] = current_user(self.client.get_user(zuid))
            except NotFound:
                seen.users.pop(zuid, None)
            seen.unsure.discard(zuid)
        return count

    def applying(self) -> None:
        """An apply starts: until ``applied``, Cliq may hold what ``seen`` does not."""
        self.memory.save_bookmark(APPLYING, True)

    def applied(
        self,
        inventory: Inventory,
        confirmed: Iterable[Change],
        unsettled: Iterable[Change],
        *,
        links: dict[str, str],
        groups_written: bool,
    ) -> None:
        """The apply finished: its confirmed writes go into what hrsync knows of Cliq, and
        the users of the others are read again next time. The next read asks for changes
        since now, so hrsync's own writes are not listed back to it; a hand edit made while
        this apply ran is found at the next full read."""
        seen = self._seen or Seen.load(self.memory)
        self._seen = None
        if seen is not None:
            seen.read_at, seen.since_at = self.now(), self._zoho_time()
            confirmed, unsettled = list(confirmed), list(unsettled)
            if _touches_groups(confirmed, unsettled):
                seen.groups = None  # created, or a write that failed: list them next time
            sure: list[Change] = []
            unsure = list(unsettled)
            for change in confirmed:
                moved = isinstance(change, UpdateUser) and change.changes.keys() & GROUP_FIELDS
                (unsure if moved and not groups_written else sure).append(change)
            seen.settle(
                sure,
                unsure,
                links=links,
                userfields=inventory.userfields,
                encode=encode,
                read_back=self.read_back,
            )
            seen.save(self.memory)
        if self.teams_read:
            teams = None
            if not self.teams_found:
                teams = settle_teams(
                    inventory.teams, self.created_teams, confirmed, unsettled, links=links
                )
            self.memory.save_bookmark(SEEN_TEAMS, None if teams is None else teams_json(teams))
        self.memory.save_bookmark(APPLYING, None)

    def load_team_members(self, inventory: Inventory, names: Iterable[str]) -> None:
        """List the teams, then fill in the members of the named ones (one listing each).
        Between full reads, the teams and members hrsync last saw, with its own confirmed
        changes, stand in for the listings; a team not seen before is listed."""
        if not inventory.teams:
            cached = seen_teams(self.memory.bookmark(SEEN_TEAMS))
            if cached is not None and self.last_read.kind == "incremental":
                inventory.teams.update(cached)
            else:
                for listed in self.client.iter_teams():
                    inventory.teams[listed.name.strip().lower()] = TeamState(
                        listed.team_id, listed.name
                    )
        for name in sorted({n.strip().lower() for n in names}):
            team = inventory.teams.get(name)
            if team is not None and not team.loaded:
                team.members = set(self.client.iter_team_members(team.id))
                team.loaded = True
        self.memory.save_bookmark(SEEN_TEAMS, teams_json(inventory.teams))
        self.teams_read = True

    def changes(self, inventory: Inventory, plan: Plan, ledger: Ledger) -> CliqChanges:
        """What carries out ``plan``'s changes here, reporting to apply's ``ledger``."""
        return CliqChanges(self, inventory, plan, ledger)

    def set_idle(self, work: Callable[[float], None] | None) -> None:
        """While pacing makes a Cliq call wait, ``work`` may use the time for other APIs."""
        self.client.http.pacer.on_wait = work

    def load_roles(
        self, inventory: Inventory, members_of: Iterable[str], permissions_of: Iterable[str]
    ) -> None:
        """List the roles, then the members and permissions of only the named ones."""
        for role in self.client.roles():
            inventory.roles[role.name.strip().lower()] = RoleState(
                role.id, role.name, role.profile_type, role.description, role.is_default
            )
        for name in sorted({n.strip().lower() for n in members_of}):
            state = inventory.roles.get(name)
            if state is not None:
                state.members = set(self.client.role_users(state.id))
        for name in sorted({n.strip().lower() for n in permissions_of}):
            state = inventory.roles.get(name)
            if state is not None:
                state.permissions = self.client.permissions(state.id)

    def create_role(self, name: str, *, profile_type: str, clone_id: str, description: str) -> str:
        return self.client.create_role(
            name, profile_type=profile_type, clone_id=clone_id, description=description
        ).id

    def update_role(self, role_id: str, *, name: str, description: str) -> None:
        self.client.update_role(role_id, name=name, description=description)

    def set_permissions(self, role_id: str, entries: Sequence[dict[str, Any]]) -> None:
        self.client.set_permissions(role_id, entries)

    def add_role_users(self, role_id: str, zuids: Sequence[str]) -> None:
        self.client.add_role_users(role_id, zuids)

    def remove_role_users(self, role_id: str, zuids: Sequence[str]) -> None:
        self.client.remove_role_users(role_id, zuids)

    def create_team(self, name: str) -> str:
        team_id = self.client.create_team(
            name, description="Kept in step with HR by hrsync"
        ).team_id
        self.created_teams[name.strip().lower()] = TeamState(team_id, name, loaded=True)
        return team_id

    def add_team_members(self, team_id: str, zuids: Sequence[str]) -> None:
        self.client.add_team_members(team_id, zuids)

    def remove_team_members(self, team_id: str, zuids: Sequence[str]) -> None:
        self.client.remove_team_members(team_id, zuids)

    def create_department(self, name: str) -> str:
        return self.client.create_department(
            name, lead_zuid=self.lead_zuid, parent_id=self.base_department_id
        ).id

    def add_department_members(self, department_id: str, zuids: Sequence[str]) -> None:
        self.client.add_department_members(department_id, zuids)

    def add_designation_members(self, designation_id: str, zuids: Sequence[str]) -> None:
        self.client.add_designation_members(designation_id, zuids)

    def create_designation(self, name: str) -> str:
        return self.client.create_designation(name).id

    def invite(self, users: Sequence[dict[str, Any]]) -> AddUsersResult:
        return self.client.add_users(users)

    def ready(self, *endpoints: str) -> bool:
        """Whether calls to ``endpoints`` can go now without waiting for the rate limit."""
        return all(self.client.http.pacer.delay(e) <= 0 for e in endpoints)

    def now(self) -> float:
        return self.client.http.now()

    def zoho_now(self) -> float:
        """Now on Zoho's clock (its answers' Date headers): what its time filters compare."""
        return self.client.http.server_now()

    def invited_since(self, when: float) -> dict[str, str]:
        """Email (lowercased) → zuid of pending users changed since ``when``: the people
        invited since then, in a page or two rather than a listing of everyone pending."""
        found: dict[str, str] = {}
        for item in users_changed_since(self.client, self.memory, when, status="pending"):
            current = current_user_of(item)
            self.read_back[current.zuid] = (
                current if current.status else replace(current, status="pending")
            )
            found[current.email.lower()] = current.zuid
        return found

    def find_users(self, emails: Iterable[str]) -> dict[str, str]:
        """Email (lowercased) → zuid for the given emails: pending users first, then search."""
        wanted = {e.lower() for e in emails}
        found: dict[str, str] = {}
        for user in self.client.iter_users(status="pending"):
            if user.email_id.lower() in wanted:
                found[user.email_id.lower()] = user.id
        for email in sorted(wanted - found.keys()):
            for user in self.client.iter_users(search=email):
                if user.email_id.lower() == email:
                    found[email] = user.id
        return found

    def update_user(self, zuid: str, fields: dict[str, Any], *, email: str) -> AddUsersResult:
        """Send the changed ``fields`` in the body this organisation takes (``learnt``)."""
        return update_in_learnt_body(self.client, self.memory, zuid, fields, email=email)

    def probe_update_body(self, zuid: str) -> str:
        """Settle which update body Cliq takes with one harmless write: the user's first name
        set to what it is. Returns "flat" or "wrapped", also remembered in the store."""
        user = self.client.get_user(zuid)
        self.memory.save_bookmark(UPDATE_BODY, None)
        self.update_user(zuid, {"first_name": user.first_name}, email=user.email_id)
        shape: str = self.memory.bookmark(UPDATE_BODY)
        return shape

    def set_active(self, zuid: str, active: bool) -> None:
        self.client.set_active(zuid, active)


def _touches_groups(confirmed: list[Change], unsettled: list[Change]) -> bool:
    """Whether an apply created a department or designation, or a write naming one was not
    confirmed (Cliq may have said it no longer exists): the listing kept is then stale."""
    created = (CreateDepartment, CreateDesignation)
    if any(isinstance(c, created) for c in confirmed + unsettled):
        return True
    return any(
        isinstance(c, InviteUser) or (isinstance(c, UpdateUser) and c.changes.keys() & GROUP_FIELDS)
        for c in unsettled
    )
