"""The admin page, served by ``hrsync serve``: server-rendered HTML, a form per action.

Every page but the sign-in needs a session; every POST needs the session's CSRF token; the
sign-in form has its own (a cookie and a field that must match). Approving a held run asks for
the passphrase again when the session's last proof is older than five minutes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import tomli_w
from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from hrsync.access.admin import WINDOW as PROOF_WINDOW
from hrsync.access.admin import ReauthenticationNeeded, has_passphrase, verify
from hrsync.access.connections import Connections
from hrsync.access.integrations import (
    Integrations,
    config_from,
    keeping_secrets,
    schedule_seconds,
    without_secrets,
)
from hrsync.access.services import DATA_CENTRES, ZOHO_SERVICES, CustomService
from hrsync.access.vault import Vault
from hrsync.clock import Clock
from hrsync.config import load_settings
from hrsync.errors import HrsyncError
from hrsync.service.scheduler import Scheduler
from hrsync.store import RunRecord, Store
from hrsync.sync.engine import HeldRun
from hrsync.web.sessions import COOKIE, OAuthStates, Session, Sessions
from hrsync.wiring import App, build

HERE = Path(__file__).parent
SIGNIN_COOKIE = "hrsync_signin"  # the sign-in form's CSRF token, before any session
templates = Jinja2Templates(directory=str(HERE / "templates"))


class Site:
    """What the pages share: the configuration, the scheduler, and one store kept open."""

    def __init__(
        self, config: Path, scheduler: Scheduler, clock: Clock, *, proof: float = PROOF_WINDOW
    ) -> None:
        self.config, self.scheduler, self.clock = config, scheduler, clock
        self.proof = proof  # seconds a passphrase given stays good for sensitive actions
        self._store: Store | None = None

    def fresh(self, session: Session) -> bool:
        """Whether ``session`` gave the passphrase recently enough for a sensitive action."""
        return session.proved_within(self.proof, self.clock.now())

    @property
    def store(self) -> Store:
        url = load_settings(self.config).store.url
        if self._store is None or self._store.url != url:
            self.close()
            self._store = Store(url, clock=self.clock)
        return self._store

    def runs_store(self, integration: str) -> Store:
        """The store, seen from one integration's runs (``default``: hrsync.toml's own)."""
        return Store(self.store.url, clock=self.clock, integration=integration)

    @contextmanager
    def integrations(self) -> Iterator[Integrations]:
        settings = load_settings(self.config)
        client = httpx.Client(timeout=30)
        try:
            vault = Vault.open(settings.store.key_file)
            yield Integrations(self.store, Connections(self.store, vault, client, self.clock))
        finally:
            client.close()

    @contextmanager
    def reading(self, integration: str) -> Iterator[App]:
        """An app that only reads, for ``integration`` (any state: a draft can be looked at)."""
        base = load_settings(self.config)
        with self.integrations() as integrations:
            settings = integrations.settings(integration, base)
        app = build(settings, dry_run=True, integration=integration)
        try:
            yield app
        finally:
            app.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _took(run: RunRecord) -> str:
    if not run.finished_at:
        return "running" if run.status == "running" else "—"
    seconds = int(run.finished_at - run.started_at)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


templates.env.filters["when"] = _when
templates.env.filters["took"] = _took


class SignInNeeded(Exception):
    """A page asked for without a session: to the sign-in page."""


def session_of(request: Request) -> Session:
    """The request's session; a page without one goes to the sign-in, a POST is refused."""
    site: Site = request.app.state.site
    found = Sessions(site.store).find(request.cookies.get(COOKIE))
    if found is None:
        if request.method == "GET":
            raise SignInNeeded
        raise HTTPException(401, "sign in first")
    return found


