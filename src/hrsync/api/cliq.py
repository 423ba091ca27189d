"""Zoho Cliq API v2: wire models and endpoint methods (no sync decisions)."""

from __future__ import annotations

import logging
from collections.abc import Container, Iterator, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hrsync.api.http import ZohoHttp
from hrsync.api.pagination import NextTokenPaginator
from hrsync.errors import NotFound

log = logging.getLogger(__name__)


def _as_text(value: Any) -> Any:
    """Zoho's ids are strings, but some answers give them as numbers (READINGS #15)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ZohoId = Annotated[str, BeforeValidator(_as_text)]  # an id, always kept as text

MAX_USERS_PER_ADD = 100
MAX_MEMBERS_PER_CALL = 100
MAX_TEXT = 5000  # characters of a message


class NamedRef(BaseModel):
    """``{"name": ..., "id": ...}`` as Cliq nests departments, designations, managers."""

    name: str = ""
    id: ZohoId


class CliqUser(BaseModel):
    """A user in the get-user shape (list users with ``fields=all`` gives the same)."""

    model_config = ConfigDict(extra="allow")

    id: ZohoId
    email_id: str
    zuid: ZohoId = ""
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    full_name: str = ""
    name: str = ""
    employee_id: ZohoId = ""
    mobile: str = ""
    phone: str = ""
    extension: str = ""
    work_location: str = ""
    # "" when the answer carried no status: never taken as active (READINGS #10)
    status: str = ""
    department: NamedRef | None = None
    designation: NamedRef | None = None
    reportingto: NamedRef | None = None

    @property
    def custom(self) -> dict[str, Any]:
        """Fields Cliq returned that are not part of the documented shape: custom-field
        values, as ``custom_values`` reads them."""
        return custom_values(self.model_extra or {})


CUSTOM_ATTRIBUTES = "custom_attributes"


def custom_values(answer: Mapping[str, Any], documented: Container[str] = ()) -> dict[str, Any]:
    """The keys of a user ``answer`` other than the ``documented`` ones, with the custom
    fields some answers nest under ``custom_attributes`` (a public connector lists that key)
    taken out to the top level, and a value given as an option, ``{"id", "name"}``, as its
    id: the form hrsync writes a drop-down in."""
    found: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for key, value in answer.items():
        if key in documented:
            continue
        if key == CUSTOM_ATTRIBUTES and type(value) is dict:
            nested = value
        else:
            found[key] = value["id"] if type(value) is dict and "id" in value else value
    for key, value in nested.items():  # the answer's own place for them: it wins
        found[key] = value["id"] if type(value) is dict and "id" in value else value
    return found


class AddUsersResult(BaseModel):
    """``{"data": {"success_users": [...], "failed_users": {email: code}}}``; some answers
    list users who already exist under ``already_availableusers`` (READINGS #24)."""

    success_users: list[str] = Field(default_factory=list)
    failed_users: dict[str, str] = Field(default_factory=dict)
    already_availableusers: list[str] = Field(default_factory=list)


class Department(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ZohoId
    name: str
    is_default: bool = False
    lead_zuid: ZohoId = ""
    parent_department_id: ZohoId = ""


class Designation(BaseModel):
    id: ZohoId
    name: str


class UserFieldOption(BaseModel):
    id: ZohoId
    name: str


class UserField(BaseModel):
    """A custom user field: values are written under ``unique_name``."""

    model_config = ConfigDict(extra="ignore")

    id: ZohoId
    name: str
    unique_name: str
    type: str = "text_field"
    options: list[UserFieldOption] = Field(default_factory=list)
    last_modified_time: str = ""


class Team(BaseModel):
    model_config = ConfigDict(extra="ignore")

    team_id: ZohoId
    name: str

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> Team:
        return cls(team_id=str(item["team_id"]), name=item["name"])


class Role(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ZohoId
    name: str
    profile_type: str = "Members"
    description: str = ""
    is_default: bool = False


class CliqClient:
    """The Cliq endpoints hrsync uses, one method each."""

    def __init__(self, http: ZohoHttp) -> None:
        self.http = http

    # listings ------------------------------------------------------------------------------
    def _listing(
        self,
        path: str,
        *,
        endpoint: str,
        params: dict[str, Any] | None = None,
        limit: int | None = 100,
    ) -> Iterator[Any]:
        """Every item of a ``next_token``-paged listing, ``limit`` to a page (None: the
        listing's own page size, for a listing that may refuse ``limit``)."""

        def fetch(token: str | None) -> dict[str, Any]:
            query: dict[str, Any] = dict(params or {})
            if limit is not None:
                query["limit"] = limit
            if token:
                query["next_token"] = token
            result: dict[str, Any] = self.http.call("GET", path, endpoint=endpoint, params=query)
            return result

        return NextTokenPaginator(fetch).items()

    # users ---------------------------------------------------------------------------------
    def iter_users(
        self,
        *,
        status: str | None = None,
        search: str | None = None,
        modified_after: str | None = None,
    ) -> Iterator[CliqUser]:
        """Every user (or those with ``status``, matching ``search``, or changed after
        ``modified_after``, sent as given: a date-time or epoch ms, see
        ``targets.cliq.learnt``), in the full get-user shape."""
        for item in self.iter_user_items(
            status=status, search=search, modified_after=modified_after
        ):
            yield CliqUser.model_validate(item)

    def iter_user_items(
        self,
        *,
        status: str | None = None,
        search: str | None = None,
        modified_after: str | None = None,
    ) -> Iterator[Any]:
        """``iter_users``' users as Cliq sent them (decoded JSON), for a reader that
        converts them itself (``targets.cliq.wire``)."""
        params: dict[str, Any] = {"fields": "all"}
        wanted = (("status", status), ("search", search), ("modified_after", modified_after))
        params.update({k: v for k, v in wanted if v})
        return self._listing("/api/v2/users", endpoint="users.list", params=params)

    def get_user(self, user_id: str) -> CliqUser:
        body = self.http.call(
            "GET", f"/api/v2/users/{user_id}", endpoint="users.get", params={"fields": "all"}
        )
        return CliqUser.model_validate(body["data"])

    def add_users(self, users: Sequence[dict[str, Any]]) -> AddUsersResult:
        """Invite up to 100 users in one call; per-email failures come back in the result."""
        if not 0 < len(users) <= MAX_USERS_PER_ADD:
            raise ValueError(f"add_users takes 1 to {MAX_USERS_PER_ADD} users, not {len(users)}")
        body = self.http.call(
            "POST", "/api/v2/users", endpoint="users.add", json={"users": list(users)}
        )
        return AddUsersResult.model_validate(body["data"])

    def update_user(
        self, user_id: str, fields: dict[str, Any], *, wrapped: bool = False
    ) -> AddUsersResult:
        """Change the given fields. Zoho's readings differ on the body (READINGS #8): a flat
        object of the changed keys, or ``{"users": [...]}`` whose entry must carry
        ``email_id``; the caller says which and supplies ``email_id`` for the wrapper."""
        body = {"users": [fields]} if wrapped else dict(fields)
        answer = self.http.call(
            "PUT", f"/api/v2/users/{user_id}", endpoint="users.update", json=body
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or "id" in data:  # no body, or the user itself
            return AddUsersResult()
        return AddUsersResult.model_validate(data)

    def set_active(self, user_id: str, active: bool) -> None:
        """Activate or deactivate a user (``{"is_active": ...}``); never deletes."""
        self.http.call(
            "PUT", f"/api/v2/users/{user_id}", endpoint="users.update", json={"is_active": active}
        )

    # messages ------------------------------------------------------------------------------
    def post_channel_message(self, unique_name: str, text: str) -> None:
        """Post ``text`` (cut to Cliq's 5,000 characters) in the channel with this unique
        name, as the token's owner; needs ``ZohoCliq.Webhooks.CREATE``. Cliq answers 204."""
        path = f"/api/v2/channelsbyname/{quote(unique_name, safe='')}/message"
        self.http.call("POST", path, endpoint="channels.message", json={"text": text[:MAX_TEXT]})

    # departments and designations ----------------------------------------------------------
    def iter_departments(self, *, search: str | None = None) -> Iterator[Department]:
        """Every department (or those whose name contains ``search``)."""
        params = {"search": search} if search else None
        for item in self._listing("/api/v2/departments", endpoint="departments", params=params):
            yield Department.model_validate(item)

    def find_department(self, name: str) -> Department | None:
        """The department named ``name`` (case aside), by ``search``."""
        wanted = name.strip().lower()
        return next(
            (d for d in self.iter_departments(search=name) if d.name.strip().lower() == wanted),
            None,
        )

    def create_department(self, name: str, *, lead_zuid: str, parent_id: str) -> Department:
        body = self.http.call(
            "POST",
            "/api/v2/departments",
            endpoint="departments",
            json={"name": name, "lead_zuid": lead_zuid, "parent_department_id": parent_id},
        )
        return Department.model_validate(body["data"])

    def add_department_members(self, department_id: str, user_ids: Sequence[str]) -> None:
        """Move up to 100 users into a department in one call (seed 000's way to move)."""
        self._add_members("departments", department_id, user_ids)

    def add_designation_members(self, designation_id: str, user_ids: Sequence[str]) -> None:
        """Give up to 100 users a designation in one call."""
        self._add_members("designations", designation_id, user_ids)

    def _add_members(self, kind: str, group_id: str, user_ids: Sequence[str]) -> None:
        if not 0 < len(user_ids) <= MAX_MEMBERS_PER_CALL:
            raise ValueError(f"{kind} members go 1 to {MAX_MEMBERS_PER_CALL} to a call")
        body = {"user_ids": list(user_ids)}
        self.http.call("POST", f"/api/v2/{kind}/{group_id}/members", endpoint=kind, json=body)

    def iter_designations(self, *, search: str | None = None) -> Iterator[Designation]:
        """Every designation (or those whose name contains ``search``). Some organisations
        answer one page and no ``next_token`` (the document shows none): then only a search
        finds the rest."""
        params = {"search": search} if search else None
        for item in self._listing("/api/v2/designations", endpoint="designations", params=params):
            yield Designation.model_validate(item)

    def find_designation(self, name: str) -> Designation | None:
        """The designation named ``name`` (case aside), by ``search``."""
        wanted = name.strip().lower()
        return next(
            (d for d in self.iter_designations(search=name) if d.name.strip().lower() == wanted),
            None,
        )

    # teams ---------------------------------------------------------------------------------
    def iter_teams(self) -> Iterator[Team]:
        """Every team: ``{"teams": [...]}`` as Zoho answers, or a paged ``data`` listing."""
        for item in self._either("/api/v2/teams", "teams"):
            yield Team.from_wire(item)

    def iter_team_members(self, team_id: str) -> Iterator[str]:
        """The zuids of a team's members (``members[].user_id``, or ``data[].id``)."""
        for item in self._either(f"/api/v2/teams/{team_id}/members", "members"):
            yield str(item.get("user_id") or item["id"])

    def _either(self, path: str, key: str) -> Iterator[dict[str, Any]]:
        """A listing under its own ``key`` (unpaged), or under ``data`` with ``next_token``.
        No ``limit`` is sent: no public client sends one, and some answers refuse it."""
        first: dict[str, Any] = self.http.call("GET", path, endpoint="teams")
        if key in first:
            yield from first[key]
            return
        yield from first.get("data", [])
        if first.get("next_token"):
            token = str(first["next_token"])
            params = {"next_token": token}
            yield from self._listing(path, endpoint="teams", params=params, limit=None)

    def create_team(self, name: str, *, description: str = "") -> Team:
        body = {"name": name, "description": description}
        answer = self.http.call("POST", "/api/v2/teams", endpoint="teams", json=body)
        return Team.from_wire(answer.get("data", answer))  # flat, or wrapped

    def add_team_members(self, team_id: str, user_ids: Sequence[str]) -> None:
        body = {"user_ids": list(user_ids)}
        self.http.call("POST", f"/api/v2/teams/{team_id}/members", endpoint="teams", json=body)

    def remove_team_members(self, team_id: str, user_ids: Sequence[str]) -> None:
        """Zoho takes one member out per call, by path; each call is paced."""
        for user_id in user_ids:
            path = f"/api/v2/teams/{team_id}/members/{user_id}"
            try:
                self.http.call("DELETE", path, endpoint="teams")
            except NotFound:
                log.info("%s was no longer in team %s", user_id, team_id)  # a retry: done

    # roles ---------------------------------------------------------------------------------
    def roles(self) -> list[Role]:
        body = self.http.call("GET", "/api/v2/profiles", endpoint="roles")
        return [Role.model_validate(r) for r in body.get("data", [])]

    def role_users(self, role_id: str) -> list[str]:
        body = self.http.call("GET", f"/api/v2/profiles/{role_id}/users", endpoint="roles.users")
        return [str(u.get("user_id") or u.get("id")) for u in body.get("data", [])]

    def permissions(self, role_id: str) -> dict[str, Any]:
        body = self.http.call("GET", f"/api/v2/profiles/{role_id}/permissions", endpoint="roles")
        return body if isinstance(body, dict) else {}

    def create_role(
        self, name: str, *, profile_type: str, clone_id: str = "", description: str = ""
    ) -> Role:
        payload: dict[str, Any] = {"name": name, "profile_type": profile_type}
        if clone_id:
            payload["clone_id"] = clone_id
        if description:
            payload["description"] = description
        body = self.http.call("POST", "/api/v2/profiles", endpoint="roles", json=payload)
        return Role.model_validate(body["data"])

    def update_role(self, role_id: str, *, name: str, description: str) -> None:
        payload = {"name": name, "description": description}
        self.http.call("PUT", f"/api/v2/profiles/{role_id}", endpoint="roles", json=payload)

    def set_permissions(self, role_id: str, entries: Sequence[dict[str, Any]]) -> None:
        path = f"/api/v2/profiles/{role_id}/permissions"
        self.http.call("PUT", path, endpoint="roles", json={"list": list(entries)})

    def add_role_users(self, role_id: str, user_ids: Sequence[str]) -> None:
        path = f"/api/v2/profiles/{role_id}/users"
        self.http.call("POST", path, endpoint="roles.users", json={"user_ids": list(user_ids)})

    def remove_role_users(self, role_id: str, user_ids: Sequence[str]) -> None:
        path = f"/api/v2/profiles/{role_id}/users"
        self.http.call("DELETE", path, endpoint="roles.users", json={"user_ids": list(user_ids)})

    # user fields -----------------------------------------------------------------------------
    def list_userfields(self) -> list[UserField]:
        """Every custom user field. The fields document names its list ``list``."""
        body = self.http.call("GET", "/api/v2/userfields", endpoint="userfields")
        items = (body.get("list") or body.get("data") or []) if isinstance(body, dict) else []
        return [UserField.model_validate(item) for item in items]

    def get_userfield(self, field_id: str) -> UserField:
        """One field, with its drop-down options (the listing may leave them out)."""
        body = self.http.call("GET", f"/api/v2/userfields/{field_id}", endpoint="userfields")
        return UserField.model_validate(body.get("data", body))

    def create_designation(self, name: str) -> Designation:
        body = self.http.call(
            "POST", "/api/v2/designations", endpoint="designations", json={"name": name}
        )
        return Designation.model_validate(body["data"])
