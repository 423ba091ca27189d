"""The SCIM protocol's storage (``scim2_server.storage.ScimStorage``) over hrsync's store,
for one SCIM source: a resource is kept as it was pushed, with what is looked up beside it,
and each write of a user queues an HR event for that person in the same transaction.

A user's HR id is its ``externalId``, else its enterprise ``employeeNumber``, else its
``userName``, taken when it is first pushed and kept for its life: a new ``userName`` or
email is the same person, in HR and in Cliq."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unicodedata import normalize

from scim2_models import (
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize

from hrsync.service.scim.schema import CORE_USER, ENTERPRISE_USER
from hrsync.store.scim import Row as RowMapping
from hrsync.store.scim import ScimStore, Taken
from hrsync.store.scim import Transaction as Connection

# A filter ``ATTRIBUTE eq "value"`` on these is answered from the store's columns.
COLUMN_OF = {
    f"{CORE_USER}:id": "id",
    f"{CORE_USER}:externalId": "external_id",
    f"{CORE_USER}:userName": "name_key",
    "urn:ietf:params:scim:schemas:core:2.0:Group:id": "id",
}
MOST_HR_ID = 100  # characters of an HR id (the store's and the webhook's limit)


def name_key(user_name: str) -> str:
    """How userNames are compared: they are not case sensitive (RFC 7643 §4.1.1)."""
    return normalize("NFC", normalize("NFC", user_name).lower())


def hr_id_of(body: dict[str, Any]) -> str:
    """The HR id a newly pushed user is known by."""
    enterprise = body.get(ENTERPRISE_USER) or {}
    for value in (body.get("externalId"), enterprise.get("employeeNumber"), body.get("userName")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


class PushedStorage(ScimStorage):
    """One SCIM source's resources, for the requests of one call."""

    def __init__(
        self,
        store: ScimStore,
        integration: str,
        service: ScimService,
        *,
        how: str = "",
        wait: float = 0.0,
        writes: bool | None = None,
        queue: bool = True,
    ) -> None:
        self.store, self.integration, self.service, self.how = store, integration, service, how
        self.wait = wait  # seconds a push's HR event waits, for the pushes that follow it
        self.queue = queue  # whether a write queues an HR event (its integration runs)
        self.writes = how in ("POST", "PUT", "PATCH", "DELETE") if writes is None else writes
        self._connection: Connection | None = None
        self.events: list[int] = []  # the HR events this call's writes queued

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One request, one transaction: what it writes is kept before hrsync answers."""
        if self._connection is not None:
            yield
            return
        with self.store.writing() if self.writes else self.store.reading() as connection:
            self._connection = connection
            try:
                yield
            finally:
                self._connection = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("a SCIM storage is used inside operation()")
        return self._connection

    # reading -------------------------------------------------------------------------------
    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        row = self._row(resource_type, resource_id)
        return self._resource(resource_type, row)

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        kinds = list(dict.fromkeys(t.name for t in resource_types if t.name))
        by_kind = {t.name: t for t in resource_types}
        start = search_request.start_index_0 or 0
        count = search_request.count
        scim_filter = search_request.filter
        if scim_filter is None:
            total = self.store.count(self.connection, self.integration, kinds)
            if count == 0:
                return SearchPage(total, [])
            rows = self.store.page(
                self.connection, self.integration, kinds, offset=start, limit=count
            )
            return SearchPage(total, [self._resource(by_kind[r["resource_type"]], r) for r in rows])
        looked_up = self._looked_up(kinds, scim_filter)
        rows = (
            looked_up
            if looked_up is not None
            else self.store.page(self.connection, self.integration, kinds)
        )
        found = [self._resource(by_kind[r["resource_type"]], r) for r in rows]
        if not scim_filter.models and found:
            models = tuple(dict.fromkeys(type(r) for r in found))
            scim_filter = parametrize(ScimFilter, models[0] if len(models) == 1 else models)(
                str(scim_filter)
            )
        matching = [r for r in found if scim_filter.match(r)]
        if count == 0:
            return SearchPage(len(matching), [])
        stop = None if count is None else start + count
        return SearchPage(len(matching), matching[start:stop])

    def _looked_up(self, kinds: list[str], scim_filter: ScimFilter[Any]) -> list[RowMapping] | None:
        """The candidates of ``attribute eq "value"`` from a column (None: read them all)."""
        node = scim_filter.ast
        if (
            len(kinds) != 1
            or scim_filter.model is None
            or not isinstance(node, Comparison)
            or node.op != CompareOperator.eq
            or not isinstance(node.value, str)
        ):
            return None
        binding = scim_filter.resolve_comparison(node.attr_path, strict=False)
        column = COLUMN_OF.get(binding.urn) if binding is not None else None
        if column is None:
            return None
        value = name_key(node.value) if column == "name_key" else node.value
        return self.store.find(self.connection, self.integration, kinds, column, value)

    def _row(self, resource_type: ResourceType, resource_id: str | None) -> RowMapping:
        row = self.store.get(
            self.connection,
            self.integration,
            resource_type.name or "",
            resource_id or "",
            lock=self.writes,
        )
        if row is None:
            raise NotFoundException(detail=f"{resource_type.name} {resource_id!r} not found")
        return row

    def _resource(self, resource_type: ResourceType, row: RowMapping) -> Resource[Any]:
        model = self.service.get_model(resource_type)
        resource = model.model_validate(json.loads(row["body"]))
        resource.id = row["id"]
        resource.meta = Meta(
            resource_type=resource_type.name,
            created=_when(row["created_at"]),
            last_modified=_when(row["modified_at"]),
            version=_version(row["version"]),
        )
        return resource

    # writing -------------------------------------------------------------------------------
    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        resource = resource.model_copy(deep=True)
        resource.id = new_id()
        now = self.store.clock.now()
        body = _body(resource)
        values = self._columns(resource_type, body) | {
            "id": resource.id,
            "integration": self.integration,
            "resource_type": resource_type.name,
            "created_at": now,
            "modified_at": now,
            "version": 1,
        }
        if resource_type.name == "User":
            values["hr_id"] = values["hr_key"] = self._new_hr_id(body)
        values |= self._pushed(values.get("hr_id", ""), self.how or "POST", sorted(body))
        try:
            self.store.insert(self.connection, values)
        except Taken:
            raise self._taken(body) from None
        resource.meta = Meta(
            resource_type=resource_type.name,
            created=_when(now),
            last_modified=_when(now),
            version=_version(1),
        )
        return resource.model_copy(deep=True)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        row = self._row(resource_type, resource.id)
        _check_version(row, expected_version)
        now = self.store.clock.now()
        body = _body(resource)
        version = int(row["version"]) + 1
        values = self._columns(resource_type, body) | {"modified_at": now, "version": version}
        if resource_type.name == "User":
            values["hr_key"] = row["hr_id"]
        changed = _changed(json.loads(row["body"]), body)
        values |= self._pushed(row["hr_id"], self.how or "PUT", changed)
        try:
            self.store.replace(self.connection, row["id"], values)
        except Taken:
            raise self._taken(body) from None
        updated = resource.model_copy(deep=True)
        updated.meta = Meta(
            resource_type=resource_type.name,
            created=_when(row["created_at"]),
            last_modified=_when(now),
            version=_version(version),
        )
        return updated

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        row = self._row(resource_type, resource_id)
        _check_version(row, expected_version)
        if resource_type.name != "User":
            self.store.remove(self.connection, row["id"])
            return
        now = self.store.clock.now()
        values = {"deleted_at": now, "modified_at": now, "version": int(row["version"]) + 1}
        values |= self._pushed(row["hr_id"], self.how or "DELETE", ["(the user)"])
        self.store.tombstone(self.connection, row["id"], values)

    def _columns(self, resource_type: ResourceType, body: dict[str, Any]) -> dict[str, Any]:
        if resource_type.name != "User":
            return {"body": _dumps(body), "active": True, "hr_id": ""}
        enterprise = body.get(ENTERPRISE_USER) or {}
        number = enterprise.get("employeeNumber")
        user_name = body.get("userName")
        return {
            "body": _dumps(body),
            "name_key": name_key(user_name) if isinstance(user_name, str) else None,
            "external_id": body.get("externalId"),
            "employee_number": number if isinstance(number, str) else None,
            "active": body.get("active") is not False,
        }

    def _new_hr_id(self, body: dict[str, Any]) -> str:
        hr_id = hr_id_of(body)
        if len(hr_id) > MOST_HR_ID:
            from scim2_models import InvalidValueException

            raise InvalidValueException(
                detail=f"the HR id {hr_id[:40]!r}… (externalId, else employeeNumber, else "
                f"userName) is over {MOST_HR_ID} characters"
            )
        return hr_id

    def _pushed(self, hr_id: str, how: str, changed: list[str]) -> dict[str, Any]:
        """The columns that say what this push was, with the HR event it queued."""
        event_id = (
            self.store.queue_event(self.connection, self.integration, hr_id, wait=self.wait)
            if hr_id and self.queue
            else None
        )
        if event_id is not None:
            self.events.append(event_id)
        push = {"at": self.store.clock.now(), "how": how, "changed": changed, "event": event_id}
        return {"last_push": _dumps(push), "event_id": event_id}

    def _taken(self, body: dict[str, Any]) -> UniquenessException:
        hr_id = hr_id_of(body)
        return UniquenessException(
            detail=f"another user already has userName {body.get('userName')!r} or HR id "
            f"{hr_id!r} (externalId, else employeeNumber, else userName)"
        )


def new_id() -> str:
    """A resource's id: 32 hex digits that sort in the order resources were made (lists are
    in that order), the last 16 random."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def _body(resource: Resource[Any]) -> dict[str, Any]:
    """What is kept of a resource: never a password an identity provider sends along (Okta's
    password sync): hrsync has no use for it and keeps no secret it does not need."""
    body: dict[str, Any] = resource.model_dump()
    for kept_apart in ("id", "meta", "password"):
        body.pop(kept_apart, None)
    return body


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The attributes a write changed, extensions' by their own names."""
    names = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new or key == "schemas":
            continue
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old or {}, new or {}
            names += [n for n in sorted(set(old) | set(new)) if old.get(n) != new.get(n)]
        else:
            names.append(key)
    return names


def _check_version(row: RowMapping, expected: str | None) -> None:
    if expected is not None and expected != _version(row["version"]):
        raise PreconditionFailedException


def _version(number: int) -> str:
    return f'W/"{number}"'


def _when(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