def checked(request: Request, csrf: Annotated[str, Form()] = "") -> Session:
    """The session of a POST whose form carries the session's CSRF token."""
    session = session_of(request)
    if not session.csrf_matches(csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
    return session


Signed = Annotated[Session, Depends(session_of)]
Checked = Annotated[Session, Depends(checked)]


def web_router(site: Site) -> APIRouter:
    """The pages; the app they are included in keeps ``site`` as ``app.state.site``."""
    router = APIRouter()

    def page(request: Request, template: str, session: Session | None, **values: Any) -> Response:
        return templates.TemplateResponse(
            request,
            template,
            {"session": session, "now": site.clock.now(), **values},
            headers={"Cache-Control": "no-store"},
        )

    @router.get("/signin", response_class=HTMLResponse)
    def signin_form(request: Request, problem: str = "") -> Response:
        token = secrets.token_urlsafe(32)
        response = page(
            request,
            "signin.html",
            None,
            signin_csrf=token,
            problem=problem,
            ready=has_passphrase(site.store),
        )
        _cookie(response, SIGNIN_COOKIE, token, max_age=900)
        return response

    @router.post("/signin")
    def signin(
        request: Request,
        passphrase: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        expected = request.cookies.get(SIGNIN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
        try:
            verify(site.store, passphrase)
        except ReauthenticationNeeded as problem:
            response = page(
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
    def integrations_page(request: Request, session: Signed, note: str = "") -> Response:
        with site.integrations() as integrations:
            found = []
            for info in integrations.every(ask_zoho=False):
                runs = site.runs_store(info.name)
                try:
                    last = runs.runs(1)
                finally:
                    runs.close()
                found.append(
                    {
                        "info": info,
                        "last": last[0] if last else None,
                        "next": integrations.next_run(info.name),
                    }
                )
            connections = [c.name for c in integrations.connections.list()]
        return page(
            request,
            "integrations.html",
            session,
            integrations=found,
            connections=connections,
            running=site.scheduler.running,
            note=note,
            proof_fresh=site.fresh(session),
        )

    def to_list(note: str) -> Response:
        return RedirectResponse("/?" + _query(note=note), status_code=303)

    @router.post("/integrations")
    def create_integration(
        session: Checked,
        name: Annotated[str, Form()] = "",
        source_file: Annotated[str, Form()] = "",
        source_connection: Annotated[str, Form()] = "",
        target: Annotated[str, Form()] = "",
        connect: Annotated[str, Form()] = "",
        network_id: Annotated[str, Form()] = "",
        schedule: Annotated[str, Form()] = "",
    ) -> Response:
        name = name.strip()
        if not name:
            return to_list("not created: give the integration a name")
        path = source_file.strip()
        if path and not Path(path).is_absolute():  # as in hrsync.toml: beside the configuration
            path = str((site.config.parent / path).resolve())
        config = config_from(
            source_file=path,
            source_connection=source_connection.strip(),
            target=target.strip(),
            connect=connect.strip(),
            network_id=network_id.strip(),
        )
        try:
            with site.integrations() as integrations:
                info = integrations.create(name, config, schedule=schedule.strip())
        except HrsyncError as problem:
            return to_list(f"{name} not created: {problem}")
        waits = f"; it waits for: {'; '.join(info.pending)}" if info.pending else ""
        return to_list(f"{name} created as a draft{waits}")

    @router.get("/integrations/{name}/configure", response_class=HTMLResponse)
    def configure_page(request: Request, session: Signed, name: str, problem: str = "") -> Response:
        with site.integrations() as integrations:
            try:
                shown = tomli_w.dumps(without_secrets(integrations.config(name)))
                schedule = integrations.show(name, ask_zoho=False).schedule
            except HrsyncError as error:
                raise HTTPException(404, str(error)) from None
        return page(
            request,
            "configure.html",
            session,
            name=name,
            text=shown,
            schedule=schedule,
            problem=problem,
        )

    @router.post("/integrations/{name}/configure", response_class=HTMLResponse)
    def configure(
        request: Request,
        session: Checked,
        name: str,
        text: Annotated[str, Form()] = "",
        schedule: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            edited = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            return page(
                request,
                "configure.html",
                session,
                name=name,
                text=text,
                schedule=schedule,
                problem=f"not saved: the TOML cannot be read: {error}",
            )
        edited.pop("store", None)  # the service's own store, never an integration's
        try:
            with site.integrations() as integrations:
                schedule_seconds(schedule)  # a bad schedule saves nothing
                info = integrations.configure(
                    name, keeping_secrets(edited, integrations.config(name))
                )
                integrations.reschedule(name, schedule)
        except HrsyncError as error:
            return page(
                request,
                "configure.html",
                session,
                name=name,
                text=text,
                schedule=schedule,
                problem=f"not saved: {error}",
            )
        waits = f"; it waits for: {'; '.join(info.pending)}" if info.pending else ""
        return to_list(f"{name} configured: {info.status}{waits}")

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
                    return to_list(f"{name}: {info.status}")
                if action != "delete":
                    raise HTTPException(404, f"no action {action!r}")
                if confirm.strip() != name:
                    return to_list(f"{name} not deleted: type its name to confirm")
                if not site.fresh(session):
                    verify(site.store, passphrase)
                    Sessions(site.store).proved(session)
                integrations.delete(name, proven=True)
        except HrsyncError as problem:
            said = str(problem)
            return to_list(said if said.startswith(name) else f"{name}: {said}")
        return to_list(f"{name} deleted")

    def to_connections(note: str) -> Response:
        return RedirectResponse("/connections?" + _query(note=note), status_code=303)

    def prove(session: Session, passphrase: str) -> None:
        """A sensitive action: the passphrase again, unless given in the last five minutes."""
        if not site.fresh(session):
            verify(site.store, passphrase)
            Sessions(site.store).proved(session)

    @router.get("/connections", response_class=HTMLResponse)
    def connections_page(request: Request, session: Signed, note: str = "") -> Response:
        with site.integrations() as integrations:
            found = integrations.connections.list()
        return page(
            request,
            "connections.html",
            session,
            connections=found,
            services=ZOHO_SERVICES,
            data_centres=list(DATA_CENTRES),
            callback=_callback(request),
            note=note,
            proof_fresh=site.fresh(session),
        )

    @router.post("/connections")
    def add_connection(
        session: Checked,
        name: Annotated[str, Form()] = "",
        service: Annotated[str, Form()] = "zoho_cliq",
        dc: Annotated[str, Form()] = "US",
        client_id: Annotated[str, Form()] = "",
        client_secret: Annotated[str, Form()] = "",
        api_url: Annotated[str, Form()] = "",
        accounts_url: Annotated[str, Form()] = "",
        allow_http: Annotated[bool, Form()] = False,
    ) -> Response:
        name = name.strip()
        if not name or not client_id.strip():
            return to_connections("not added: a connection needs a name and a client id")
        try:
            with site.integrations() as integrations:
                integrations.connections.add_zoho(
                    name,
                    service,
                    dc=dc,
                    client_id=client_id.strip(),
                    client_secret=client_secret.strip(),
                    api_url=api_url.strip(),
                    accounts_url=accounts_url.strip(),
                    allow_http=allow_http,
                )
        except HrsyncError as problem:
            return to_connections(f"{name} not added: {problem}")
        return to_connections(f"{name} added: authorise it to let hrsync call Zoho")

    @router.post("/connections/custom")
    def add_custom_connection(
        session: Checked,
        name: Annotated[str, Form()] = "",
        auth_type: Annotated[str, Form()] = "oauth2",
        base_url: Annotated[str, Form()] = "",
        authorize_url: Annotated[str, Form()] = "",
        access_token_url: Annotated[str, Form()] = "",
        refresh_token_url: Annotated[str, Form()] = "",
        scopes: Annotated[str, Form()] = "",
        grant_type: Annotated[str, Form()] = "authorization_code",
        param_placement: Annotated[str, Form()] = "header",
        client_id: Annotated[str, Form()] = "",
        client_secret: Annotated[str, Form()] = "",
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        allow_http: Annotated[bool, Form()] = False,
    ) -> Response:
        name = name.strip()
        try:
            spec = CustomService(
                name=name,
                auth_type=auth_type,  # checked by the model
                base_url=base_url.strip(),
                authorize_url=authorize_url.strip(),
                access_token_url=access_token_url.strip(),
                refresh_token_url=refresh_token_url.strip(),
                scopes=[x.strip() for x in scopes.split(",") if x.strip()],
                grant_type=grant_type,
                param_placement=param_placement,
            )
        except ValidationError as exc:
            said = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            return to_connections(f"{name or 'the connection'} not added: {said}")
        try:
            with site.integrations() as integrations:
                integrations.connections.add_custom(
                    name,
                    spec,
                    client_id=client_id.strip(),
                    client_secret=client_secret.strip(),
                    username=username.strip(),
                    password=password,
                    allow_http=allow_http,
                )
        except HrsyncError as problem:
            return to_connections(f"{name} not added: {problem}")
        missing = spec.missing()
        needs = f"; it still needs {', '.join(missing)}" if missing else ""
        return to_connections(f"{name} added{needs}")

    @router.post("/connections/{name}/authorise")
    def authorise(
        request: Request,
        session: Checked,
        name: str,
        passphrase: Annotated[str, Form()] = "",
    ) -> Response:
        redirect_uri = _callback(request)
        try:
            with site.integrations() as integrations:
                if integrations.connections.show(name).authorised:  # authorising it again
                    prove(session, passphrase)
                state = OAuthStates(site.store).begin(name, session, redirect_uri)
                url = integrations.connections.authorize_url(
                    name, redirect_uri=redirect_uri, state=state
                )
        except HrsyncError as problem:
            return to_connections(f"{name} not authorised: {problem}")
        return RedirectResponse(url, status_code=303)

    @router.get("/oauth/callback", response_class=HTMLResponse)
    def oauth_callback(
        request: Request, state: str = "", code: str = "", error: str = ""
    ) -> Response:
        """Zoho's redirect after consent. The session cookie is SameSite=Strict, so it does
        not come with a redirect from Zoho's site: the state (random, one use, ten minutes,
        made for a signed-in session) is the proof instead."""
        begun = OAuthStates(site.store).finish(state)
        if begun is None:
            note = "not authorised: the consent is unknown or too old; start again"
        elif error or not code:
            note = f"{begun.name} not authorised: Zoho said {error or 'no code'}"
        else:
            try:
                with site.integrations() as integrations:
                    integrations.connections.authorise(
                        begun.name, code=code, redirect_uri=begun.redirect_uri
                    )
                note = f"{begun.name} authorised"
            except HrsyncError as problem:
                note = f"{begun.name} not authorised: {problem}"
        return page(
            request, "callback.html", None, note=note, onward="/connections?" + _query(note=note)
        )

    @router.post("/connections/{name}/test")
    def test_connection(session: Checked, name: str) -> Response:
        try:
            with site.integrations() as integrations:
                ok, said = integrations.connections.test(name)
        except HrsyncError as problem:
            ok, said = False, str(problem)
        return to_connections(f"{name}: {'works' if ok else 'does not work'}: {said}")

    @router.post("/connections/{name}/revoke")
    def revoke_connection(
        session: Checked, name: str, passphrase: Annotated[str, Form()] = ""
    ) -> Response:
        try:
            prove(session, passphrase)
            with site.integrations() as integrations:
                integrations.connections.revoke(name)
        except HrsyncError as problem:
            return to_connections(f"{name} not revoked: {problem}")
        return to_connections(f"{name} revoked: its tokens are gone here and at Zoho")

    @router.get("/progress")
    def progress(session: Signed) -> dict[str, Any]:
        """The run in progress, for the page's live view (``running`` false when idle)."""
        live = site.scheduler.progress
        if live is None:
            return {"running": False}
        return {"running": True} | live.snapshot()

    @router.get("/runs", response_class=HTMLResponse)
    def runs_page(request: Request, session: Signed, integration: str = "") -> Response:
        names = [integration] if integration else ["default", *_names(site)]
        rows: list[RunRecord] = []
        for name in names:
            runs = site.runs_store(name)
            try:
                rows += runs.runs(50)
            finally:
                runs.close()
        rows.sort(key=lambda r: r.id, reverse=True)
        return page(request, "runs.html", session, runs=rows[:100], integration=integration)

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
        note: str = "",
    ) -> Response:
        run, journal = run_or_404(run_id)
        shown = _filtered(journal, person, kind)
        kinds = sorted({j.kind for j in journal})
        fresh = site.fresh(session)
        return page(
            request,
            "run.html",
            session,
            run=run,
            journal=shown,
            total=len(journal),
            kinds=kinds,
            person=person,
            kind=kind,
            note=note,
            approvable=_approvable(run) == "",
            why_not=_approvable(run),
            proof_fresh=fresh,
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
    ) -> Response:
        run, _ = run_or_404(run_id)
        why_not = _approvable(run)
        if why_not:
            raise HTTPException(409, why_not)
        if not site.fresh(session):
            try:
                verify(site.store, passphrase)
            except ReauthenticationNeeded as problem:
                return RedirectResponse(
                    f"/runs/{run_id}?" + _query(note=f"not approved: {problem}"), status_code=303
                )
            Sessions(site.store).proved(session)
        held = HeldRun(run.id, str(run.summary["fingerprint"]), approver="the admin page")
        site.scheduler.approve(run.integration, held, only=run.summary.get("only") or ())
        note = (
            f"approved: run {run.id}'s plan is applied as soon as the run in progress ends "
            "(or nothing, if HR or Cliq changed since)"
        )
        return RedirectResponse(f"/runs/{run_id}?" + _query(note=note), status_code=303)

    @router.get("/people", response_class=HTMLResponse)
    def people_page(
        request: Request, session: Signed, integration: str = "", q: str = ""
    ) -> Response:
        names = _names(site)
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
        return page(
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
        request: Request, session: Signed, integration: str, employee_id: str, note: str = ""
    ) -> Response:
        problem = ""
        explained = None
        try:
            with site.reading(integration) as app:
                explained, snapshot = app.engine.explain(employee_id)
            if explained is None:
                errors = [str(e) for e in snapshot.errors if e.employee_id == employee_id]
                problem = "; ".join(errors) or "HR has no one with this employee id"
        except HrsyncError as error:
            problem = f"the HR source cannot be read: {error}"
        runs = site.runs_store(integration)
        try:
            history = runs.history(employee_id)
        finally:
            runs.close()
        return page(
            request,
            "person.html",
            session,
            integration=integration,
            employee_id=employee_id,
            explained=explained,
            problem=problem,
            history=history,
            note=note,
        )

    @router.post("/people/{integration}/{employee_id}/sync")
    def sync_person(session: Checked, integration: str, employee_id: str) -> Response:
        if integration not in _names(site):
            raise HTTPException(404, f"no integration {integration}")
        site.scheduler.enqueue(integration, frozenset({employee_id}))
        note = (
            f"{employee_id} is synced as soon as the run in progress ends; the history below "
            "shows it once done (reload)"
        )
        return RedirectResponse(
            f"/people/{integration}/{employee_id}?" + _query(note=note), status_code=303
        )

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


def _callback(request: Request) -> str:
    """The redirect URI to register in Zoho's API console: this page's own /oauth/callback."""
    return str(request.base_url).rstrip("/") + "/oauth/callback"


def _names(site: Site) -> list[str]:
    with site.integrations() as integrations:
        return integrations.names()


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
    if run.mode != "apply" or run.status != "held":
        return f"run {run.id} is not held"
    if "approved_by" in run.summary:
        return f"run {run.id} was approved already: run {run.summary['approved_by']} applied it"
    if not run.summary.get("fingerprint"):
        return f"run {run.id} was held before hrsync kept held plans"
    if run.integration == "default":
        return (
            f"hrsync.toml's own runs are approved on the command line: hrsync runs approve {run.id}"
        )
    return ""


def _query(**values: str) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


def _cookie(response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )
