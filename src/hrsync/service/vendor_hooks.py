"""``POST /hooks/{vendor}/{integration}``: an HR system's own webhook (BambooHR, HiBob,
Personio) names records that changed, and hrsync syncs those people within seconds.

A delivery is verified as its vendor documents (``service/vendor_signatures.py``), with the
limits of hrsync's own webhook: a body declared over ``BODY_LIMIT`` is refused unread, the
headers are judged before the body is read, a signature is taken once (the nonce store), and
a delivery names at most ``MOST_PEOPLE`` records. Its body is never HR data: only the
record ids it names are read from it, and nothing of it is logged.

Record ids become employee ids through the records the integration's last read kept
(``employee_ids``). A record not read yet (a joiner) cannot be mapped here, and the webhook
must answer within seconds, so it never calls the HR system itself. When the integration's
employee id *is* the vendor's record id, the record id is queued as the person's event, and
the event run's changed-since read brings the record. Otherwise it is queued as a *record
event* (``sender`` ``"<vendor>:record"``, the record id where the employee id goes): the
scheduler, before the event run, reads HR once (changed since the last read), queues an
event for the employee each record turned out to be, and settles the record event; one
HR's answer does not hold yet is tried again with the event queue's growing waits
(``service/record_events.py``). Nothing else waits for a schedule, and no run syncs more
people than the deliveries named."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from hrsync.access.ownership import TOML, TOML_FILE
from hrsync.clock import Clock
from hrsync.config import Settings, load_settings
from hrsync.service.hooks import BODY_LIMIT, MOST_PEOPLE, checked_id
from hrsync.service.metrics import Metrics
from hrsync.service.record_events import RECORD
from hrsync.service.scheduler import Scheduler
from hrsync.service.vendor_signatures import (
    BEFORE_BODY,
    VENDORS,
    VERDICT,
    Delivery,
    is_hibob_ping,
    record_ids,
)
from hrsync.sources.rest.source import employee_ids, source_key
from hrsync.sources.rest.spec import RestSpec
from hrsync.store import Store
from hrsync.store import integrations as rows

REFUSED = {
    "no_secret": "this integration's webhook has no secret yet: set [source.rest.webhook] "
    "secret to the key the HR system signs with",
    "secret": "not this integration's webhook secret",
    "unsigned": "the delivery carries no signature",
    "signature": "the signature does not match the delivery",
    "timestamp": "the delivery's timestamp is not a time",
    "stale": "the delivery was signed more than 5 minutes from now (or, unstamped, is older "
    "than a day)",
    "replayed": "this signed delivery was taken already: each is taken once",
}
UNKNOWN = "no such webhook"
TOO_LARGE = f"the body is over {BODY_LIMIT // 1024} KiB"
NO_RECORD = "the delivery names no record ([source.rest.webhook] ids says where they are)"
TOO_MANY = f"a delivery names at most {MOST_PEOPLE} records"


@dataclass(frozen=True)
class Hook:
    """An integration's vendor webhook, as its configuration gives it."""

    integration: str
    vendor: str
    secret: str
    ids: str  # JSONPath of the record ids; "" for the vendor's own
    key: str  # the store's name for the rest source's bookmarks
    id_is_employee_id: bool  # the employee id is read from the record's own id


