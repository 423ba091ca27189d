"""What the admin page's routes share: the site (configuration, scheduler, one store kept
open), the templates, the session a route needs, the origin and CSRF token a form post must
show, the limits on a form's size, the note a form leaves for the next page, and how a page
is drawn."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from hrsync.access.admin import WEB, verify
from hrsync.access.admin import WINDOW as PROOF_WINDOW
from hrsync.access.connections import Connections
from hrsync.access.integrations import Integrations
from hrsync.access.ownership import TOML, TOML_FILE
from hrsync.access.vault import Vault
from hrsync.clock import Clock
from hrsync.config import load_settings
from hrsync.service.scheduler import Scheduler
from hrsync.store import RunRecord, Store
from hrsync.web.protection import from_this_site
from hrsync.web.sessions import COOKIE, Session, Sessions
from hrsync.wiring import App, build

HERE = Path(__file__).parent
SIGNIN_COOKIE = "hrsync_signin"  # the sign-in form's CSRF token, before any session
# Bytes a form's body may have; a larger one is refused (413) before it is read.
SIGNIN_LIMIT = 4 * 1024  # a passphrase and a token
FORM_LIMIT = 16 * 1024  # names, ids, URLs, a secret or two
CONFIGURATION_LIMIT = 256 * 1024  # an integration's whole configuration, as TOML
templates = Jinja2Templates(directory=str(HERE / "templates"))


class Site:
    """What the pages share: the configuration, the scheduler, and one store kept open."""

    def __init__(
        self, config: Path, scheduler: Scheduler, clock: Clock, *, proof: float = PROOF_WINDOW
    ) -> None:
        self.config, self.scheduler, self.clock = config, scheduler, clock
        self.proof = proof  # seconds a passphrase given stays good for sensitive actions
        self._store: Store | None = None

    def tell(self, session: Session, page: str, note: str) -> Response:
        """To ``page``, which shows ``note`` (kept for the session, never put in the URL)."""
        Sessions(self.store).tell(session.key, note)
        return RedirectResponse(page, status_code=303)

    def told(self, session: Session) -> str:
        """The note left for ``session``'s next page, once."""
        return Sessions(self.store).told(session)

    def fresh(self, session: Session) -> bool:
        """Whether ``session`` gave the passphrase recently enough for a sensitive action."""
        return session.proved_within(self.proof, self.clock.now())

    def prove(self, session: Session, passphrase: str) -> None:
        """A sensitive action: the passphrase again, unless given recently in ``session``."""
        if not self.fresh(session):
            verify(self.store, passphrase, door=WEB, who="the admin page")
            Sessions(self.store).proved(session)

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
            connections = Connections(self.store, vault, client, self.clock)
            yield Integrations(self.store, connections, toml=settings)
        finally:
            client.close()

    def integration_names(self) -> list[str]:
        with self.integrations() as integrations:
            return integrations.names()

    @contextmanager
    def reading(self, integration: str, **options: Any) -> Iterator[App]:
        """An app that only reads, for ``integration`` (any state: a draft can be looked at);
        ``options`` go to ``build`` (a client of its own, no retries)."""
        base = load_settings(self.config)
        with self.integrations() as integrations:
            settings = integrations.settings(integration, base)
        app = build(settings, dry_run=True, integration=integration, **options)
        try:
            yield app
        finally:
            app.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _when(ts: float | None) -> str:
    """A moment as a ``<time>`` element (kept on one line by the style sheet), or "—"."""
    if not ts:
        return "—"
    moment = dt.datetime.fromtimestamp(ts, dt.UTC)
    shown = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Markup(f'<time datetime="{moment:%Y-%m-%dT%H:%M:%SZ}">{shown}</time>')


def _took(run: RunRecord) -> str:
    if not run.finished_at:
        return "running" if run.status == "running" else "—"
    seconds = int(run.finished_at - run.started_at)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def _integration(name: str) -> str:
    """An integration as the pages name it: hrsync.toml's own by its file."""
    return TOML_FILE if name == TOML else name


templates.env.filters["when"] = _when
templates.env.filters["took"] = _took
templates.env.filters["integration"] = _integration


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


def from_here(request: Request) -> None:
    """Refuse a form posted from another site's page, whatever token it carries."""
    if not from_this_site(request):
        raise HTTPException(403, "refused: the form was sent from another site's page")


def checked(request: Request, csrf: Annotated[str, Form()] = "") -> Session:
    """The session of a POST from this site whose form carries the session's CSRF token."""
    from_here(request)
    session = session_of(request)
    if not session.csrf_matches(csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
    return session


Signed = Annotated[Session, Depends(session_of)]
Checked = Annotated[Session, Depends(checked)]


def render(request: Request, template: str, session: Session | None, **values: Any) -> Response:
    """A page, never cached (it shows the admin's directory)."""
    site: Site = request.app.state.site
    return templates.TemplateResponse(
        request,
        template,
        {"session": session, "now": site.clock.now(), **values},
        headers={"Cache-Control": "no-store"},
    )
