"""``POST /hooks/people/{integration}``: an HR event asks for a sync of the people it names.

Limits come before work: a body declared larger than ``BODY_LIMIT`` is refused before a byte
of it is read, and one sent without a length is refused as soon as it passes the limit; the
headers are judged before the body is read; a call names at most ``MOST_PEOPLE`` people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from hrsync.access.vault import Vault
from hrsync.clock import Clock
from hrsync.config import load_settings
from hrsync.service.hooks import (
    BODY_LIMIT,
    MOST_PEOPLE,
    Call,
    kept_secret,
    named_people,
    refusal_as_replay,
    refusal_by_headers,
    refusal_by_signature,
)
from hrsync.service.metrics import Metrics
from hrsync.service.scheduler import Scheduler
from hrsync.store import Store

REFUSED = {
    "secret": "unknown integration, or not its webhook secret",
    "signature": "the signature does not match the call (X-Hrsync-Signature, X-Hrsync-Timestamp)",
    "timestamp": "X-Hrsync-Timestamp is not the Unix time in seconds the call was signed at",
    "stale": "the call was signed more than 5 minutes from now: sign it again when sending",
    "replayed": "this signed call was taken already: each is taken once (sign it again to "
    "send it again)",
    "unsigned": "this integration takes signed calls only (X-Hrsync-Signature)",
}
TOO_LARGE = f"the body is over {BODY_LIMIT // 1024} KiB"
NO_EMPLOYEE = "name the people: employee_ids, employee_id, or ?employee_id="
TOO_MANY = f"a call names at most {MOST_PEOPLE} people: send the others in further calls"


class Webhook:
    """The webhook of one service: its configuration, clock, scheduler and metrics."""

    def __init__(self, config: Path, scheduler: Scheduler, metrics: Metrics, clock: Clock) -> None:
        self.config, self.scheduler, self.metrics, self.clock = config, scheduler, metrics, clock

    def routes(self) -> APIRouter:
        router = APIRouter()
        router.post("/hooks/people/{integration}", status_code=202, max_body_size=BODY_LIMIT)(
            self.hook
        )
        return router

    async def hook(self, integration: str, request: Request, response: Response) -> Any:
        """An HR event: sync the people it names, within Zoho's limits, in seconds. Each
        person named is kept in the store as an event before the 202 says so."""
        if _declared_length(request) > BODY_LIMIT:  # refused unread (the route's limit words it)
            return self._refuse(response, "too_large", 413, TOO_LARGE)
        call = Call(dict(request.headers), dict(request.query_params), self.clock.now())
        store = await run_in_threadpool(self._store, integration)
        try:
            refused, body = await self._judge(store, call, request)
            if refused:
                return self._refuse(response, refused, 401, REFUSED[refused])
            return await self._take(store, body, call, response)
        finally:
            store.close()

    def _store(self, integration: str) -> Store:
        url = load_settings(self.config).store.url
        return Store(url, clock=self.clock, integration=integration)

    async def _judge(self, store: Store, call: Call, request: Request) -> tuple[str, bytes]:
        """Why the call is refused ("" when it is taken), and its body if it was read."""
        kept = await run_in_threadpool(kept_secret, store)
        refused = refusal_by_headers(kept, call)
        if refused or kept is None:
            return refused or "secret", b""
        body = await self._body(request)
        if not call.signed:
            return "", body
        vault = await run_in_threadpool(Vault.open, load_settings(self.config).store.key_file)
        refused = refusal_by_signature(vault, kept, call, body)
        if not refused:
            refused = await run_in_threadpool(refusal_as_replay, store, call)
        return refused, body

    async def _body(self, request: Request) -> bytes:
        try:
            return await request.body()
        except HTTPException as problem:  # the route's limit, passed without a length given
            if problem.status_code == 413:
                self.metrics.refused.labels("too_large").inc()
            raise

    async def _take(self, store: Store, body: bytes, call: Call, response: Response) -> Any:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        named, unread = named_people(parsed, call.query)
        if len(named) + len(unread) > MOST_PEOPLE:
            return self._refuse(response, "too_many", 413, TOO_MANY)
        refused = [{"employee_id": e, "why": why} for e, why in unread]
        self.metrics.people.labels("refused").inc(len(refused))
        if not named:
            return self._refuse(response, "no_employee", 400, NO_EMPLOYEE, refused=refused)
        events = await run_in_threadpool(store.queue_events, named)
        self.metrics.people.labels("queued").inc(len(named))
        self.scheduler.nudge(store.integration)
        return {
            "integration": store.integration,
            "queued": named,
            "events": [{"id": n, "employee_id": e} for n, e in zip(events, named, strict=True)],
            "refused": refused,
        }

    def _refuse(self, response: Response, reason: str, status: int, said: str, **more: Any) -> Any:
        self.metrics.refused.labels(reason).inc()
        response.status_code = status
        return {"error": said, **more}


def _declared_length(request: Request) -> int:
    """The body's length as the caller declares it (0 when it does not, or says nonsense)."""
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0
