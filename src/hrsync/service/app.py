"""The service's HTTP face: ``/healthz`` (the process answers), ``/readyz`` (the scheduler
runs and the store opens) and ``/metrics``; the scheduler starts and stops with it, and each
run's result is counted and, when it deserves it, notified (``service/notify.py``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

from hrsync.access.admin import WINDOW as PROOF_WINDOW
from hrsync.clock import Clock, RealClock
from hrsync.config import load_settings
from hrsync.redaction import mask_secrets
from hrsync.service.metrics import Metrics, Seen
from hrsync.service.notify import service_notifier
from hrsync.service.scheduler import RunResult, Scheduler
from hrsync.service.scim.routes import ScimApi
from hrsync.service.vendor_hooks import VendorHooks
from hrsync.service.webhook import Webhook
from hrsync.store.probe import StoreProbe
from hrsync.web.pages import HERE, SignInNeeded, Site, web_router
from hrsync.web.protection import SecurityHeaders
from hrsync.web.site import FORM_LIMIT

STATIC = HERE / "static"
STORE_DOWN = "the store cannot be opened"
log = logging.getLogger(__name__)


def create_service(
    config: Path,
    *,
    tick: float = 30.0,
    stop_timeout: float = 10.0,
    lease: float = 60.0,
    minute: float = 60.0,
    clock: Clock | None = None,
    proof: float = PROOF_WINDOW,
) -> FastAPI:
    """The service: ``clock`` dates webhook signatures and sessions of the admin page (the
    real one unless a test says); ``lease`` is how long a claim on an integration lasts
    unrenewed; ``minute`` shortens schedules for tests."""
    clock = clock or RealClock()
    probe: dict[str, StoreProbe] = {}

    def store_probe() -> StoreProbe:
        url = load_settings(config).store.url
        if probe.get(url) is None:  # the configuration may name another store since
            probe[url] = StoreProbe(url)
        return probe[url]

    def from_store() -> Seen:
        found, now = store_probe(), clock.now()
        return Seen(now, found.locks(now), found.runs(), found.queued(), found.settled())

    metrics = Metrics(from_store)
    notify = service_notifier(config, metrics.notified)

    def on_result(result: RunResult) -> None:
        metrics.record(result)
        notify(result)

    scheduler = Scheduler(
        config,
        on_start=metrics.watch,
        tick=tick,
        on_result=on_result,
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
            for each in probe.values():
                each.close()
            site.close()
            scim.close()

    app = FastAPI(  # no API documents: the admin page is for a browser, the rest is listed
        title="hrsync",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=FORM_LIMIT,  # what no route says otherwise of: its forms and others
    )
    app.add_middleware(SecurityHeaders)
    app.state.scheduler, app.state.metrics = scheduler, metrics
    site = app.state.site = Site(config, scheduler, clock, proof=proof)
    app.include_router(web_router(site))
    app.include_router(Webhook(config, scheduler, metrics, clock).routes())
    app.include_router(VendorHooks(config, scheduler, metrics, clock).routes())
    scim = ScimApi(config, scheduler, clock, metrics)
    app.include_router(scim.routes())
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(SignInNeeded)
    async def to_signin(request: Request, _: SignInNeeded) -> Response:
        return RedirectResponse("/signin", status_code=303)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    said = [""]  # the store's last problem logged: said once, not at every look

    @app.get("/readyz")
    def readyz(response: Response) -> dict[str, object]:
        problems = [] if scheduler.alive() else ["the scheduler is not running"]
        found = store_probe()
        trouble = found.problem()
        if trouble != said[0] and trouble:
            log.warning("readyz: %s", mask_secrets(trouble))
        said[0] = trouble
        problems += [STORE_DOWN] if trouble else []  # the details are the log's, not the caller's
        response.status_code = 503 if problems else 200
        # A lock period Zoho set: the service works, slowed down; said, still ready.
        degraded = [] if trouble else _locked(found.locks(clock.now())) + _idle(found, site)
        return {
            "ready": not problems,
            "problems": problems,
            "degraded": degraded,
            "running": scheduler.running,
        }

    @app.get("/metrics")
    def metrics_text() -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return app


def _locked(locks: list[tuple[str, str, float]]) -> list[str]:
    return [
        f"Zoho locked {endpoint} at {host} for {seconds:.0f} s more: its calls wait"
        for host, endpoint, seconds in sorted(locks)
    ]


NOTHING_ENABLED = (
    "no integration is enabled, so nothing runs: name your Cliq organisation and HR source "
    'in hrsync.toml ([cliq] connection = "NAME", [source]), whose own integration then runs '
    "every 15 min ([sync] schedule), or `hrsync integrations create NAME …` and "
    "`hrsync integrations enable NAME`"
)
TOML_WAITS = (
    "hrsync.toml's own integration does not run yet and no other is enabled, so nothing "
    "runs: `hrsync integrations list` and the admin page say what it waits for"
)


def _idle(found: StoreProbe, site: Site) -> list[str]:
    """Why nothing runs, when nothing does: said, not detailed (paths and names are the
    admin page's, not any caller's)."""
    if found.enabled() != 0:  # some integration is enabled, or the store cannot tell
        return []
    try:
        with site.integrations() as integrations:
            toml = integrations.toml_info()
    except Exception:  # the configuration cannot be read: the log and the admin page say it
        log.warning("readyz: hrsync.toml's own integration could not be looked at", exc_info=True)
        toml = None
    if toml is not None and toml.status == "enabled":
        return []
    return [TOML_WAITS if toml is not None else NOTHING_ENABLED]
