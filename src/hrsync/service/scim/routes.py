"""``/scim/v2/``: the SCIM 2.0 endpoints of ``hrsync serve``. The bearer token says which
SCIM source a call belongs to; the protocol is ``scim2_server``'s, over hrsync's store
(``storage.py``). What a call writes is kept, with an HR event per person, before hrsync
answers; the scheduler is then nudged, and a run syncs those people to Cliq."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from scim2_models import SCIMException, UnauthorizedException
from scim2_server.applications.base import BaseApplication
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from starlette.concurrency import run_in_threadpool

from hrsync.access.ownership import TOML
from hrsync.access.scim_tokens import token_hash
from hrsync.clock import Clock
from hrsync.config import SourceConfig, load_settings
from hrsync.service.metrics import Metrics
from hrsync.service.scheduler import Scheduler
from hrsync.service.scim.bulk_upload import BulkUploads
from hrsync.service.scim.dialects import plain
from hrsync.service.scim.paths import unknown_paths
from hrsync.service.scim.schema import provider
from hrsync.service.scim.storage import PushedStorage
from hrsync.store.scim import ScimStore

log = logging.getLogger(__name__)
ROOT = "/scim/v2"
BODY_LIMIT = 1024 * 1024  # bytes of a request; a larger one is refused
FAILURES_ALLOWED = 10  # calls with a wrong token, per client, per ``FAILURE_WINDOW``
FAILURE_WINDOW = 60.0
# Microsoft's reference server answers its configuration here too; so does hrsync.
DEFAULT_WAIT = SourceConfig.model_fields["debounce_seconds"].default
ALIASES = {"/serviceconfiguration": "/ServiceProviderConfig"}


class ScimApi:
    """The SCIM endpoints of one service."""

    def __init__(
        self, config: Path, scheduler: Scheduler, clock: Clock, metrics: Metrics | None = None
    ) -> None:
        self.config, self.scheduler, self.clock = config, scheduler, clock
        self.metrics = metrics
        self.provider = provider()
        self.service = ScimService(self.provider)
        self.app = BaseApplication(self.provider, self.service)
        self.failures = FailedTokens(clock)
        self._stores: dict[str, ScimStore] = {}
        self._lock = threading.Lock()

    def routes(self) -> APIRouter:
        router = APIRouter()
        BulkUploads(self).add_routes(router)  # before the protocol's catch-all
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        router.api_route(ROOT, methods=methods, include_in_schema=False)(self.call)
        router.api_route(ROOT + "/{path:path}", methods=methods, include_in_schema=False)(self.call)
        return router

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()

    def store(self) -> ScimStore:
        url = load_settings(self.config).store.url
        with self._lock:
            if url not in self._stores:
                self._stores[url] = ScimStore(url, clock=self.clock)
            return self._stores[url]

    async def call(self, request: Request) -> Response:
        scim = await self._request(request)
        if isinstance(scim, Response):
            return scim
        client = request.client.host if request.client else ""
        try:
            source = await self._authenticated(scim, client)
        except SCIMException as refused:
            answer = self.app.handle_exception(scim, refused)
            if isinstance(refused, TooManyFailures):
                answer.headers["Retry-After"] = str(int(FAILURE_WINDOW))
            return self._answer(self.app.finalize_response(scim, answer), "", scim.method)
        unknown = self._unknown_paths(scim)
        if unknown:
            return self._answer(
                _scim_error(
                    400,
                    f"the PATCH names no attribute hrsync knows: {', '.join(unknown)} "
                    "(GET /scim/v2/Schemas lists them); nothing was changed",
                    "invalidPath",
                ),
                source.integration if source else "",
                scim.method,
            )
        storage = PushedStorage(
            self.store(),
            source.integration if source else "",
            self.service,
            how=scim.method.upper(),
            wait=source.wait if source else 0.0,
            queue=source.runs if source else False,
        )
        answer = await run_in_threadpool(self._serve, scim, storage)
        if storage.events and source:
            self.scheduler.nudge(source.integration)
        return self._answer(answer, source.integration if source else "", scim.method)

    def _unknown_paths(self, scim: ScimRequest) -> list[str]:
        if scim.method.upper() != "PATCH" or not scim.body:
            return []
        try:
            return unknown_paths(self.provider, scim.path, json.loads(scim.body))
        except ValueError:
            return []  # not JSON: the protocol says so

    def _serve(self, scim: ScimRequest, storage: PushedStorage) -> ScimResponse:
        try:
            answer = ScimHandler(self.service, storage).handle(scim)
        except Exception as problem:
            storage.events.clear()  # rolled back with the transaction
            answer = self.app.handle_exception(scim, problem)
        return self.app.finalize_response(scim, answer)

    async def _request(self, request: Request) -> ScimRequest | Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > BODY_LIMIT:
            return _error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {BODY_LIMIT // 1024} KiB"
            )
        body = await request.body()
        if len(body) > BODY_LIMIT:
            return _error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {BODY_LIMIT // 1024} KiB"
            )
        path = request.url.path.removeprefix(ROOT) or "/"
        path = ALIASES.get(path.lower().rstrip("/"), path)
        if body:
            with contextlib.suppress(ValueError):  # the protocol says what is wrong with it
                parsed = plain(json.loads(body))
                body = json.dumps(parsed).encode()
                unknown = (
                    unknown_paths(self.provider, path, parsed) if request.method == "PATCH" else []
                )
                if unknown:
                    return _error(
                        HTTPStatus.BAD_REQUEST,
                        f"the PATCH names no attribute hrsync knows: {', '.join(unknown)} "
                        "(GET /scim/v2/Schemas lists them); nothing was changed",
                        "invalidPath",
                    )
        return ScimRequest(
            method=request.method,
            base_url=str(request.base_url).rstrip("/") + ROOT,
            path=path,
            query=dict(request.query_params),
            headers=list(request.headers.items()),
            body=body,
        )

    async def _authenticated(self, scim: ScimRequest, client: str) -> Source | None:
        """The SCIM source the bearer token is of (None: the call needs no token)."""
        try:
            if not self.app.needs_auth(scim):
                return None
        except SCIMException:
            pass  # an unknown path: the token is judged first
        if self.failures.blocked(client):
            raise TooManyFailures
        scheme, _, token = (scim.header("Authorization") or "").partition(" ")
        found = None
        if scheme.lower() == "bearer" and token.strip():
            found = await run_in_threadpool(self._source, token_hash(token.strip()))
        if found is None:
            self.failures.failed(client)
            raise UnauthorizedException(
                detail="no valid bearer token: make one with `hrsync integrations scim-token NAME`"
            )
        return found

    async def source_of(self, request: Request) -> tuple[Source | None, Response | None]:
        """The SCIM source a call's bearer token is of, or the answer refusing it."""
        client = request.client.host if request.client else ""
        scim = ScimRequest(
            method=request.method,
            base_url=str(request.base_url).rstrip("/") + ROOT,
            path="/bulkUpload",
            headers=list(request.headers.items()),
        )
        try:
            return await self._authenticated(scim, client), None
        except SCIMException as refused:
            answer = self.app.handle_exception(scim, refused)
            if isinstance(refused, TooManyFailures):
                answer.headers["Retry-After"] = str(int(FAILURE_WINDOW))
            return None, self._answer(answer, "", request.method)

    def dry_plan(self, source: Source, taken: Any) -> dict[str, Any]:
        """The plan of the people a dry-run upload names, as if it had been kept: read from
        HR (the upload over what is kept) and Cliq, nothing sent."""
        from hrsync.service.scheduler import integrations_of
        from hrsync.sources.scoped import unscoped
        from hrsync.wiring import build

        base = load_settings(self.config)
        with integrations_of(base) as integrations:
            settings = integrations.settings(source.integration, base)
        app = build(settings, dry_run=True, integration=source.integration)
        try:
            unscoped(app.engine.source).overlay = taken.overlay
            named = [r["person"] for r in taken.records if r.get("person")] + taken.absent
            app.engine.events = tuple(dict.fromkeys(named))
            plan, _, _ = app.engine.plan()
        finally:
            app.close()
        return {
            "changes": [{"change": c.describe(done=False), **c.to_dict()} for c in plan.changes],
            "notes": plan.notes,
            "pending": plan.pending,
            "errors": [str(e) for e in plan.errors],
            "refused": plan.refused,
        }

    def _source(self, sha256: str) -> Source | None:
        """The SCIM source a token's hash is of, while it is one (its integration may have
        been deleted or given another source since the token was made)."""
        store = self.store()
        integration = store.token_integration(sha256)
        if integration is None:
            return None
        found = store.source_config(integration)
        if found is None and integration == TOML:  # hrsync.toml's own
            found = load_settings(self.config).source.model_dump(), "enabled"
        if found is None or found[0].get("kind") != "scim":
            return None
        source, status = found
        wait = float(source.get("debounce_seconds", DEFAULT_WAIT))
        return Source(integration, wait, source, runs=status == "enabled")

    def count(self, integration: str, method: str, status: int) -> None:
        if self.metrics is not None:
            self.metrics.scim.labels(integration, method, str(status)).inc()

    def _answer(self, answer: ScimResponse, integration: str = "", method: str = "") -> Response:
        self.count(integration, method, int(answer.status))
        body = b"" if answer.body is None else json.dumps(answer.body).encode()
        return Response(body, status_code=int(answer.status), headers=answer.headers)


