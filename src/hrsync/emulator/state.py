"""The emulated Zoho organisation: users, departments, designations, teams, roles, fields."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from hrsync.emulator.connect_data import Network
from hrsync.emulator.people_data import People

ORG_ID = "631836344"
ZOID = "54107592"


class IdSource:
    """Zoho-looking ids: 9-digit zuids for users, 19-digit ids for other objects."""

    def __init__(self) -> None:
        self._zuid = itertools.count(700_000_001)
        self._object = itertools.count(1)

    def zuid(self) -> str:
        return str(next(self._zuid))

    def object_id(self) -> str:
        return f"19013180000{next(self._object):08d}"


# Every role starts with these modules; roles clone them (the roles document's names).
DEFAULT_PERMISSIONS: dict[str, Any] = {
    "extensions": {"is_admin_module": True, "status": "enabled", "actions": {"manage": "enabled"}},
    "user_status": {"is_admin_module": False, "status": "enabled"},
    "guest_chat": {"is_admin_module": False, "status": "enabled"},
    "channels": {"is_admin_module": False, "status": "enabled", "actions": {"create": "enabled"}},
    "group_audio_call": {
        "is_admin_module": False,
        "status": "enabled",
        "actions": {"start": "enabled"},
    },
    "organisation_member": {
        "is_admin_module": False,
        "status": "enabled",
        "actions": {"attachments": "enabled"},
    },
    "direct_message": {
        "is_admin_module": False,
        "status": "enabled",
        "configs": {"profile_based_restricted_reply_time_frame": 0},
    },
}


# The fields whose changes ``GET /users?modified_after`` counts, as the users document lists
# them: "Department, Designation, Employee ID, Extension, Reporting To, and Work Location".
# ``User.modified`` moves only when one of them does (or when the user is created).
WATCHED = (
    "department_id",
    "designation_id",
    "employee_id",
    "extension",
    "reporting_to",
    "work_location",
)


def watched(user: User) -> tuple[str, ...]:
    return tuple(getattr(user, name) for name in WATCHED)


@dataclass
class User:
    """A Cliq user, with the fields of the documented get-user response."""

    id: str
    email_id: str
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    phone: str = ""
    mobile: str = ""
    timezone: str = "Asia/Kolkata"
    language: str = "en"
    country: str = ""
    designation_id: str = ""
    department_id: str = ""
    reporting_to: str = ""
    work_location: str = ""
    extension: str = ""
    employee_id: str = ""
    status: str = "pending"  # active | inactive | pending
    custom: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    modified: float = 0.0
    invited_at: float = 0.0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email_id


@dataclass
class Department:
    id: str
    name: str
    lead_zuid: str
    parent_department_id: str = ""
    is_default: bool = False


@dataclass
class Designation:
    id: str
    name: str


@dataclass
class Team:
    id: int
    name: str
    description: str = ""
    created: float = 0.0
    members: set[str] = field(default_factory=set)  # zuids
    moderators: set[str] = field(default_factory=set)  # zuids


@dataclass
class Role:
    id: str
    name: str
    profile_type: str
    description: str = ""
    is_default: bool = False
    permissions: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    modified: float = 0.0


@dataclass
class UserField:
    id: str
    name: str
    unique_name: str
    type: str  # text_field | date | drop_down | ...
    options: list[dict[str, str]] = field(default_factory=list)
    mandatory: bool = False
    created: float = 0.0
    modified: float = 0.0


@dataclass(frozen=True, slots=True)
class Presence:
    """A status: availability code and message (ids are numbers in Zoho's answers)."""

    id: int
    code: str
    message: str


@dataclass
class ChannelMessage:
    """A message posted in a channel: who sent it, when, and its text."""

    sender: str  # zuid
    time: float
    text: str


@dataclass
class Channel:
    """A Cliq channel, known to the message API by its unique name."""

    unique_name: str
    name: str
    participants: set[str] = field(default_factory=set)  # zuids
    messages: list[ChannelMessage] = field(default_factory=list)


@dataclass
class Org:
    """One Cliq organisation and its admin (the owner of every OAuth token)."""

    ids: IdSource
    users: dict[str, User] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    designations: dict[str, Designation] = field(default_factory=dict)
    teams: dict[int, Team] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    role_of: dict[str, str] = field(default_factory=dict)  # zuid -> role id
    userfields: dict[str, UserField] = field(default_factory=dict)
    # Emails that hold a Cliq account in another organisation, or rejected invitations.
    foreign_accounts: set[str] = field(default_factory=set)
    blocked_emails: set[str] = field(default_factory=set)
    # When Zoho People manages departments and designations, Cliq refuses writes to them.
    people_managed: bool = False
    # Seconds after which a pending invitation is accepted; None means never by itself.
    accept_after: float | None = None
    admin_id: str = ""
    people: People = field(default_factory=People)  # Zoho People's forms for the same org
    connect: Network = field(default_factory=Network)  # the Zoho Connect network
    statuses: dict[str, dict[int, Presence]] = field(default_factory=dict)  # zuid -> saved
    current_status: dict[str, Presence] = field(default_factory=dict)
    transient: dict[str, tuple[Presence, float]] = field(default_factory=dict)  # until epoch s
    channels: dict[str, Channel] = field(default_factory=dict)  # by unique name
    _by_email: dict[str, str] = field(default_factory=dict)  # lower-cased email -> zuid

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self._by_email[user.email_id.lower()] = user.id
        invited = "email:" + user.email_id.lower()  # Connect invitations become the account
        for group in self.connect.groups.values():
            for members in (group.members, group.admins):
                if invited in members:
                    members.discard(invited)
                    members.add(user.id)

    def change_email(self, user: User, email: str) -> None:
        self._by_email.pop(user.email_id.lower(), None)
        user.email_id = email
        self._by_email[email.lower()] = user.id

    def user_by_email(self, email: str) -> User | None:
        zuid = self._by_email.get(email.lower())
        return self.users.get(zuid) if zuid else None

    def default_department(self) -> Department:
        return next(d for d in self.departments.values() if d.is_default)

    def default_role(self, profile_type: str) -> Role:
        return next(
            r for r in self.roles.values() if r.is_default and r.profile_type == profile_type
        )


def new_org(now: float) -> Org:
    """An organisation as a new Cliq admin finds it: one admin, one department, two roles."""
    org = Org(ids=IdSource())
    admin = User(
        id=org.ids.zuid(),
        email_id="admin@zylker.example",
        first_name="Org",
        last_name="Admin",
        display_name="Org Admin",
        status="active",
        created=now,
        modified=now,
    )
    org.admin_id = admin.id
    org.add_user(admin)
    base = Department(org.ids.object_id(), "Zylker", admin.id, is_default=True)
    org.departments[base.id] = base
    admin.department_id = base.id
    for name in ("Admin", "Members"):
        role = Role(org.ids.object_id(), name, name, is_default=True, created=now, modified=now)
        role.permissions = copy.deepcopy(DEFAULT_PERMISSIONS)
        org.roles[role.id] = role
    org.role_of[admin.id] = org.default_role("Admin").id
    for unique_name, name, kind, options in (
        ("date_of_birth", "Date of Birth", "date_picker", []),
        ("gender", "Gender", "drop_down", ["Male", "Female", "Non-binary", "Not disclosed"]),
        ("office_location", "Work Location", "text_field", []),
    ):
        uf = UserField(org.ids.object_id(), name, unique_name, kind, created=now, modified=now)
        uf.options = [{"name": o, "id": org.ids.object_id()} for o in options]
        org.userfields[uf.id] = uf
    return org
