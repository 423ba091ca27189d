"""The admin page's people: search an integration's HR source, see what hrsync wants for one
person and why, with the changes it made for them, and sync them now."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from hrsync.errors import HrsyncError
from hrsync.sources.scoped import held_outside
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
        try:
            with site.reading(integration) as app:
                explained, snapshot = app.engine.explain(employee_id)
            if explained is None:
                errors = [str(e) for e in snapshot.errors if e.employee_id == employee_id]
                said = held_outside(snapshot, employee_id) or "HR has no one with this employee id"
                problem = "; ".join(errors) or said
        except HrsyncError as error:
            problem = f"the HR source cannot be read: {error}"
        runs = site.runs_store(integration)
        try:
            history = runs.history(employee_id)
        finally:
            runs.close()
        return render(
            request,
            "person.html",
            session,
            integration=integration,
            employee_id=employee_id,
            explained=explained,
            problem=problem,
            history=history,
            note=site.told(session),
        )

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
