"""The service's HTTP face: ``/healthz`` (the process answers), ``/readyz`` (the scheduler
runs and the store opens) and ``/metrics``; the scheduler starts and stops with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.service.metrics import Metrics
from hrsync.service.scheduler import Scheduler
from hrsync.store import Store


def create_service(config: Path, *, tick: float = 30.0, stop_timeout: float = 10.0) -> FastAPI:
    metrics = Metrics()
    scheduler = Scheduler(config, tick=tick, on_result=metrics.record, on_due=metrics.waiting)

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

    @app.get("/metrics")
    def metrics_text() -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return app
