"""Both sides of a diff in sync terms: what HR wants and what Cliq has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hrsync.model import NOTHING, ScopeOutcome

# Cliq user fields hrsync keeps in step, as Cliq names them (reporting-to, department and
# designation are handled apart because they are references, not text).
PROFILE_FIELDS: tuple[str, ...] = (
    "email_id",
    "first_name",
    "last_name",
    "display_name",
    "mobile",
    "phone",
    "extension",
    "work_location",
    "employee_id",
)


@dataclass(frozen=True, slots=True)
class UserFieldMeta:
    """A Cliq custom user field as the diff needs it: how to write a value into it."""

    unique_name: str
    name: str
    type: str  # text_field | date_picker | drop_down | number | url (and system types)
    options: dict[str, str] = field(default_factory=dict)  # option name -> option id


@dataclass(frozen=True, slots=True)
class DesiredUser:
    """One employee as Cliq should show them."""

    employee_id: str
    active: bool
    fields: dict[str, str]  # PROFILE_FIELDS -> value
    department: str | None = None  # a name; None leaves Cliq's value alone
    designation: str | None = None
    manager_id: str = ""  # the manager's employee id; "" for none
    depth: int = 0  # distance from the top of the hierarchy (managers are invited first)
    # Cliq custom field (unique name or label, as configured) -> HR value; dates in ISO form
    custom: dict[str, str] = field(default_factory=dict)
    teams: frozenset[str] = NOTHING  # Cliq teams the rules put this person in
    connect_groups: frozenset[str] = NOTHING  # Zoho Connect groups likewise
    role: str = ""  # the Cliq role the first matching rule names; "" leaves the role alone
    # What to leave exactly as Cliq has it, because the HR value behind it is broken or
    # absent: profile field names, "reporting_to", "teams", "connect_groups", "role", and
    # custom field references.
    keep: frozenset[str] = NOTHING

    @property
    def email(self) -> str:
        return self.fields["email_id"]


@dataclass(slots=True)
class DesiredState:
    users: dict[str, DesiredUser] = field(default_factory=dict)  # by employee id
    # Employee id -> where its broken HR record is: left exactly as Cliq has them.
    held: dict[str, str] = field(default_factory=dict)
    complete: bool = True  # False: absence from the feed proves nothing this run
    starting: dict[str, dt.date] = field(default_factory=dict)  # joiners not invited yet
    scope: ScopeOutcome | None = None  # who the [scope] left out, and what becomes of them

    def departments(self) -> set[str]:
        return {u.department for u in self.users.values() if u.active and u.department}

    def designations(self) -> set[str]:
        return {u.designation for u in self.users.values() if u.active and u.designation}

    def teams(self) -> set[str]:
        return {t for u in self.users.values() if u.active for t in u.teams}

    def deciding(self, what: str) -> list[DesiredUser]:
        """Active people whose ``what`` ("teams", "connect_groups", "role") HR decides now."""
        return [u for u in self.users.values() if u.active and what not in u.keep]


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """A Cliq user as the inventory found it."""

    zuid: str
    status: str  # active | inactive | pending
    fields: dict[str, str]
    department: str = ""
    designation: str = ""
    manager_zuid: str = ""
    custom: dict[str, str] = field(default_factory=dict)  # unique name -> value as Cliq sent it

    @property
    def email(self) -> str:
        return self.fields.get("email_id", "")

    @property
    def employee_id(self) -> str:
        return self.fields.get("employee_id", "")


@dataclass(slots=True)
class TeamState:
    """A Cliq team and, when loaded, its members' zuids."""

    id: str
    name: str
    members: set[str] = field(default_factory=set)
    loaded: bool = False


@dataclass(slots=True)
class RoleState:
    """A Cliq role; ``members`` and ``permissions`` are filled in only when needed."""

    id: str
    name: str
    profile_type: str
    description: str = ""
    is_default: bool = False
    members: set[str] = field(default_factory=set)  # zuids
    permissions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A role as the configuration declares it."""

    name: str
    profile_type: str = "Members"
    clone_of: str = ""
    description: str = ""
    permissions: tuple[tuple[tuple[str, Any], ...], ...] = ()  # entries, as sorted items

    def entries(self) -> list[dict[str, Any]]:
        return [dict(e) for e in self.permissions]


@dataclass(slots=True)
class ConnectState:
    """Zoho Connect's groups, and the memberships hrsync created in them."""

    groups: dict[str, str] = field(default_factory=dict)  # lower-cased name -> group id
    managed: dict[str, set[str]] = field(default_factory=dict)  # lower name -> employee ids


@dataclass(slots=True)
class Inventory:
    """Cliq's current state: users, departments and designations by name."""

    users: list[CurrentUser] = field(default_factory=list)
    departments: dict[str, str] = field(default_factory=dict)  # name -> id
    designations: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)  # zuids never touched (admins, allow-list)
    userfields: dict[str, UserFieldMeta] = field(default_factory=dict)  # by unique name
    userfields_as_seen: bool = False  # True: as last listed, not listed by this run
    groups_as_seen: bool = False  # True: departments and designations as last listed
    # Zoho People manages this org's departments and designations: Cliq refuses writes.
    groups_by_people: bool = False
    # "departments", "designations": listings that may have stopped short of the whole (a
    # listing of one page ends as a paged one would when it holds a multiple of a page).
    groups_partial: set[str] = field(default_factory=set)
    # Why Cliq's departments could not be listed (a pending action; "" when they were):
    # everyone's department is then left as Cliq has it.
    departments_unread: str = ""
    teams: dict[str, TeamState] = field(default_factory=dict)  # by lower-cased name
    connect: ConnectState | None = None  # None: Zoho Connect is not part of this sync
    roles: dict[str, RoleState] = field(default_factory=dict)  # by lower-cased name
    full_read: bool = True  # False: users are what hrsync knew, plus what Cliq says changed
    read: str = ""  # how the users were read, in a line for people

    def role(self, name: str) -> RoleState | None:
        return self.roles.get(name.strip().lower())

    def team(self, name: str) -> TeamState | None:
        return self.teams.get(name.strip().lower())

    def userfield(self, ref: str) -> UserFieldMeta | None:
        """A custom field by unique name, or else by its label (case does not matter)."""
        wanted = ref.strip().lower()
        for meta in self.userfields.values():
            if meta.unique_name.lower() == wanted:
                return meta
        return next((m for m in self.userfields.values() if m.name.lower() == wanted), None)

    def department_id(self, name: str) -> str | None:
        return _by_name(self.departments, name)

    def designation_id(self, name: str) -> str | None:
        return _by_name(self.designations, name)


def _by_name(table: dict[str, str], name: str) -> str | None:
    if name in table:
        return table[name]
    lowered = name.lower()
    return next((v for k, v in table.items() if k.lower() == lowered), None)
