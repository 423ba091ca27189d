"""Changes and plans: data that describes itself in one line and as the request it sends."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from hrsync import jsontext
from hrsync.model import RecordError


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan. ``key`` identifies it across plans and in the journal."""

    kind: ClassVar[str] = "change"
    endpoint: ClassVar[str] = ""

    @property
    def key(self) -> str:
        raise NotImplementedError

    def describe(self, *, done: bool) -> str:
        raise NotImplementedError

    def for_log(self) -> str:
        """The change done, for a log line: people by employee id, fields by name, never
        an email or a value (those go to the journal, and to DEBUG lines only)."""
        return self.describe(done=True)

    def to_dict(self) -> dict[str, Any]:
        """The change as JSON data (its fields hold only JSON values: no deep copy needed)."""
        return {"kind": self.kind, **{name: getattr(self, name) for name in _names(type(self))}}

    def encoded(self) -> str:
        """The change as canonical JSON text: what the fingerprint digests and the journal
        keeps, encoded once for both."""
        return jsontext.dumps(self.to_dict(), sort_keys=True)


_NAMES: dict[type[Change], tuple[str, ...]] = {}
FINGERPRINT_SLICE = 1000  # changes encoded at a time for the fingerprint


def _names(kind: type[Change]) -> tuple[str, ...]:
    """A change type's field names, looked up once rather than once per change."""
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


@dataclass(frozen=True, slots=True)
class CreateDepartment(Change):
    kind: ClassVar[str] = "create_department"
    endpoint: ClassVar[str] = "departments"
    name: str

    @property
    def key(self) -> str:
        return f"department:{self.name.lower()}"

    def describe(self, *, done: bool) -> str:
        return f"{'Created' if done else 'Would create'} department {self.name!r}"


@dataclass(frozen=True, slots=True)
class CreateDesignation(Change):
    kind: ClassVar[str] = "create_designation"
    endpoint: ClassVar[str] = "designations"
    name: str

    @property
    def key(self) -> str:
        return f"designation:{self.name.lower()}"

    def describe(self, *, done: bool) -> str:
        return f"{'Created' if done else 'Would create'} designation {self.name!r}"


@dataclass(frozen=True, slots=True)
class CreateTeam(Change):
    """A rule-driven team that does not exist yet."""

    kind: ClassVar[str] = "create_team"
    endpoint: ClassVar[str] = "teams"
    name: str

    @property
    def key(self) -> str:
        return f"team:{self.name.lower()}"

    def describe(self, *, done: bool) -> str:
        return f"{'Created' if done else 'Would create'} team {self.name!r}"


@dataclass(frozen=True, slots=True)
class TeamMembers(Change):
    """People joining (or leaving) a rule-driven team; at most 100 to a change, one call."""

    kind: ClassVar[str] = "team_members"
    endpoint: ClassVar[str] = "teams"
    team: str
    employee_ids: list[str]
    join: bool = True

    @property
    def key(self) -> str:
        return _members_key("team", self.team, self.employee_ids, self.join)

    def describe(self, *, done: bool) -> str:
        people = _people(self.employee_ids)
        if self.join:
            verb = "Added" if done else "Would add"
            return f"{verb} {people} to team {self.team!r}"
        verb = "Removed" if done else "Would remove"
        return f"{verb} {people} from team {self.team!r}"


@dataclass(frozen=True, slots=True)
class CreateConnectGroup(Change):
    """A rule-driven Zoho Connect group that does not exist yet."""

    kind: ClassVar[str] = "create_connect_group"
    endpoint: ClassVar[str] = "connect"
    name: str

    @property
    def key(self) -> str:
        return f"connect_group:{self.name.lower()}"

    def describe(self, *, done: bool) -> str:
        return f"{'Created' if done else 'Would create'} Connect group {self.name!r}"