class VendorHooks:
    """The HR systems' webhooks of one service."""

    def __init__(self, config: Path, scheduler: Scheduler, metrics: Metrics, clock: Clock) -> None:
        self.config, self.scheduler, self.metrics, self.clock = config, scheduler, metrics, clock

    def routes(self) -> APIRouter:
        router = APIRouter()
        path = "/hooks/{vendor}/{integration}"
        router.post(path, status_code=202, max_body_size=BODY_LIMIT)(self.hook)
        return router

    async def hook(
        self, vendor: str, integration: str, request: Request, response: Response
    ) -> Any:
        """A delivery: sync the people whose records it names. Each is kept in the store as
        an event before the 202 says so."""
        vendor = vendor if vendor in VENDORS else ""
        if _declared_length(request) > BODY_LIMIT:  # refused unread
            return self._refuse(response, vendor, "too_large", 413, TOO_LARGE)
        settings = await run_in_threadpool(load_settings, self.config)
        if integration == TOML_FILE:  # hrsync.toml's own, by the name it is shown with
            integration = TOML
        store = Store(settings.store.url, clock=self.clock, integration=integration)
        try:
            hook = await run_in_threadpool(hook_of, store, settings, vendor) if vendor else None
            if hook is None:  # unknown integration, not a rest source, or another vendor's
                return self._refuse(response, vendor, "unknown", 404, UNKNOWN)
            if not hook.secret:
                return self._refuse(response, vendor, "no_secret", 401, REFUSED["no_secret"])
            delivery = Delivery(dict(request.headers), dict(request.query_params), self.clock.now())
            refused, body = await self._judge(store, hook, delivery, request)
            if refused:
                return self._refuse(response, vendor, refused, 401, REFUSED[refused])
            return await self._take(store, hook, body, response)
        finally:
            store.close()

    async def _judge(
        self, store: Store, hook: Hook, delivery: Delivery, request: Request
    ) -> tuple[str, bytes]:
        """Why the delivery is refused ("" when it is taken), and its body once read."""
        refused = BEFORE_BODY[hook.vendor](hook.secret, delivery)
        if refused:
            return refused, b""
        body = await self._body(request, hook.vendor)
        verdict = VERDICT[hook.vendor](hook.secret, delivery, body)
        if verdict.refused or not verdict.nonce:
            return verdict.refused, body
        first = await run_in_threadpool(store.first_use, verdict.nonce, until=verdict.until)
        return ("" if first else "replayed"), body

    async def _body(self, request: Request, vendor: str) -> bytes:
        try:
            return await request.body()
        except HTTPException as problem:  # the route's limit, passed without a length given
            if problem.status_code == 413:
                self.metrics.vendor_refused.labels(vendor, "too_large").inc()
            raise

    async def _take(self, store: Store, hook: Hook, body: bytes, response: Response) -> Any:
        if hook.vendor == "hibob" and is_hibob_ping(body):  # the set-up's test: answered
            return {"integration": hook.integration, "vendor": hook.vendor, "queued": []}
        found = record_ids(hook.vendor, body, ids=hook.ids)
        if not found:
            return self._refuse(response, hook.vendor, "no_record", 400, NO_RECORD)
        if len(found) > MOST_PEOPLE:
            return self._refuse(response, hook.vendor, "too_many", 413, TOO_MANY)
        named, refused = _checked(found)
        if not named:
            return self._refuse(response, hook.vendor, "no_record", 400, NO_RECORD, refused=refused)
        taken = await run_in_threadpool(queue_records, store, hook, named)
        counted = self.metrics.vendor_records
        counted.labels(hook.vendor, "mapped").inc(len(taken["queued"]))
        counted.labels(hook.vendor, "unread").inc(len(taken["records_to_read"]))
        counted.labels(hook.vendor, "refused").inc(len(refused))
        self.scheduler.nudge(hook.integration)
        return {"integration": hook.integration, "vendor": hook.vendor, **taken, "refused": refused}

    def _refuse(
        self, response: Response, vendor: str, reason: str, status: int, said: str, **more: Any
    ) -> Any:
        self.metrics.vendor_refused.labels(vendor, reason).inc()
        response.status_code = status
        return {"error": said, **more}


def hook_of(store: Store, base: Settings, vendor: str) -> Hook | None:
    """The integration's webhook for ``vendor`` (None: no such integration, or its source is
    not a rest source whose ``[source.rest.webhook] kind`` is ``vendor``)."""
    settings = _settings(store, base)
    if settings is None or settings.source.kind != "rest":
        return None
    try:
        spec = settings.source.spec
    except ValueError:  # a configuration that no longer reads: no webhook either
        return None
    if spec.webhook.kind != vendor:
        return None
    return Hook(
        store.integration,
        vendor,
        spec.webhook.secret.get_secret_value(),
        spec.webhook.ids,
        source_key(settings.source.preset),
        _id_is_employee_id(spec),
    )


def _settings(store: Store, base: Settings) -> Settings | None:
    row = rows.find(store, store.integration)
    if row is None:
        return base if store.integration == TOML else None
    try:
        return Settings(**json.loads(row.config) | {"store": base.store.model_dump()})
    except ValueError:
        return None


def _id_is_employee_id(spec: RestSpec) -> bool:
    def plain(path: str | list[str]) -> str:
        first = path if isinstance(path, str) else (path[0] if path else "")
        return first.strip().removeprefix("$.").removeprefix("$")

    return plain(spec.fields.get("employee_id", "")) == plain(spec.id) != ""


def queue_records(store: Store, hook: Hook, record_ids: list[str]) -> dict[str, Any]:
    """Queue an event for each person the records are, as the last read kept them; a record
    not read yet is queued as the person (when the record id is the employee id) or as a
    record event for the scheduler to read and map."""
    known = employee_ids(store, hook.key, record_ids)
    unread = [r for r in record_ids if r not in known]
    people = list(dict.fromkeys(known[r] for r in record_ids if r in known))
    if hook.id_is_employee_id:
        people, unread = list(dict.fromkeys(people + unread)), []
    events = store.queue_events(people, sender=hook.vendor)
    records = store.queue_events(unread, sender=hook.vendor + RECORD)
    return {
        "queued": people,
        "records_to_read": unread,
        "events": [{"id": n, "employee_id": e} for n, e in zip(events, people, strict=True)]
        + [{"id": n, "record_id": r} for n, r in zip(records, unread, strict=True)],
    }


def _checked(found: list[Any]) -> tuple[list[str], list[dict[str, str]]]:
    """The record ids named, each once, and what was named that is no id, with why."""
    named: list[str] = []
    refused: list[dict[str, str]] = []
    for value in found:
        record_id, why = checked_id(value)
        if why:
            refused.append({"record_id": record_id, "why": why})
        elif record_id not in named:
            named.append(record_id)
    return named, refused


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0