@dataclass(frozen=True)
class Source:
    """The SCIM source a call belongs to."""

    integration: str
    wait: float  # [source] debounce_seconds
    config: dict[str, Any] = field(default_factory=dict)  # its [source]
    # Whether its integration runs: while it is a draft or deactivated, pushes are kept and
    # queue no HR event (its first run, once enabled, syncs everyone).
    runs: bool = True


class TooManyFailures(SCIMException):
    status = 429
    _default_detail = "too many calls with a wrong token from this address: wait a minute"


class FailedTokens:
    """Calls with a wrong token, per client address: past ``FAILURES_ALLOWED`` in a minute,
    the address is refused (429) until the minute has passed."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def failed(self, client: str) -> None:
        with self._lock:
            self._seen.setdefault(client, []).append(self.clock.now())

    def blocked(self, client: str) -> bool:
        since = self.clock.now() - FAILURE_WINDOW
        with self._lock:
            kept = [t for t in self._seen.get(client, []) if t > since]
            if kept:
                self._seen[client] = kept
            else:
                self._seen.pop(client, None)
            return len(kept) >= FAILURES_ALLOWED


def _scim_error(status: int, detail: str, scim_type: str) -> ScimResponse:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": str(status),
        "scimType": scim_type,
        "detail": detail,
    }
    return ScimResponse(HTTPStatus(status), body)


def _error(status: HTTPStatus, detail: str, scim_type: str = "") -> Response:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": str(int(status)),
        "detail": detail,
    } | ({"scimType": scim_type} if scim_type else {})
    return Response(json.dumps(body), status_code=int(status), media_type="application/scim+json")
