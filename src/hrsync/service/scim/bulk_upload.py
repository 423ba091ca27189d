"""``POST …/bulkUpload``: HR scripts push up to 50 people at once, as they push to Microsoft
Entra's API-driven inbound provisioning (a SCIM ``BulkRequest`` of ``POST`` operations on
``/Users``, keyed by ``externalId``), at ``/scim/v2/bulkUpload`` or under Entra's own path
(``/v1.0/servicePrincipals/{id}/synchronization/jobs/{id}/bulkUpload``), so a script changes
only its host and its token. This is not RFC 7644's ``/Bulk``: a repeated ``bulkId`` (as in
Microsoft's own sample) is taken, and hrsync decides whether each record creates or updates.

- A record updates the user with its ``externalId``, else its enterprise ``employeeNumber``,
  else its ``userName``, merging what it carries over what was pushed before; otherwise it
  creates one. Omitted ``active`` leaves the status as it was (Entra disables; its users
  report that as a bug): the answer counts such records, and so does the plan.
- Attributes of a custom extension reach hrsync through ``[source] attributes`` ("URN:name"
  = the HR field), e.g. a hire date or a Cliq custom field.
- The manager is referenced by HR id (``{"value": "E042"}``).
- All records are kept in one transaction, each in its own savepoint (a refused record keeps
  none of its writes), before the 202; its ``Location`` tells, record by record, what became
  of each (stored, refused and why; then applied, held or failed by the run).
- ``?dryRun=true`` keeps nothing and answers the plan of those people at once.
- With ``[source] uploads = "whole"`` an upload (or the uploads of ``?upload_set=NAME`` up to
  the one with ``&last=true``) is the whole population: the people it lacks left, under the
  deactivation guard."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from scim2_models import Context, Resource, SCIMException
from starlette.concurrency import run_in_threadpool

from hrsync.config import SourceConfig
from hrsync.service.scim.dialects import plain
from hrsync.service.scim.schema import ENTERPRISE_USER, HRSYNC_USER
from hrsync.service.scim.storage import PushedStorage, name_key
from hrsync.store.scim import Transaction as Connection

if TYPE_CHECKING:
    from hrsync.service.scim.routes import ScimApi, Source

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
MOST_RECORDS = 50  # as Entra's bulkUpload takes
ENTRA_PATH = "/{version}/servicePrincipals/{principal}/synchronization/jobs/{job}/bulkUpload"
# Where an HR field a custom extension carries goes in what hrsync keeps (the rest become
# custom fields by name).
PLACE = {
    "department": (ENTERPRISE_USER, "department"),
    "designation": (HRSYNC_USER, "designation"),
    "work_location": (HRSYNC_USER, "workLocation"),
    "seating_location": (HRSYNC_USER, "seatingLocation"),
    "extension": (HRSYNC_USER, "extension"),
    "gender": (HRSYNC_USER, "gender"),
    "date_of_birth": (HRSYNC_USER, "dateOfBirth"),
    "hire_date": (HRSYNC_USER, "hireDate"),
    "exit_date": (HRSYNC_USER, "exitDate"),
}
STATE_SAID = {
    "queued": "stored: waiting for its run",
    "done": "applied",
    "held": "held",
    "failed": "failed",
    "refused": "refused by the run",
}


class Refused(Exception):
    """A record hrsync cannot take, and why."""


class _DryRun(Exception):
    """Undoes a dry run's writes."""