@dataclass(frozen=True, slots=True)
class ConnectMembers(Change):
    """People joining a Connect group (by email, 100 to a call) or one person leaving it."""

    kind: ClassVar[str] = "connect_members"
    endpoint: ClassVar[str] = "connect"
    group: str
    employee_ids: list[str]
    emails: list[str]
    join: bool = True

    @property
    def key(self) -> str:
        return _members_key("connect_group", self.group, self.employee_ids, self.join)

    def describe(self, *, done: bool) -> str:
        if not self.join:
            verb = "Removed" if done else "Would remove"
            return f"{verb} {self.emails[0]} from Connect group {self.group!r}"
        verb = "Added" if done else "Would add"
        people = _people(self.employee_ids)
        return f"{verb} {people} to Connect group {self.group!r}"

    def for_log(self) -> str:
        if not self.join:
            return f"Removed employee {self.employee_ids[0]} from Connect group {self.group!r}"
        return self.describe(done=True)


@dataclass(frozen=True, slots=True)
class CreateRole(Change):
    """A declared Cliq role that does not exist yet; its permissions are set right after."""

    kind: ClassVar[str] = "create_role"
    endpoint: ClassVar[str] = "roles"
    name: str
    profile_type: str
    clone_of: str = ""
    description: str = ""
    permissions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"role:{self.name.lower()}"

    def describe(self, *, done: bool) -> str:
        like = f" like {self.clone_of!r}" if self.clone_of else ""
        verb = "Created" if done else "Would create"
        return f"{verb} role {self.name!r} ({self.profile_type}{like})"


@dataclass(frozen=True, slots=True)
class UpdateRole(Change):
    """A declared role whose description or permissions drifted from the configuration."""

    kind: ClassVar[str] = "update_role"
    endpoint: ClassVar[str] = "roles"
    name: str
    description: str | None = None  # None: leave it
    permissions: list[dict[str, Any]] = field(default_factory=list)  # entries to set again

    @property
    def key(self) -> str:
        return f"role:{self.name.lower()}:update"

    def describe(self, *, done: bool) -> str:
        what = [f"{len(self.permissions)} permission(s)"] if self.permissions else []
        if self.description is not None:
            what.append("description")
        return f"{'Updated' if done else 'Would update'} role {self.name!r}: {', '.join(what)}"


@dataclass(frozen=True, slots=True)
class RoleMembers(Change):
    """People moved into a role by the rules, or (``join`` false) back to Members."""

    kind: ClassVar[str] = "role_members"
    endpoint: ClassVar[str] = "roles.users"
    role: str
    employee_ids: list[str]
    join: bool = True

    @property
    def key(self) -> str:
        return _members_key("role", self.role, self.employee_ids, self.join)

    def describe(self, *, done: bool) -> str:
        people = _people(self.employee_ids)
        if self.join:
            return f"{'Gave' if done else 'Would give'} {people} the role {self.role!r}"
        verb = "Took" if done else "Would take"
        return f"{verb} the role {self.role!r} from {people} (back to Members)"


@dataclass(frozen=True, slots=True)
class InviteUser(Change):
    """A joiner: invited with their whole profile in the invitation itself."""

    kind: ClassVar[str] = "invite"
    endpoint: ClassVar[str] = "users.add"
    employee_id: str
    fields: dict[str, str]
    department: str | None = None
    designation: str | None = None
    manager_id: str = ""
    depth: int = 0
    custom: dict[str, str] = field(default_factory=dict)  # custom field (unique name) -> HR value
    teams: list[str] = field(default_factory=list)  # rule-driven teams, joined by the invite
    role: str = ""  # the rule-driven role, given as soon as the invitation has an id

    @property
    def key(self) -> str:
        return f"user:{self.employee_id}:invite"

    @property
    def email(self) -> str:
        return self.fields["email_id"]

    def describe(self, *, done: bool) -> str:
        return f"{'Invited' if done else 'Would invite'} {self.email} (employee {self.employee_id})"

    def for_log(self) -> str:
        return f"Invited employee {self.employee_id}"


