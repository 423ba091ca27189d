"""An integration run now or planned now from the admin page.

"Run now" asks the scheduler for a run (under the integration's lease, as every run: one run
of an integration at a time) and follows it to its page once it has begun. "Plan now" reads
HR and Cliq, sends nothing, and shows the plan as a page: its changes in the future tense,
what a guard would hold, and the counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from hrsync.access.ownership import TOML, TOML_FILE
from hrsync.config import load_settings
from hrsync.errors import HrsyncError, SafetyHold
from hrsync.store import RunRecord
from hrsync.sync.pending import pending_actions
from hrsync.web.held import guard_said
from hrsync.web.sessions import Session
from hrsync.web.site import Checked, Signed, Site, render

SHOWN = 500  # changes a plan's page lists (the counts say all)


def run_now_routes(site: Site) -> APIRouter:
    """The routes of "Run now" and "Plan now"; their forms are on the Integrations page."""
    router = APIRouter()

    def to_list(session: Session, note: str) -> Response:
        return site.tell(session, "/", note)

    @router.post("/integrations/{name}/run")
    def run_now(session: Checked, name: str) -> Response:
        shown = _shown(name)
        try:
            with site.integrations() as integrations:
                integrations.runnable(name, load_settings(site.config))
        except HrsyncError as problem:
            return to_list(session, f"{shown} not run: {problem}")
        last = latest_run(site, name)
        site.scheduler.run_now(name)
        after = last.id if last is not None else 0
        return RedirectResponse(f"/integrations/{name}/queued?after={after}", status_code=303)

    @router.get("/integrations/{name}/queued")
    def queued(request: Request, session: Signed, name: str, after: int = 0) -> Response:
        """The run asked for, once it has begun; until then, a page that says it waits."""
        begun = first_run_after(site, name, after)
        if begun is not None:
            return RedirectResponse(f"/runs/{begun}", status_code=303)
        running = site.scheduler.running
        return render(
            request, "queued.html", session, name=_shown(name), running=_shown(running)
        )  # fmt: skip

    @router.post("/integrations/{name}/plan")
    def plan_now(request: Request, session: Checked, name: str) -> Response:
        try:
            found = _plan(site, name)
        except HrsyncError as problem:
            return to_list(session, f"{_shown(name)} not planned: {problem}")
        return render(request, "plan.html", session, name=_shown(name), shown=SHOWN, **found)

    return router


def _plan(site: Site, name: str) -> dict[str, Any]:
    """A dry plan of ``name``, and what a guard would hold; nothing is sent to Zoho but
    reads."""
    with site.reading(name) as app:
        try:
            outcome = app.engine.run_plan()
        except SafetyHold as hold:  # the source's sanity gate holds before any plan
            return {"plan": None, "holds": [guard_said(str(hold))], "run_id": None}
        plan = outcome.plan
        holds = [guard_said(said) for said in app.engine.holds(plan)]
    actions, errors = pending_actions(plan)
    return {
        "plan": plan,
        "holds": holds,
        "run_id": outcome.run_id,
        "counts": plan.counts(),
        "calls": plan.api_calls(),
        "actions": [a.action for a in actions],
        "errors": [str(e) for e in errors],
    }


def latest_run(site: Site, name: str) -> RunRecord | None:
    runs = site.runs_store(name)
    try:
        found = runs.runs(1)
    finally:
        runs.close()
    return found[0] if found else None


def first_run_after(site: Site, name: str, after: int) -> int | None:
    """The first run of ``name`` begun after run ``after``, if one has."""
    runs = site.runs_store(name)
    try:
        later = [r.id for r in runs.runs(20) if r.id > after]
    finally:
        runs.close()
    return min(later) if later else None


def live_line(site: Site, run: RunRecord) -> str:
    """The progress of ``run`` while the scheduler has it in hand, as the page first shows
    it (the page's script keeps it up to date); "" for any other run."""
    live = site.scheduler.progress
    if run.status != "running" or live is None or live.integration != run.integration:
        return ""
    p, name = live.snapshot(), _shown(run.integration)
    if p["phase"] == "reading":
        said = f"Running {name}: reading HR and Zoho, {p['calls_made']} calls made"
    else:
        said = (
            f"Running {name}: {p['changes_done']}/{p['changes_total']} changes, "
            f"{p['calls_made']} calls made, {p['calls_left']} left"
        )
    return f"{said}; {p['waiting']['said']}" if p["waiting"] else said


def _shown(name: str) -> str:
    return TOML_FILE if name == TOML else name