class BulkUploads:
    def __init__(self, api: ScimApi) -> None:
        self.api = api

    def add_routes(self, router: APIRouter) -> None:
        for path in ("/scim/v2/bulkUpload", "/scim/bulkUpload", ENTRA_PATH):
            router.post(path, include_in_schema=False)(self.upload)
        router.get("/scim/v2/bulkUpload/{upload_id}", include_in_schema=False)(self.outcome)

    async def upload(self, request: Request) -> Response:
        source, refused = await self.api.source_of(request)
        if refused is not None:
            return refused
        assert source is not None
        body = await request.body()
        try:
            operations = _operations(body)
        except Refused as problem:
            return _error(400, str(problem), "invalidSyntax")
        if len(operations) > MOST_RECORDS:
            return _error(
                413, f"{len(operations)} operations: a bulk upload takes at most {MOST_RECORDS}"
            )
        query = request.query_params
        dry_run = query.get("dryRun", "").lower() == "true"
        upload_set = query.get("upload_set", "")
        last = query.get("last", "").lower() == "true" or not upload_set
        taken = await run_in_threadpool(
            self._take, source, operations, dry_run=dry_run, upload_set=upload_set, last=last
        )
        self.api.count(source.integration, "bulkUpload", 200 if dry_run else 202)
        if dry_run:
            planned = await run_in_threadpool(self.api.dry_plan, source, taken)
            return _json(200, taken.answer | {"dryRun": True, "plan": planned})
        if taken.events:
            self.api.scheduler.nudge(source.integration)
        where = f"{str(request.base_url).rstrip('/')}/scim/v2/bulkUpload/{taken.upload_id}"
        return _json(202, taken.answer | {"location": where}, headers={"Location": where})

    async def outcome(self, request: Request, upload_id: int) -> Response:
        source, refused = await self.api.source_of(request)
        if refused is not None:
            return refused
        assert source is not None
        store = self.api.store()
        row = await run_in_threadpool(store.upload, source.integration, upload_id)
        if row is None:
            return _error(404, f"no bulk upload {upload_id} of this SCIM source")
        records = json.loads(row["records"])
        events = await run_in_threadpool(
            store.events_of, [r["event"] for r in records if r.get("event")]
        )
        for record in records:
            event = events.get(record.get("event") or -1)
            if event is None:
                continue
            record["state"] = STATE_SAID.get(event["state"], event["state"])
            if event["state"] == "queued" and event["attempts"]:
                record["state"] = f"failed {event['attempts']} times: tried again"
            if event["reason"]:
                record["reason"] = event["reason"]
            if event["run_id"]:
                record["run"] = event["run_id"]
        return _json(
            200,
            {
                "id": upload_id,
                "receivedAt": row["received_at"],
                "records": records,
                "withoutActive": row["without_active"],
                "absent": json.loads(row["absent"]),
            },
        )

    # taking the records --------------------------------------------------------------------
    def _take(
        self,
        source: Source,
        operations: list[Any],
        *,
        dry_run: bool,
        upload_set: str,
        last: bool,
    ) -> Taken:
        api = self.api
        config = SourceConfig.model_validate(source.config)
        storage = PushedStorage(
            api.store(),
            source.integration,
            api.service,
            how="bulkUpload",
            wait=source.wait,
            writes=True,
            queue=source.runs,
        )
        taken = Taken()
        try:
            with api.service.provider, storage.operation():
                connection = storage.connection
                for number, operation in enumerate(operations, start=1):
                    taken.records.append(
                        self._record(storage, connection, config, number, operation, taken)
                    )
                if config.uploads == "whole" and last:
                    taken.absent = self._absent(storage, connection, upload_set, taken)
                if dry_run:
                    taken.overlay = api.store().users_on(connection, source.integration)
                    raise _DryRun
                taken.upload_id = api.store().save_upload(
                    connection,
                    {
                        "integration": source.integration,
                        "received_at": api.clock.now(),
                        "records": json.dumps(taken.records),
                        "without_active": taken.without_active,
                        "upload_set": upload_set,
                        "absent": json.dumps(taken.absent),
                    },
                )
        except _DryRun:
            storage.events.clear()
        taken.events = list(storage.events)
        return taken

    def _record(
        self,
        storage: PushedStorage,
        connection: Connection,
        config: SourceConfig,
        number: int,
        operation: Any,
        taken: Taken,
    ) -> dict[str, Any]:
        said: dict[str, Any] = {"operation": number}
        if isinstance(operation, Mapping):
            said |= {"bulkId": _get(operation, "bulkId"), "externalId": None}
        queued = len(storage.events)
        try:
            with storage.store.savepoint(connection):
                data = _data(operation)
                said["externalId"] = data.get("externalId")
                if not isinstance(data.get("externalId"), str) or not data["externalId"].strip():
                    raise Refused(
                        "no externalId: each record of a bulk upload is keyed by its externalId "
                        "(the person's HR id)"
                    )
                _map_attributes(data, config.attributes)
                omitted = _key(data, "active") is None
                said |= self._store(storage, connection, data, omitted=omitted)
                taken.without_active += omitted
        except (Refused, SCIMException) as problem:
            del storage.events[queued:]
            return said | {"status": "refused", "reason": str(problem)}
        except ValidationError as problem:
            del storage.events[queued:]
            first = problem.errors()[0] if problem.errors() else {"msg": str(problem)}
            where = ".".join(str(p) for p in first.get("loc", ()))
            reason = f"{where}: {first['msg']}" if where else str(first["msg"])
            return said | {"status": "refused", "reason": reason}
        if len(storage.events) > queued:
            said["event"] = storage.events[-1]
        return said | {"status": "stored"}

    def _store(
        self, storage: PushedStorage, connection: Connection, data: dict[str, Any], *, omitted: bool
    ) -> dict[str, Any]:
        """Create or update the user ``data`` describes; what was done, and to whom."""
        service = self.api.service
        user_type = service.get_resource_type("User")
        model = service.get_model(user_type)
        pushed: Resource[Any] = model.model_validate(
            data, scim_ctx=Context.RESOURCE_CREATION_REQUEST
        )
        row = self._existing(storage, connection, data)
        if row is None:
            created = storage.create(user_type, pushed)
            return {"action": "created", "person": _hr_id_of(storage, connection, created)}
        before = json.loads(row["body"])
        incoming = {k: v for k, v in pushed.model_dump().items() if k not in ("id", "meta")}
        if omitted:
            incoming.pop("active", None)
        merged = _merged(before, incoming)
        if merged == before:
            return {"action": "unchanged", "person": row["hr_id"]}
        resource = model.model_validate(merged)
        resource.id = row["id"]
        storage.update(user_type, resource)
        return {"action": "updated", "person": row["hr_id"]}

    def _existing(
        self, storage: PushedStorage, connection: Connection, data: dict[str, Any]
    ) -> Any:
        """The user a record is about: the one with its externalId, else (a user pushed
        without one) its employeeNumber, else its userName. A user found by those that has
        another externalId is another person: the record is refused, never merged into it."""
        store, integration = storage.store, storage.integration
        enterprise = data.get(ENTERPRISE_USER) or {}
        user_name = data.get("userName")
        external = data["externalId"]
        for column, value in (
            ("external_id", external),
            ("employee_number", enterprise.get("employeeNumber")),
            ("name_key", user_name),
        ):
            if not isinstance(value, str) or not value:
                continue
            key = name_key(value) if column == "name_key" else value
            found = store.find(connection, integration, ["User"], column, key)
            if not found:
                continue
            row = found[0]
            if row["external_id"] and row["external_id"] != external:
                shown = "userName" if column == "name_key" else "employeeNumber"
                raise Refused(
                    f"{shown} {value!r} is the user with externalId {row['external_id']!r} "
                    f"(HR id {row['hr_id']}), not {external!r}"
                )
            return row
        return None

    def _absent(
        self, storage: PushedStorage, connection: Connection, upload_set: str, taken: Taken
    ) -> list[str]:
        """With whole populations: the people the upload (set) lacks left."""
        store, integration = storage.store, storage.integration
        present = {r["person"] for r in taken.records if r.get("person")}
        present |= {str(r["externalId"]) for r in taken.records if r.get("externalId")}
        if upload_set:
            present |= store.uploaded_in_set(connection, integration, upload_set)
        user_type = self.api.service.get_resource_type("User")
        absent = []
        for row in store.page(connection, integration, ["User"]):
            if row["hr_id"] and row["hr_id"] not in present:
                storage.how = (
                    f"absent from the bulk upload{' set ' + upload_set if upload_set else ''}"
                )
                storage.delete(user_type, row["id"])
                absent.append(row["hr_id"])
        storage.how = "bulkUpload"
        return absent