@dataclass(frozen=True, slots=True)
class LinkUser(Change):
    """An existing Cliq user that matches an employee: adopt it instead of inviting."""

    kind: ClassVar[str] = "link"
    employee_id: str
    email: str
    reason: str

    @property
    def key(self) -> str:
        return f"user:{self.employee_id}:link"

    def describe(self, *, done: bool) -> str:
        verb = "Adopted" if done else "Would adopt"
        who = f"existing Cliq user {self.email} for employee {self.employee_id}"
        return f"{verb} {who} ({self.reason})"

    def for_log(self) -> str:
        return f"Adopted an existing Cliq user for employee {self.employee_id}"


@dataclass(frozen=True, slots=True)
class UpdateUser(Change):
    """A mover or a profile edit: only the changed fields are sent."""

    kind: ClassVar[str] = "update"
    endpoint: ClassVar[str] = "users.update"
    employee_id: str
    email: str  # the email after the change
    # field -> [old, new]; reporting_to is [old manager's email, new manager's employee id]
    changes: dict[str, list[str]]
    manager_email: str = ""  # the new manager's, for people to read

    @property
    def key(self) -> str:
        return f"user:{self.employee_id}:update"

    def describe(self, *, done: bool) -> str:
        parts = []
        for name, (old, new) in sorted(self.changes.items()):
            if name == "reporting_to":
                new = self.manager_email or new
            parts.append(f"{name} {_shown(old)} → {_shown(new)}")
        return f"{'Updated' if done else 'Would update'} {self.email}: {', '.join(parts)}"

    def for_log(self) -> str:
        return f"Updated employee {self.employee_id}: {', '.join(sorted(self.changes))}"


def _members_key(kind: str, group: str, employee_ids: list[str], join: bool) -> str:
    digest = hashlib.sha256(",".join(employee_ids).encode()).hexdigest()[:12]
    return f"{kind}:{group.lower()}:{'join' if join else 'leave'}:{digest}"


def _people(employee_ids: list[str]) -> str:
    """``3 people (E1, E2, E3)``; the first three ids name a longer list."""
    who = ", ".join(employee_ids[:3]) + (" …" if len(employee_ids) > 3 else "")
    n = len(employee_ids)
    return f"{n} {'person' if n == 1 else 'people'} ({who})"


def _shown(value: str) -> str:
    return repr(value) if value else "(none)"


@dataclass(frozen=True, slots=True)
class DeactivateUser(Change):
    """A leaver: deactivated, never deleted."""

    kind: ClassVar[str] = "deactivate"
    endpoint: ClassVar[str] = "users.update"
    employee_id: str
    email: str
    reason: str

    @property
    def key(self) -> str:
        return f"user:{self.employee_id}:deactivate"

    def describe(self, *, done: bool) -> str:
        return f"{'Deactivated' if done else 'Would deactivate'} {self.email} ({self.reason})"

    def for_log(self) -> str:
        return f"Deactivated employee {self.employee_id}"


@dataclass(frozen=True, slots=True)
class ReactivateUser(Change):
    """A rehire: the same Cliq user comes back; never a second invitation."""

    kind: ClassVar[str] = "reactivate"
    endpoint: ClassVar[str] = "users.update"
    employee_id: str
    email: str

    @property
    def key(self) -> str:
        return f"user:{self.employee_id}:reactivate"

    def describe(self, *, done: bool) -> str:
        return f"{'Reactivated' if done else 'Would reactivate'} {self.email} (rehire)"

    def for_log(self) -> str:
        return f"Reactivated employee {self.employee_id} (rehire)"


CHANGE_TYPES: dict[str, type[Change]] = {
    c.kind: c
    for c in (
        CreateDepartment,
        CreateDesignation,
        CreateTeam,
        TeamMembers,
        CreateConnectGroup,
        ConnectMembers,
        CreateRole,
        UpdateRole,
        RoleMembers,
        InviteUser,
        LinkUser,
        UpdateUser,
        DeactivateUser,
        ReactivateUser,
    )
}


def change_from_dict(data: dict[str, Any]) -> Change:
    values = dict(data)
    kind = CHANGE_TYPES[values.pop("kind")]
    known = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in values.items() if k in known})


@dataclass(slots=True)
class Plan:
    """What a run would do, with the problems found on the way."""

    changes: list[Change] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What an admin must do before part of the plan can happen (a missing custom field…).
    pending: list[str] = field(default_factory=list)
    managed_users: int = 0
    # Canonical fields whose column the export lost (there last run, or mapped in the
    # configuration): left as Cliq has them, and the run is held until the admin confirms.
    lost_columns: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # keys of changes that undo hand edits
    # Employee id → the Cliq user (zuid) of everyone the plan's changes name who is in Cliq
    # already: the changes name people by employee id, and the target finds them here.
    known_users: dict[str, str] = field(default_factory=dict)
    cliq_read: str = ""  # how Cliq's users were read: "full: why" or "incremental: …"
    # Keys of changes held back as stalled: made 3 times, each "done", Cliq still differs.
    stalled: list[str] = field(default_factory=list)
    # Employee id → why not: people HR events named whom hrsync cannot sync (the others go on).
    refused: dict[str, str] = field(default_factory=dict)
    # The [scope]'s counts per rule, and who left it (``sync/left_scope.py``); {}: no scope.
    scope: dict[str, Any] = field(default_factory=dict)

    def of(self, change_type: type[Change]) -> list[Any]:
        return [c for c in self.changes if isinstance(c, change_type)]

    def counts(self) -> dict[str, int]:
        return dict(Counter(c.kind for c in self.changes))

    def api_calls(self) -> dict[str, int]:
        """The calls this plan needs per endpoint group (``sync/estimate.py``)."""
        from hrsync.sync.estimate import api_calls

        return api_calls(self)

    def encoded(self) -> list[str]:
        """Every change as ``Change.encoded`` text, in plan order."""
        return [c.encoded() for c in self.changes]

    def fingerprint(self, encoded: Sequence[str] | None = None) -> str:
        """A digest of the changes; a saved plan applies only while it still matches.
        ``encoded``: the changes already encoded (``encoded()``), so as not to again."""
        texts = sorted(self.encoded() if encoded is None else encoded)
        # The digest of ``json.dumps(texts)``, fed a slice at a time: at 100,000 changes the
        # whole text would be a few hundred megabytes at once.
        digest = hashlib.sha256(b"[")
        for start in range(0, len(texts), FINGERPRINT_SLICE):
            if start:
                digest.update(b", ")
            digest.update(json.dumps(texts[start : start + FINGERPRINT_SLICE])[1:-1].encode())
        digest.update(b"]")
        return digest.hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        drift = set(self.drift)
        return {
            "fingerprint": self.fingerprint(),
            "counts": self.counts(),
            "api_calls": self.api_calls(),
            "changes": [
                c.to_dict() | {"summary": c.describe(done=False), "drift": c.key in drift}
                for c in self.changes
            ],
            "errors": [
                {
                    "where": e.where,
                    "employee_id": e.employee_id,
                    "field": e.field,
                    "message": e.message,
                }
                for e in self.errors
            ],
            "notes": list(self.notes),
            "pending": list(self.pending),
            "managed_users": self.managed_users,
            "known_users": dict(self.known_users),
            "cliq_read": self.cliq_read,
            "stalled": list(self.stalled),
            "scope": dict(self.scope),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        changes, drift = [], []
        for item in data.get("changes", []):
            change = change_from_dict(
                {k: v for k, v in item.items() if k not in ("summary", "drift")}
            )
            changes.append(change)
            if item.get("drift"):
                drift.append(change.key)
        return cls(
            changes=changes,
            drift=drift,
            notes=list(data.get("notes", [])),
            pending=list(data.get("pending", [])),
            managed_users=int(data.get("managed_users", 0)),
            known_users=dict(data.get("known_users", {})),
            cliq_read=str(data.get("cliq_read", "")),
            stalled=list(data.get("stalled", [])),
            scope=dict(data.get("scope", {})),
        )
