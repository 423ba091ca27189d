"""The admin page, served by ``hrsync serve``: server-rendered HTML, a form per action.

Every page but the sign-in needs a session; every POST must come from a page of this site and
carry the session's CSRF token; the sign-in form has its own (a cookie and a field that must
match). Each form has a limit on its size. What a form did is said on the next page from a
note kept for the session, never from the URL (a link cannot make the page say anything).
Approving a held run asks for the passphrase again when the session's last proof is older
than five minutes."""

from __future__ import annotations

import csv
import io
import secrets
import tomllib
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hrsync.access.admin import WEB, ReauthenticationNeeded, has_passphrase, verify
from hrsync.access.integration_config import config_from, keeping_secrets, without_secrets
from hrsync.access.scim_tokens import make_token
from hrsync.config import load_settings
from hrsync.errors import HrsyncError
from hrsync.schedule import parse_schedule
from hrsync.store import RunRecord
from hrsync.store.events import EventRecord
from hrsync.store.scim import ScimStore
from hrsync.sync.runs import HeldRun
from hrsync.web.connections import connection_routes
from hrsync.web.held import approving_does, at_stake, guard_said
from hrsync.web.integration_rows import PEOPLE_SERVICE, not_people, with_toml
from hrsync.web.overview import overview_routes
from hrsync.web.people import people_routes
from hrsync.web.run_now import live_line, run_now_routes
from hrsync.web.sessions import COOKIE, Session, Sessions
from hrsync.web.site import (
    CONFIGURATION_LIMIT,
    FORM_LIMIT,
    HERE,
    SIGNIN_COOKIE,
    SIGNIN_LIMIT,
    Checked,
    Signed,
    SignInNeeded,
    Site,
    from_here,
    render,
)

__all__ = ["HERE", "SignInNeeded", "Site", "web_router"]