class Taken:
    """What an upload made of its records."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.without_active = 0
        self.absent: list[str] = []
        self.upload_id = 0
        self.events: list[int] = []
        self.overlay: list[Any] = []

    @property
    def answer(self) -> dict[str, Any]:
        stored = sum(r["status"] == "stored" for r in self.records)
        return {
            "id": self.upload_id or None,
            "stored": stored,
            "refused": len(self.records) - stored,
            "withoutActive": self.without_active,
            "records": self.records,
            "absent": self.absent,
        }


def _operations(body: bytes) -> list[Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise Refused("the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refused("the body is not a BulkRequest object")
    schemas = _get(parsed, "schemas")
    if not isinstance(schemas, list) or BULK_REQUEST.lower() not in {
        str(s).lower() for s in schemas
    }:
        raise Refused(f'the body\'s "schemas" does not name {BULK_REQUEST}')
    operations = _get(parsed, "Operations")
    if not isinstance(operations, list) or not operations:
        raise Refused('the body has no "Operations"')
    return operations


def _data(operation: Any) -> dict[str, Any]:
    if not isinstance(operation, Mapping):
        raise Refused("an operation is not an object")
    method = str(_get(operation, "method") or "")
    if method.upper() != "POST":
        raise Refused(
            f"method {method!r}: a bulk upload takes POST operations (hrsync decides whether "
            "each creates or updates)"
        )
    path = str(_get(operation, "path") or "")
    if path.strip("/").lower() != "users":
        raise Refused(f"path {path!r}: a bulk upload's records are /Users")
    data = _get(operation, "data")
    if not isinstance(data, dict):
        raise Refused('no "data" object')
    return dict(plain(json.loads(json.dumps(data))))


def _map_attributes(data: dict[str, Any], attributes: Mapping[str, str]) -> None:
    """Move what ``[source] attributes`` maps out of custom extensions into hrsync's own."""
    for key, field in attributes.items():
        urn, _, name = key.rpartition(":")
        extension = data.get(_key(data, urn) or "")
        if not isinstance(extension, dict) or (attribute := _key(extension, name)) is None:
            continue
        value = extension[attribute]
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        schema, placed = PLACE.get(field, (HRSYNC_USER, ""))
        target = data.setdefault(schema, {})
        if schema not in data.get("schemas", []):
            data["schemas"] = [*data.get("schemas", []), schema]
        if placed:
            target[placed] = text
        else:
            custom = [c for c in target.get("customFields") or [] if c.get("name") != field]
            target["customFields"] = [*custom, {"name": field, "value": text}]


def _merged(before: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    merged = dict(before)
    for key, value in incoming.items():
        if key == "schemas":
            merged[key] = list(dict.fromkeys([*before.get(key, []), *value]))
        elif isinstance(value, dict) and isinstance(before.get(key), dict):
            merged[key] = {**before[key], **value}
        else:
            merged[key] = value
    return merged


def _hr_id_of(storage: PushedStorage, connection: Connection, resource: Resource[Any]) -> str:
    row = storage.store.get(connection, storage.integration, "User", str(resource.id))
    return str(row["hr_id"]) if row is not None else ""


def _get(mapping: Mapping[str, Any], name: str) -> Any:
    key = _key(mapping, name)
    return None if key is None else mapping[key]


def _key(mapping: Mapping[str, Any], name: str) -> str | None:
    if name in mapping:
        return name
    lowered = name.lower()
    return next((k for k in mapping if isinstance(k, str) and k.lower() == lowered), None)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status_code=status, media_type="application/scim+json", headers=headers
    )


def _error(status: int, detail: str, scim_type: str = "") -> Response:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": str(status),
        "detail": detail,
    } | ({"scimType": scim_type} if scim_type else {})
    return _json(status, body)
