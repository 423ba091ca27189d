"""The admin page's overview: runs over time with their outcome, changes per run by kind, and
Zoho calls against each endpoint's limit, as charts with their figures beside them.
``chart_context`` gives any page what the ``charts.html`` partial draws."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from hrsync.api.ratelimit import ZOHO_LIMITS
from hrsync.store import RunRecord
from hrsync.store.calls import calls_per_endpoint
from hrsync.web.charts import (
    OUTCOMES,
    EndpointCalls,
    calls_chart,
    changes_chart,
    changes_of,
    kind_colour,
    kinds_of,
    outcome,
    runs_chart,
)
from hrsync.web.site import FORM_LIMIT, Signed, Site, render

RUNS_CHARTED = 40  # the latest applies drawn


def overview_routes(site: Site) -> APIRouter:
    router = APIRouter(max_body_size=FORM_LIMIT)

    @router.get("/overview", response_class=HTMLResponse)
    def overview_page(request: Request, session: Signed, integration: str = "") -> Response:
        return render(
            request, "overview.html", session, **chart_context(site, integration=integration)
        )

    return router


def chart_context(site: Site, *, integration: str = "") -> dict[str, Any]:
    """What ``charts.html`` draws: the latest applies of ``integration`` (every one when
    ""), their changes, and the calls of the last hour against Zoho's limits."""
    runs = applies(site, integration)
    calls = endpoint_calls(site)
    return {
        "charted_runs": runs,
        "charted_integration": integration,
        "outcomes": OUTCOMES,
        "outcome_of": outcome,
        "changes_of": changes_of,
        "kinds": kinds_of(runs),
        "kind_colour": kind_colour,
        "runs_svg": runs_chart(runs),
        "changes_svg": changes_chart(runs),
        "calls": calls,
        "calls_svg": calls_chart(calls),
    }


def applies(site: Site, integration: str) -> list[RunRecord]:
    """The latest applies, newest first, of one integration or of them all."""
    names = [integration] if integration else ["default", *site.integration_names()]
    found: list[RunRecord] = []
    for name in dict.fromkeys(names):
        runs = site.runs_store(name)
        try:
            found += [r for r in runs.runs(RUNS_CHARTED * 2) if r.mode == "apply"]
        finally:
            runs.close()
    found.sort(key=lambda r: r.id, reverse=True)
    return found[:RUNS_CHARTED]


def endpoint_calls(site: Site) -> list[EndpointCalls]:
    """Each endpoint's calls of the last minute and hour, with its documented limit."""
    found = []
    for host, endpoint, minute, hour, locked in calls_per_endpoint(
        site.store, now=site.clock.now()
    ):
        limit = ZOHO_LIMITS.get(endpoint)
        shown = urlsplit(host).netloc or host
        per_minute = limit.per_minute if limit else 0
        found.append(EndpointCalls(shown, endpoint, minute, hour, per_minute, locked))
    return found