def web_router(site: Site) -> APIRouter:
    """The pages; the app they are included in keeps ``site`` as ``app.state.site``."""
    router = APIRouter(max_body_size=FORM_LIMIT)
    router.include_router(connection_routes(site))
    router.include_router(people_routes(site))
    router.include_router(run_now_routes(site))
    router.include_router(overview_routes(site))

    @router.get("/signin", response_class=HTMLResponse)
    def signin_form(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response = render(
            request,
            "signin.html",
            None,
            signin_csrf=token,
            problem="",
            ready=has_passphrase(site.store),
        )
        _cookie(response, SIGNIN_COOKIE, token, max_age=900)
        return response

    @router.post("/signin", max_body_size=SIGNIN_LIMIT)
    def signin(
        request: Request,
        passphrase: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        from_here(request)
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
        try:
            verify(site.store, passphrase, door=WEB, who=_visitor(request))
        except ReauthenticationNeeded as problem:
            response = render(
                request,
                "signin.html",
                None,
                signin_csrf=expected,
                problem=str(problem),
                ready=has_passphrase(site.store),
            )
            response.status_code = 401
            return response
        token, _ = Sessions(site.store).start()
        response = RedirectResponse("/", status_code=303)
        _cookie(response, COOKIE, token, max_age=None)
        response.delete_cookie(SIGNIN_COOKIE, path="/")
        return response

    @router.post("/signout")
    def signout(session: Checked) -> Response:
        Sessions(site.store).end(session)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/", response_class=HTMLResponse)
    def integrations_page(request: Request, session: Signed) -> Response:
        with site.integrations() as integrations:
            found = []
            for info in with_toml(site, integrations.every(ask_zoho=False)):
                runs = site.runs_store(info.name)
                try:
                    last = runs.runs(1)
                finally:
                    runs.close()
                scim = ScimStore.on(integrations.store) if info.source.startswith("SCIM") else None
                found.append(
                    {
                        "info": info,
                        "last": last[0] if last else None,
                        "next": integrations.next_run(info.name),
                        "scim": scim is not None,
                        "token_at": scim.token_made_at(info.name) if scim else None,
                    }
                )
            every = integrations.connections.list()
        return render(
            request,
            "integrations.html",
            session,
            integrations=found,
            connections=[c.name for c in every],
            people_connections=[c.name for c in every if c.service == PEOPLE_SERVICE],
            running=site.scheduler.running,
            note=site.told(session),
            proof_fresh=site.fresh(session),
        )

    def to_list(session: Session, note: str) -> Response:
        return site.tell(session, "/", note)

    @router.post("/integrations")
    def create_integration(
        session: Checked,
        name: Annotated[str, Form()] = "",
        source_file: Annotated[str, Form()] = "",
        source_connection: Annotated[str, Form()] = "",
        source_scim: Annotated[str, Form()] = "",
        target: Annotated[str, Form()] = "",
        connect: Annotated[str, Form()] = "",
        network_id: Annotated[str, Form()] = "",
        schedule: Annotated[str, Form()] = "",
        scope: Annotated[str, Form()] = "",
    ) -> Response:
        name = name.strip()
        if not name:
            return to_list(session, "not created: give the integration a name")
        wrong = not_people(site, source_connection.strip())
        if wrong:
            return to_list(session, f"{name} not created: {wrong}")
        path = source_file.strip()
        if path and not Path(path).is_absolute():  # as in hrsync.toml: beside the configuration
            path = str((site.config.parent / path).resolve())
        try:
            config = config_from(
                source_file=path,
                source_connection=source_connection.strip(),
                source_scim=bool(source_scim),
                target=target.strip(),
                connect=connect.strip(),
                network_id=network_id.strip(),
                scope=[line for line in scope.splitlines() if line.strip()],
            )
            with site.integrations() as integrations:
                info = integrations.create(name, config, schedule=schedule.strip())
        except HrsyncError as problem:
            return to_list(session, f"{name} not created: {problem}")
        waits = f"; it waits for: {'; '.join(info.pending)}" if info.pending else ""
        return to_list(session, f"{name} created as a draft{waits}")

    @router.get("/integrations/{name}/configure", response_class=HTMLResponse)
    def configure_page(request: Request, session: Signed, name: str) -> Response:
        with site.integrations() as integrations:
            try:
                shown = tomli_w.dumps(without_secrets(integrations.config(name)))
                schedule = integrations.show(name, ask_zoho=False).schedule
            except HrsyncError as error:
                raise HTTPException(404, str(error)) from None
        return render(
            request,
            "configure.html",
            session,
            name=name,
            text=shown,
            schedule=schedule,
            problem="",
        )

    @router.post(
        "/integrations/{name}/configure",
        response_class=HTMLResponse,
        max_body_size=CONFIGURATION_LIMIT,
    )
    def configure(
        request: Request,
        session: Checked,
        name: str,
        text: Annotated[str, Form()] = "",
        schedule: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            edited = tomllib.loads(text)
            edited.pop("store", None)  # the service's own store, never an integration's
            with site.integrations() as integrations:
                parse_schedule(schedule)  # a bad schedule saves nothing
                info = integrations.configure(
                    name, keeping_secrets(edited, integrations.config(name))
                )
                integrations.reschedule(name, schedule)
        except (tomllib.TOMLDecodeError, HrsyncError) as error:
            unread = isinstance(error, tomllib.TOMLDecodeError)
            return render(
                request,
                "configure.html",
                session,
                name=name,
                text=text,
                schedule=schedule,
                problem=f"not saved: {'the TOML cannot be read: ' if unread else ''}{error}",
            )
        waits = f"; it waits for: {'; '.join(info.pending)}" if info.pending else ""
        return to_list(session, f"{name} configured: {info.status}{waits}")

    @router.post("/integrations/{name}/{action}")
    def change_integration(
        request: Request,
        session: Checked,
        name: str,
        action: str,
        passphrase: Annotated[str, Form()] = "",
        confirm: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            with site.integrations() as integrations:
                if action in ("enable", "deactivate", "activate"):
                    info = getattr(integrations, action)(name)
                    return to_list(session, f"{name}: {info.status}")
                if action == "scim-token":
                    return scim_token(request, session, integrations, name, passphrase)
                if action != "delete":
                    raise HTTPException(404, f"no action {action!r}")
                if confirm.strip() != name:
                    return to_list(session, f"{name} not deleted: type its name to confirm")
                site.prove(session, passphrase)
                integrations.delete(name, proven=True)
        except HrsyncError as problem:
            said = str(problem)
            return to_list(session, said if said.startswith(name) else f"{name}: {said}")
        return to_list(session, f"{name} deleted")

    def scim_token(
        request: Request, session: Session, integrations: Any, name: str, passphrase: str
    ) -> Response:
        """A SCIM source's token, shown once on the page that made it (never kept in the
        session or a note); replacing one needs the passphrase, as deleting does."""
        if integrations.settings(name, load_settings(site.config)).source.kind != "scim":
            return to_list(session, f"{name} does not take SCIM pushes")
        if ScimStore.on(integrations.store).token_made_at(name) is not None:
            site.prove(session, passphrase)
        token = make_token(integrations.store.url, name, clock=site.clock)
        response = render(request, "scim_token.html", session, name=name, token=token)
        response.headers["Cache-Control"] = "no-store"
        return response

    @router.get("/progress")
    def progress(session: Signed, integration: str = "") -> dict[str, Any]:
        """The run in progress (of ``integration``, when given), for the page's live view
        (``running`` false when idle)."""
        live = site.scheduler.progress
        if live is None or (integration and live.integration != integration):
            return {"running": False}
        return {"running": True} | live.snapshot()

    @router.get("/runs", response_class=HTMLResponse)
    def runs_page(request: Request, session: Signed, integration: str = "") -> Response:
        names = [integration] if integration else ["default", *site.integration_names()]
        rows: list[RunRecord] = []
        events: list[EventRecord] = []
        for name in names:
            runs = site.runs_store(name)
            try:
                rows += runs.runs(50)
                events += runs.events(limit=50)
            finally:
                runs.close()
        rows.sort(key=lambda r: r.id, reverse=True)
        events.sort(key=lambda e: e.id, reverse=True)
        return render(
            request,
            "runs.html",
            session,
            runs=rows[:100],
            events=events[:50],
            integration=integration,
        )

    def run_or_404(run_id: int) -> tuple[RunRecord, list[Any]]:
        run = site.store.run(run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id}")
        return run, site.store.journal(run_id)

    @router.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(
        request: Request,
        session: Signed,
        run_id: int,
        person: str = "",
        kind: str = "",
    ) -> Response:
        run, journal = run_or_404(run_id)
        shown = _filtered(journal, person, kind)
        kinds = sorted({j.kind for j in journal})
        fresh = site.fresh(session)
        return render(
            request,
            "run.html",
            session,
            run=run,
            journal=shown,
            total=len(journal),
            kinds=kinds,
            person=person,
            kind=kind,
            note=site.told(session),
            approvable=_approvable(run) == "",
            why_not=_approvable(run),
            proof_fresh=fresh,
            stake=at_stake(run.summary),
            guard_said=guard_said(str(run.summary.get("hold", ""))),
            approving_does=approving_does(run.summary.get("counts") or {}),
            live=live_line(site, run),
        )

    @router.get("/runs/{run_id}/changes.csv")
    def run_csv(session: Signed, run_id: int, person: str = "", kind: str = "") -> Response:
        _, journal = run_or_404(run_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["change", "kind", "state", "summary", "error"])
        for j in _filtered(journal, person, kind):
            writer.writerow([j.change_key, j.kind, j.state, j.summary, j.error])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="run-{run_id}.csv"'},
        )

    @router.post("/runs/{run_id}/approve")
    def approve(
        request: Request,
        session: Checked,
        run_id: int,
        passphrase: Annotated[str, Form()] = "",
        count: Annotated[str, Form()] = "",
    ) -> Response:
        run, _ = run_or_404(run_id)
        why_not = _approvable(run)
        if why_not:
            raise HTTPException(409, why_not)
        stake = at_stake(run.summary)
        if count.strip() != str(stake):
            typed = f"{count.strip()!r} was typed" if count.strip() else "nothing was typed"
            note = f"not approved: type {stake}, the number of changes at stake ({typed})"
            return site.tell(session, f"/runs/{run_id}", note)
        try:
            site.prove(session, passphrase)
        except ReauthenticationNeeded as problem:
            return site.tell(session, f"/runs/{run_id}", f"not approved: {problem}")
        held = HeldRun(run.id, str(run.summary["fingerprint"]), approver="the admin page")
        site.scheduler.approve(run.integration, held, only=run.summary.get("only") or ())
        note = (
            f"approved: run {run.id}'s plan is applied as soon as the run in progress ends "
            "(or nothing, if HR or Cliq changed since)"
        )
        return site.tell(session, f"/runs/{run_id}", note)

    return router


def _filtered(journal: list[Any], person: str, kind: str) -> list[Any]:
    wanted = person.strip().lower()
    return [
        j
        for j in journal
        if (not kind or j.kind == kind)
        and (not wanted or wanted in j.change_key.lower() or wanted in j.summary.lower())
    ]


def _approvable(run: RunRecord) -> str:
    """Why ``run`` cannot be approved ("" when it can)."""
    if "approved_by" in run.summary:
        return f"run {run.id} was approved already: run {run.summary['approved_by']} applied it"
    if run.mode != "apply" or run.status != "held":
        return f"run {run.id} is not held"
    if not run.summary.get("fingerprint"):
        return f"run {run.id} was held before hrsync kept held plans"
    return ""


def _visitor(request: Request) -> str:
    """Who signs in, for the log: the page and the address the call came from."""
    return f"the admin page ({request.client.host if request.client else 'unknown address'})"


def _cookie(response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )
