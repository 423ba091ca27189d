"""Doctor's Cliq findings: is every listing hrsync reads there, in the shape it reads?

One page of each listing (users with ``fields=all``, departments, designations, teams, user
fields, roles), the options of the drop-downs hrsync writes, the permissions of the roles the
configuration names, and whether the account behind the token holds an admin role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from hrsync.api.cliq import CliqUser, Department, Role, Team, UserField, UserFieldOption
from hrsync.config import Settings
from hrsync.doctor.checks import Check, failed, noted, passed
from hrsync.doctor.reads import Reader, Refused
from hrsync.errors import BadRequest
from hrsync.plural import counted
from hrsync.sync.mapping import DATE_TYPES

# The scopes hrsync asks for (access/services.py); a held ``….ALL`` covers reading.
USERS = "ZohoCliq.Users.ALL"
DEPARTMENTS = "ZohoCliq.Departments.ALL"
DESIGNATIONS = "ZohoCliq.Designations.ALL"
TEAMS = "ZohoCliq.Teams.ALL"
ORGANISATION = "ZohoCliq.Organisation.ALL"
# What Zoho's departments document lists for the listing; some organisations refuse it
# without the People scope, and a refusal does not say which of the two is missing.
PEOPLE_EMPLOYEE = "ZohoPeople.employee.READ"
DEPARTMENT_SCOPES = f"{DEPARTMENTS}, {PEOPLE_EMPLOYEE}"
PEOPLE_OWNS_THEM = "none needed: hrsync leaves departments and designations as Zoho People has them"

SAMPLE = 25  # users read to see the listing's shape
BRIEF_KEYS = {"email_id", "zuid", "zoid", "display_name", "name", "organization_id", "id"}
WORK_KEYS = ("status", "department", "designation", "reportingto")
# User-field types of Cliq's user-fields document (READINGS #12), custom then system.
WRITABLE_TYPES = ("text_field", "number", "url", "drop_down", *DATE_TYPES)
SYSTEM_TYPES = ("employee_id", "phone_number", "name_format", "email_id", "time_zone")
KNOWN_TYPES = (*WRITABLE_TYPES, *SYSTEM_TYPES)
ADMIN_TYPES = ("Admin", "Cliq Admin")  # the roles document's profile types with admin access
UNREADABLE = "hrsync cannot read this answer yet: open an issue with this line"


class CliqChecks:
    """The Cliq findings, in the order an admin would fix them."""

    def __init__(self, reader: Reader, settings: Settings, *, admin_email: str = "") -> None:
        self.reader = reader
        self.settings = settings
        self.admin_email = admin_email.strip()
        self.owner = ""  # the organisation's owner leads the base department
        self.emails: dict[str, str] = {}  # zuid -> email, of the users read
        self.roles: list[Role] | None = None
        # What the readings (doctor/readings.py) look at again: the users read with
        # fields=all, the user fields, how the departments listing went ("" if not read).
        self.sample: list[dict[str, Any]] | None = None
        self.fields: list[UserField] | None = None
        self.departments = ""

    def run(self) -> list[Check]:
        found = [self.users(), self.groups(), self.teams(), *self.userfields()]
        found += [self.roles_listed(), *self.role_permissions(), self.admin_role()]
        return found

    # users ---------------------------------------------------------------------------------
    def users(self) -> Check:
        try:
            params = {"fields": "all", "limit": SAMPLE}
            body = self.reader.get(
                "/api/v2/users", endpoint="users.list", scope=USERS, params=params
            )
        except Refused as refused:
            return refused.check("users")
        items = _items(body, "data")
        if not items:
            return failed("users", "the users listing has no 'data' list of users", UNREADABLE)
        problem = _unreadable(CliqUser, items)
        if problem:
            return failed("users", f"a listed user is not in the shape hrsync reads: {problem}", "")
        if all(set(item) <= BRIEF_KEYS for item in items):
            return failed(
                "users", "fields=all was not honoured: only the brief keys came back", UNREADABLE
            )
        self.emails = {str(i["id"]): str(i["email_id"]) for i in items}
        self.sample = items
        counts = ", ".join(f"{key} on {sum(key in i for i in items)}" for key in WORK_KEYS)
        detail = f"the first {len(items)} read with fields=all: {counts}"
        if any("status" not in item for item in items):
            return noted(
                "users",
                f"{detail}; the listing carries no status",
                "none needed: hrsync then lists the inactive and the pending users on their own "
                "(two more listings per run) and never takes a user to be active by default",
            )
        return passed("users", detail)

    # departments and designations ----------------------------------------------------------
    def groups(self) -> Check:
        name = "departments, designations"
        note, remedy, params = "", "", {"limit": 100}
        departments: list[Department] = []
        try:
            body = self.reader.get(
                "/api/v2/departments",
                endpoint="departments",
                scope=DEPARTMENTS,
                params=params,
                optional=True,  # without it hrsync still syncs users
                refused_for=DEPARTMENT_SCOPES,
            )
            departments = [Department.model_validate(d) for d in _items(body, "data")]
            base = next((d for d in departments if d.is_default), None)
            self.owner = base.lead_zuid if base else ""
            self.departments = "listed"
        except Refused as refused:
            if refused.kind == "scope":
                self.departments = f"needs {PEOPLE_EMPLOYEE}"
                note, remedy = _departments_refused(self.reader.service.reauthorise)
            elif isinstance(refused.__cause__, BadRequest):
                self.departments = "by search only: Zoho People manages them"
                note = "Cliq lists departments only by search: Zoho People manages them"
                remedy = PEOPLE_OWNS_THEM
            else:
                return refused.check(name)
        except ValidationError as problem:
            return failed(name, f"a department is not in the shape hrsync reads: {problem}", "")
        try:
            body = self.reader.get(
                "/api/v2/designations", endpoint="designations", scope=DESIGNATIONS, params=params
            )
        except Refused as refused:
            return refused.check(name)
        if note:
            return noted(
                name, f"{note}; {counted(len(_items(body, 'data')), 'designation')} listed", remedy
            )
        count = len(_items(body, "data"))
        return passed(
            name,
            f"{counted(len(departments), 'department')}, {counted(count, 'designation')} listed",
        )

    # teams ---------------------------------------------------------------------------------
    def teams(self) -> Check:
        try:
            body = self.reader.get(
                "/api/v2/teams",
                endpoint="teams",
                scope=TEAMS,  # no limit: some refuse it
            )
        except Refused as refused:
            return refused.check("teams")
        key = "teams" if isinstance(body, dict) and "teams" in body else "data"
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            return failed("teams", "the teams listing has neither 'teams' nor 'data'", UNREADABLE)
        try:
            teams = [Team.from_wire(item) for item in body[key]]
        except (KeyError, TypeError, ValidationError) as problem:
            return failed("teams", f"a team is not in the shape hrsync reads: {problem}", "")
        return passed("teams", f"{counted(len(teams), 'team')} listed (under {key!r})")

    # user fields ---------------------------------------------------------------------------
    def userfields(self) -> list[Check]:
        try:
            body = self.reader.get("/api/v2/userfields", endpoint="userfields", scope=USERS)
        except Refused as refused:
            return [refused.check("user fields")]
        items = _items(body, "list") or _items(body, "data")
        problem = _unreadable(UserField, items)
        if problem:
            return [
                failed("user fields", f"a field is not in the shape hrsync reads: {problem}", "")
            ]
        fields = [UserField.model_validate(item) for item in items]
        self.fields = fields
        listed = ", ".join(f"{f.name} ({f.type})" for f in fields) or "none"
        odd = sorted({f.type for f in fields} - set(KNOWN_TYPES))
        summary = passed("user fields", f"{counted(len(fields), 'field')}: {listed}")
        if odd:
            summary = noted(
                "user fields",
                f"{counted(len(fields), 'field')}: {listed}; types the user-fields document "
                "does not name: "
                f"{', '.join(odd)}",
                "none needed unless [custom_fields] maps to one of them",
            )
        mapped = sorted((hr, ref) for hr, ref in self.settings.custom_fields.items() if ref)
        return [summary, *(self.mapped_field(hr, ref, fields) for hr, ref in mapped)]

    def mapped_field(self, hr_field: str, ref: str, fields: list[UserField]) -> Check:
        name = f"user field {ref}"
        found = _field_named(ref, fields)
        if found is None:
            return failed(
                name,
                f"[custom_fields] maps {hr_field} to {ref!r}, which Cliq does not have",
                f"create {ref!r} in Cliq (admin panel, user fields), or change [custom_fields] "
                f"{hr_field}",
            )
        if found.type not in WRITABLE_TYPES:
            return failed(
                name,
                f"{hr_field} → {found.name}, a {found.type} field hrsync does not write",
                f"map {hr_field} to a field of type {', '.join(WRITABLE_TYPES)}",
            )
        if found.type != "drop_down":
            return passed(name, f"{hr_field} → {found.name} ({found.type})")
        return self.dropdown(name, hr_field, found)

    def dropdown(self, name: str, hr_field: str, found: UserField) -> Check:
        options, where = found.options, "on the listing"
        path = f"/api/v2/userfields/{found.id}"
        if not options:  # the listing may leave them out (READINGS #13): the field has them
            try:
                body = self.reader.get(path, endpoint="userfields", scope=USERS)
            except Refused as refused:
                return refused.check(name)
            data = body.get("data", body) if isinstance(body, dict) else {}
            raw = data.get("options") if isinstance(data, dict) else None
            options = [UserFieldOption.model_validate(o) for o in raw or []]
            where = f"from GET {path}"
        if not options:
            return failed(
                name,
                f"{found.name} is a drop-down hrsync writes {hr_field} to, but neither the "
                f"listing nor GET {path} shows its options",
                f"add its options in Cliq (admin panel, user fields), or remove {hr_field} from "
                "[custom_fields]",
            )
        return passed(
            name,
            f"{hr_field} → {found.name} (drop_down, {counted(len(options), 'option')} {where})",
        )

    # roles ---------------------------------------------------------------------------------
    def roles_listed(self) -> Check:
        try:
            body = self.reader.get("/api/v2/profiles", endpoint="roles", scope=ORGANISATION)
        except Refused as refused:
            return refused.check("roles")
        items = _items(body, "data")
        problem = _unreadable(Role, items)
        if problem or not items:
            return failed("roles", f"the roles are not in the shape hrsync reads: {problem}", "")
        self.roles = [Role.model_validate(item) for item in items]
        listed = ", ".join(f"{r.name} ({r.profile_type})" for r in self.roles)
        return passed("roles", f"{counted(len(self.roles), 'role')}: {listed}")

    def named_roles(self) -> dict[str, bool]:
        """Role names the configuration uses → whether it declares them (hrsync creates those)."""
        names: dict[str, bool] = {}
        for role in self.settings.roles:
            names[role.name] = True
            if role.clone_of:
                names.setdefault(role.clone_of, False)
        for rule in self.settings.rules.roles:
            if "{" not in rule.name:  # a template's names depend on HR values
                names.setdefault(rule.name, False)
        return names

    def role_permissions(self) -> list[Check]:
        if self.roles is None:
            return []
        by_name = {r.name.strip().lower(): r for r in self.roles}
        found = []
        for name, declared in self.named_roles().items():
            role = by_name.get(name.strip().lower())
            if role is None:
                found.append(_absent_role(name, declared))
                continue
            path = f"/api/v2/profiles/{role.id}/permissions"
            try:
                body = self.reader.get(path, endpoint="roles", scope=ORGANISATION)
            except Refused as refused:
                found.append(refused.check(f"role {name}"))
                continue
            if not isinstance(body, dict) or not body:
                found.append(failed(f"role {name}", f"GET {path} shows no permissions", ""))
                continue
            detail = f"{role.profile_type}; permissions readable ({len(body)} modules)"
            found.append(passed(f"role {name}", detail))
        return found

    # the admin behind the token ------------------------------------------------------------
    def admin_role(self) -> Check:
        name = "admin role"
        if self.roles is None and self.reader.reach.lost is not None:
            return self.reader.reach.skipped().check(name)
        if self.roles is None:
            return failed(name, "not checked: the roles could not be read", "see the roles check")
        try:
            admins = self.admins()
            who, zuid = self.token_owner()
        except Refused as refused:
            return refused.check(name)
        if zuid in admins:
            return passed(name, f"{who} holds {admins[zuid]}")
        if not zuid:
            listed = ", ".join(self.emails.get(z, z) for z in admins) or "none"
            return noted(
                name,
                f"cannot tell who {who} is in Cliq; the admins are {listed}",
                "pass --admin EMAIL: the Cliq account that authorised hrsync",
            )
        return failed(
            name,
            f"{who} holds no role of type {' or '.join(ADMIN_TYPES)}",
            f"give {who} the Admin or Cliq Admin role in Cliq (admin panel, roles), or "
            f"authorise hrsync as an admin: {self.reader.service.reauthorise()}",
        )

    def admins(self) -> dict[str, str]:
        """zuid → "role (profile type)" of everyone in a role with admin access."""
        found: dict[str, str] = {}
        for role in (r for r in self.roles or () if r.profile_type in ADMIN_TYPES):
            path = f"/api/v2/profiles/{role.id}/users"
            body = self.reader.get(path, endpoint="roles.users", scope=ORGANISATION)
            for user in _items(body, "data"):
                found[str(user.get("user_id") or user.get("id"))] = (
                    f"{role.name} ({role.profile_type})"
                )
        return found

    def token_owner(self) -> tuple[str, str]:
        """(who, zuid): the account named by --admin, or else the organisation's owner."""
        if self.admin_email:
            return self.admin_email, find_user(self.reader, self.admin_email)
        email = self.emails.get(self.owner)
        who = f"{email} (the organisation's owner)" if email else "the organisation's owner"
        return who, self.owner


def find_user(reader: Reader, email: str) -> str:
    """The zuid of the Cliq user with this email, or "" when there is none."""
    params = {"search": email, "fields": "all", "limit": SAMPLE}
    body = reader.get("/api/v2/users", endpoint="users.list", scope=USERS, params=params)
    wanted = email.strip().lower()
    found = (
        str(u.get("id", ""))
        for u in _items(body, "data")
        if u.get("email_id", "").lower() == wanted
    )
    return next(found, "")


def _items(body: Any, key: str) -> list[dict[str, Any]]:
    value = body.get(key) if isinstance(body, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _unreadable(model: type[CliqUser | UserField | Role], items: list[dict[str, Any]]) -> str:
    """The first reason an item does not parse as ``model``; "" when all do."""
    for item in items:
        try:
            model.model_validate(item)
        except ValidationError as problem:
            first = problem.errors()[0]
            return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return ""


def _field_named(ref: str, fields: list[UserField]) -> UserField | None:
    """By unique name, or else by label, as the sync finds it (case does not matter)."""
    wanted = ref.strip().lower()
    by_unique = next((f for f in fields if f.unique_name.lower() == wanted), None)
    return by_unique or next((f for f in fields if f.name.lower() == wanted), None)


def _departments_refused(reauthorise: Callable[[str], str]) -> tuple[str, str]:
    """The note and remedy of a department listing refused for a scope."""
    return (
        f"Cliq refused to list departments for a scope: the token lacks {PEOPLE_EMPLOYEE} or "
        f"{DEPARTMENTS}, which Zoho's departments document lists for the listing; hrsync "
        "still syncs users, leaving everyone's department as Cliq has it (a pending action "
        "says so at each plan)",
        reauthorise(DEPARTMENT_SCOPES),
    )


def _absent_role(name: str, declared: bool) -> Check:
    if declared:
        return passed(f"role {name}", "not in Cliq yet: `hrsync apply` creates it (declared)")
    return failed(
        f"role {name}",
        f"the configuration names the role {name!r}, which Cliq does not have",
        "create it in Cliq, or declare it under [[roles]] so hrsync creates it",
    )
