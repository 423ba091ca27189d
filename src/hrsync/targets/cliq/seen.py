"""What hrsync last saw of Cliq's users, kept between runs so a run reads only what changed.

A full read lists every user. In between, a run lists the users Cliq says changed since the
last read (``modified_after``: creation, department, designation, employee id, extension,
reporting-to, work location), reads again the few users hrsync is unsure of, and takes
everything else from here, with hrsync's own confirmed writes already applied. What an admin
changes by hand outside those six fields (a name, a mobile, a deactivation) is drift that the
next full read finds: daily by default, and whenever asked (``--full-read``). The custom
fields are kept too: a run with nothing to do takes them as last listed, and one that would
write a field, or waits for a field or an option an admin may have added since, lists them.

Nothing here is guessed: a user is known as Cliq listed them, or as a confirmed write left
them. A failed, skipped or unanswered write makes that user "unsure", to be read again; an
apply that never finished (a kill, a crash) makes the next read a full one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from hrsync.plural import counted
from hrsync.sync.plan import (
    Change,
    CreateDepartment,
    CreateDesignation,
    CreateTeam,
    DeactivateUser,
    InviteUser,
    ReactivateUser,
    TeamMembers,
    UpdateUser,
)
from hrsync.sync.state import PROFILE_FIELDS, CurrentUser, TeamState, UserFieldMeta

SEEN = "cliq:seen"  # the store bookmark: when last read, who is unsure, the custom fields
# The users themselves, saved apart so a full read, which replaces them, never reads them.
SEEN_USERS = "cliq:seen:users"
SEEN_TEAMS = "cliq:seen:teams"  # teams by lower-cased name: id, name, members if loaded
APPLYING = "cliq:seen:applying"  # set while an apply runs: its writes are not in SEEN yet
# Seconds read twice: a Date header is rounded down to the second; without one, hrsync's own
# clock stands in for Zoho's, and may be a little off.
OVERLAP = 5.0
OVERLAP_OWN_CLOCK = 300.0
HISTORY = 6 * 86_400.0  # Cliq keeps 7 days of modified_after; older means a full read


class Memory(Protocol):
    """Where what hrsync learnt about an organisation is kept (the store's bookmarks)."""

    def bookmark(self, name: str) -> Any: ...
    def save_bookmark(self, name: str, value: Any) -> None: ...


MAX_UNSURE = 50  # more users than this to read one by one: list them all instead


@dataclass(frozen=True, slots=True)
class LastRead:
    """How a run read Cliq's users: "full" (and why) or "incremental"; how many it read."""

    kind: str  # "full", "incremental", or "" before the first read
    why: str
    users: int
    next_full: str = ""  # when the next full read is due, UTC

    def describe(self) -> str:
        if self.kind == "full":
            every = "the" if self.users == 1 else "all"
            return f"Cliq: read {every} {counted(self.users, 'user')} ({self.why})"
        return (
            f"Cliq: read {counted(self.users, 'user')} changed since the last read, the rest as "
            f"last seen; next full read {self.next_full} (or --full-read)"
        )


@dataclass(slots=True)
class Seen:
    """Cliq's users as hrsync last knew them, and when it last looked."""

    full_at: float  # when the last full read started (hrsync's clock)
    read_at: float  # when the last read of any kind started
    since_at: float  # the next read's modified_after, on Zoho's clock (Date headers)
    users: dict[str, CurrentUser] = field(default_factory=dict)  # by zuid, in listing order
    unsure: set[str] = field(default_factory=set)  # zuids to read again
    invited: set[str] = field(default_factory=set)  # emails invited, ids not known yet
    # drop-down options by field id: (the field's last_modified_time, option name -> id)
    options: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    # the custom fields as last listed; None: not kept
    fields: list[UserFieldMeta] | None = None
    # the departments and designations as last listed in whole (with the base department
    # and its lead, whom hrsync never touches); None: not kept, list them
    groups: dict[str, Any] | None = None
    generation: int = 0  # how many times saved: ties the users to the rest in the store

    def to_read(self) -> int:
        """How many users would be read one by one."""
        return len(self.unsure) + len(self.invited)

    def due(self, now: float, full_every: float) -> str:
        """Why the next read must be full ("" when an incremental one will do)."""
        if now - self.full_at >= full_every:
            return f"the last full read was {(now - self.full_at) / 3600:.0f} hours ago"
        if now - self.read_at >= HISTORY:
            return "Cliq keeps changes for 7 days only, and the last read is older"
        return ""

    def since(self) -> float:
        """``modified_after`` for the next read, on Zoho's clock: a clock of hrsync's host
        that is wrong by minutes or months loses no change."""
        return self.since_at

    def save(self, memory: Memory) -> None:
        """Into the store: the users first, then what points at them, so a kill between the
        two leaves a pair that does not match, which reads as nothing kept (a full read)."""
        self.generation += 1
        rows = [_user_row(u) for u in self.users.values()]
        memory.save_bookmark(SEEN_USERS, {"generation": self.generation, "rows": rows})
        memory.save_bookmark(
            SEEN,
            {
                "version": 2,
                "generation": self.generation,
                "full_at": self.full_at,
                "read_at": self.read_at,
                "since_at": self.since_at,
                "unsure": sorted(self.unsure),
                "invited": sorted(self.invited),
                "options": {fid: [mod, opts] for fid, (mod, opts) in self.options.items()},
                "fields": None
                if self.fields is None
                else [[m.unique_name, m.name, m.type, m.options] for m in self.fields],
                "groups": self.groups,
            },
        )

    @classmethod
    def load(cls, memory: Memory, *, users: bool = True) -> Seen | None:
        """What the store keeps, or None; with ``users=False`` only when and what it read,
        without the users themselves (none are kept)."""
        data = memory.bookmark(SEEN)
        if not isinstance(data, Mapping) or data.get("version") != 2:
            return None  # nothing kept, or kept by an older hrsync: read everyone
        listed: Iterable[CurrentUser] = ()
        if users:
            kept = memory.bookmark(SEEN_USERS)
            if not isinstance(kept, Mapping) or kept.get("generation") != data["generation"]:
                return None  # a run stopped between saving the two
            listed = (_user_of(row) for row in kept["rows"])
        fields = data["fields"]
        return cls(
            float(data["full_at"]),
            float(data["read_at"]),
            float(data["since_at"]),
            {u.zuid: u for u in listed},
            set(data["unsure"]),
            set(data["invited"]),
            {fid: (mod, dict(opts)) for fid, (mod, opts) in data["options"].items()},
            None if fields is None else [UserFieldMeta(u, n, t, dict(o)) for u, n, t, o in fields],
            data.get("groups"),
            int(data["generation"]),
        )

    # what a finished apply did --------------------------------------------------------------
    def settle(
        self,
        confirmed: Iterable[Change],
        unsettled: Iterable[Change],
        *,
        links: Mapping[str, str],
        userfields: Mapping[str, UserFieldMeta],
        encode: Any,
        read_back: Mapping[str, CurrentUser],
    ) -> None:
        """Apply's confirmed changes to the users, so the next run need not read them again;
        the users of every change that was not confirmed become unsure. Joiners are taken as
        Cliq listed them after their invitation (``read_back``), or read next time."""
        for change in confirmed:
            zuid = links.get(getattr(change, "employee_id", ""), "")
            user = self.users.get(zuid)
            if isinstance(change, InviteUser):
                if zuid in read_back:
                    self.users[zuid] = read_back[zuid]
                elif zuid:
                    self.unsure.add(zuid)
                else:
                    self.invited.add(change.email.lower())
            elif user is None:
                if zuid:
                    self.unsure.add(zuid)
            elif isinstance(change, DeactivateUser):
                self.users[zuid] = replace(user, status="inactive")
            elif isinstance(change, ReactivateUser):
                self.users[zuid] = replace(user, status="active")
            elif isinstance(change, UpdateUser):
                updated = _updated(user, change, links, userfields, encode)
                if updated is None:
                    self.unsure.add(zuid)
                else:
                    self.users[zuid] = updated
        for change in unsettled:
            if isinstance(change, CreateDepartment | CreateDesignation):
                continue
            zuid = links.get(getattr(change, "employee_id", ""), "")
            if zuid:
                self.unsure.add(zuid)


def _updated(
    user: CurrentUser,
    change: UpdateUser,
    links: Mapping[str, str],
    userfields: Mapping[str, UserFieldMeta],
    encode: Any,
) -> CurrentUser | None:
    """``user`` as Cliq shows them after ``change``; None when that is not certain."""
    fields, custom = dict(user.fields), dict(user.custom)
    department, designation, manager = user.department, user.designation, user.manager_zuid
    for name, (_, new) in change.changes.items():
        if name in PROFILE_FIELDS:
            fields[name] = new
        elif name == "department":
            department = new
        elif name == "designation":
            designation = new
        elif name == "reporting_to":
            manager = links.get(new, "") if new else ""
            if new and not manager:
                return None
        elif (meta := userfields.get(name)) is not None:
            try:
                custom[name] = str(encode(meta, new))
            except ValueError:
                return None
        else:
            return None
    return replace(
        user,
        fields=fields,
        custom=custom,
        department=department,
        designation=designation,
        manager_zuid=manager,
    )


def _user_row(user: CurrentUser) -> list[Any]:
    return [
        user.zuid,
        user.status,
        [user.fields.get(name, "") for name in PROFILE_FIELDS],
        user.department,
        user.designation,
        user.manager_zuid,
        user.custom,
    ]


def _user_of(row: list[Any]) -> CurrentUser:
    zuid, status, values, department, designation, manager, custom = row
    return CurrentUser(
        zuid=zuid,
        status=status,
        fields=dict(zip(PROFILE_FIELDS, values, strict=True)),
        department=department,
        designation=designation,
        manager_zuid=manager,
        custom=custom,
    )


# teams -------------------------------------------------------------------------------------
def teams_json(teams: Mapping[str, TeamState]) -> dict[str, Any]:
    return {
        key: [t.id, t.name, t.loaded, sorted(t.members) if t.loaded else []]
        for key, t in teams.items()
    }


def seen_teams(data: Any) -> dict[str, TeamState] | None:
    if not isinstance(data, Mapping):
        return None
    return {
        key: TeamState(tid, name, set(members), loaded)
        for key, (tid, name, loaded, members) in data.items()
    }


def settle_teams(
    teams: Mapping[str, TeamState],
    created: Mapping[str, TeamState],
    confirmed: Iterable[Change],
    unsettled: Iterable[Change],
    *,
    links: Mapping[str, str],
) -> dict[str, TeamState] | None:
    """The teams after an apply's confirmed changes; None (list them again next time) when
    a team change was not confirmed, or a member's Cliq id is not known."""
    after = {key: replace(t, members=set(t.members)) for key, t in teams.items()}
    after.update({key: replace(t, members=set()) for key, t in created.items()})
    if any(isinstance(c, TeamMembers | CreateTeam) for c in unsettled):
        return None
    for change in confirmed:
        if isinstance(change, TeamMembers):
            names, people = [change.team], change.employee_ids
        elif isinstance(change, InviteUser) and change.teams:
            names, people = change.teams, [change.employee_id]
        else:
            continue
        zuids = {links.get(eid, "") for eid in people}
        if "" in zuids:
            return None
        for name in names:
            team = after.get(name.strip().lower())
            if team is None:
                continue
            if not isinstance(change, TeamMembers) or change.join:
                team.members |= zuids
            else:
                team.members -= zuids
    return after
