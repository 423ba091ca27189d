"""The service's HTTP face: ``/healthz`` (the process answers), ``/readyz`` (the scheduler
runs and the store opens) and ``/metrics``; the scheduler starts and stops with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.service.hooks import accepts, employee_ids
from hrsync.service.metrics import Metrics
from hrsync.service.scheduler import Scheduler
from hrsync.store import Store


def create_service(
    config: Path,
    *,
    tick: float = 30.0,
    stop_timeout: float = 10.0,
    lease: float = 60.0,
    minute: float = 60.0,
) -> FastAPI:
    metrics = Metrics()
    scheduler = Scheduler(
        config,
        tick=tick,
        on_result=metrics.record,
        on_due=metrics.waiting,
        lease=lease,
        minute=minute,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        try:
            yield
        finally:  # SIGTERM: the run in progress ends before its next call
            scheduler.stop(stop_timeout)

    app = FastAPI(title="hrsync", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.scheduler, app.state.metrics = scheduler, metrics

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(response: Response) -> dict[str, object]:
        problems = [] if scheduler.alive() else ["the scheduler is not running"]
        try:
            Store(load_settings(config).store.url, clock=RealClock()).close()
        except Exception as exc:  # the store is what every run needs first
            problems.append(f"the store cannot be opened: {exc}")
        response.status_code = 503 if problems else 200
        return {"ready": not problems, "problems": problems, "running": scheduler.running}

    @app.post("/hooks/people/{integration}", status_code=202)
    async def hook(integration: str, request: Request, response: Response) -> dict[str, object]:
        """An HR event: sync the people it names, within Zoho's limits, in seconds."""
        given = request.headers.get("x-hrsync-secret") or request.query_params.get("secret", "")
        store_url = load_settings(config).store.url
        if not accepts(store_url, integration, given):
            metrics.refused.labels("secret").inc()
            response.status_code = 401
            return {"error": "unknown integration, or not its webhook secret"}
        try:
            body = await request.json() if await request.body() else None
        except ValueError:
            body = None
        people = employee_ids(body, dict(request.query_params))
        if not people:
            metrics.refused.labels("no_employee").inc()
            response.status_code = 400
            return {"error": "name the people: employee_ids, employee_id, or ?employee_id="}
        waiting = scheduler.enqueue(integration, people)
        metrics.queue.set(waiting)
        return {"queued": sorted(people), "integration": integration}

    @app.get("/metrics")
    def metrics_text() -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return app
