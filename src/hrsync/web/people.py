"""The admin page's people: search an integration's HR source, see one person's fields as HR
and Cliq have them now, what hrsync wants and why, when they were last synced and every
integration's changes for them, and sync them now."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from hrsync.errors import HrsyncError
from hrsync.sources.scoped import held_outside
from hrsync.store import RunRecord
from hrsync.store.records import JournalRecord
from hrsync.sync.explain import Explanation
from hrsync.web.person import (
    CliqNow,
    CliqSide,
    field_rows,
    last_sync,
    managers_by_zuid,
    read_cliq_now,
    userfields_seen,
)
from hrsync.web.site import FORM_LIMIT, Checked, Signed, Site, render


def people_routes(site: Site) -> APIRouter:
    router = APIRouter(max_body_size=FORM_LIMIT)

    @router.get("/people", response_class=HTMLResponse)
    def people_page(
        request: Request, session: Signed, integration: str = "", q: str = ""
    ) -> Response:
        names = site.integration_names()
        chosen = integration or (names[0] if names else "")
        found: list[Any] = []
        problem = ""
        if chosen and q.strip():
            try:
                with site.reading(chosen) as app:
                    snapshot = app.engine.source.read()
                found = _matching(snapshot.employees, q)
            except HrsyncError as error:
                problem = f"{chosen}: the HR source cannot be read: {error}"
        return render(
            request,
            "people.html",
            session,
            names=names,
            integration=chosen,
            q=q,
            found=found[:MATCHES],
            more=max(0, len(found) - MATCHES),
            problem=problem,
        )

    @router.get("/people/{integration}/{employee_id}", response_class=HTMLResponse)
    def person_page(
        request: Request, session: Signed, integration: str, employee_id: str
    ) -> Response:
        problem = ""
        explained = None
        emails: dict[str, str] = {}
        try:
            with site.reading(integration) as app:
                explained, snapshot = app.engine.explain(employee_id)
            emails = {e.employee_id: e.email for e in snapshot.employees}
            if explained is None:
                errors = [str(e) for e in snapshot.errors if e.employee_id == employee_id]
                said = held_outside(snapshot, employee_id) or "HR has no one with this employee id"
                problem = "; ".join(errors) or said
        except HrsyncError as error:
            problem = f"the HR source cannot be read: {error}"
        cliq, rows = None, []
        if explained is not None:
            cliq, side = cliq_now(integration, explained, emails)
            rows = field_rows(explained, cliq.user, side)
        return render(
            request,
            "person.html",
            session,
            integration=integration,
            employee_id=explained.employee_id if explained else employee_id,
            explained=explained,
            problem=problem,
            cliq=cliq,
            rows=rows,
            differ=sum(r.state == "differ" for r in rows),
            synced=synced(integration, employee_id),
            histories=histories(employee_id),
            note=site.told(session),
        )

    def cliq_now(
        integration: str, explained: Explanation, emails: dict[str, str]
    ) -> tuple[CliqNow, CliqSide]:
        """Cliq's user now, read with a short timeout and no retries: a page never hangs."""
        try:
            with (
                httpx.Client(timeout=CLIQ_TIMEOUT) as client,
                site.reading(integration, client=client, retry_handlers=()) as app,
            ):
                links = app.store.links()
                zuid = links.get(explained.employee_id, "")
                side = CliqSide(managers_by_zuid(links, emails), userfields_seen(app))
                return read_cliq_now(app, zuid, explained.email), side
        except HrsyncError as error:  # no Cliq connection to read with
            return CliqNow(None, f"Cliq cannot be read: {error}"), CliqSide({})

    def synced(integration: str, employee_id: str) -> RunRecord | None:
        runs = site.runs_store(integration)
        try:
            return last_sync(runs.runs(RUNS_LOOKED_AT), employee_id)
        finally:
            runs.close()

    def histories(employee_id: str) -> list[tuple[str, RunRecord, JournalRecord]]:
        """Every integration's changes for the person, newest first."""
        found = []
        for name in ["default", *site.integration_names()]:
            runs = site.runs_store(name)
            try:
                found += [(name, run, j) for run, j in runs.history(employee_id)]
            finally:
                runs.close()
        found.sort(key=lambda h: (h[1].started_at, h[1].id), reverse=True)
        return found

    @router.post("/people/{integration}/{employee_id}/sync")
    def sync_person(session: Checked, integration: str, employee_id: str) -> Response:
        if integration not in site.integration_names():
            raise HTTPException(404, f"no integration {integration}")
        site.scheduler.enqueue(integration, frozenset({employee_id}))
        note = (
            f"{employee_id} is synced as soon as the run in progress ends; the history below "
            "shows it once done (reload)"
        )
        page = f"/people/{quote(integration, safe='')}/{quote(employee_id, safe='')}"
        return site.tell(session, page, note)

    return router


MATCHES = 50  # people shown for one search
CLIQ_TIMEOUT = 5.0  # seconds a person's page waits for Cliq before saying it cannot
RUNS_LOOKED_AT = 50  # an integration's latest runs searched for the person's last sync


def _matching(employees: Any, q: str) -> list[Any]:
    """The people whose id, email or name holds every word of ``q`` (any case)."""
    words = q.lower().split()
    found = []
    for e in employees:
        text = f"{e.employee_id} {e.email} {e.first_name} {e.last_name} {e.nickname}".lower()
        if all(w in text for w in words):
            found.append(e)
    found.sort(key=lambda e: (e.employee_id.lower() != q.strip().lower(), e.last_name, e.email))
    return found
