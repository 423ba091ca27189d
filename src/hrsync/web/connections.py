"""The admin page's connections: add one (secrets write-only), authorise it through the
service's consent and ``/oauth/callback``, test it, revoke it."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from hrsync.access.services import DATA_CENTRES, ZOHO_SERVICES, CustomService
from hrsync.errors import HrsyncError
from hrsync.web.sessions import Consent, OAuthStates, Session, Sessions
from hrsync.web.site import FORM_LIMIT, Checked, Signed, Site, render

# An OAuth error code as providers send them (access_denied): shown as sent, anything else not.
ERROR_CODE = re.compile(r"[a-z][a-z0-9_.]{0,63}")


def connection_routes(site: Site) -> APIRouter:
    router = APIRouter(max_body_size=FORM_LIMIT)

    def to_connections(session: Session, note: str) -> Response:
        return site.tell(session, "/connections", note)

    @router.get("/connections", response_class=HTMLResponse)
    def connections_page(request: Request, session: Signed) -> Response:
        with site.integrations() as integrations:
            found = integrations.connections.list()
        return render(
            request,
            "connections.html",
            session,
            connections=found,
            services=ZOHO_SERVICES,
            data_centres=list(DATA_CENTRES),
            callback=_callback(request),
            note=site.told(session),
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
            return to_connections(session, "not added: a connection needs a name and a client id")
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
            return to_connections(session, f"{name} not added: {problem}")
        return to_connections(session, f"{name} added: authorise it to let hrsync call Zoho")

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
            return to_connections(session, f"{name or 'the connection'} not added: {said}")
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
            return to_connections(session, f"{name} not added: {problem}")
        missing = spec.missing()
        needs = f"; it still needs {', '.join(missing)}" if missing else ""
        return to_connections(session, f"{name} added{needs}")

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
                    site.prove(session, passphrase)
                state = OAuthStates(site.store).start(name, session, redirect_uri)
                url = integrations.connections.authorize_url(
                    name, redirect_uri=redirect_uri, state=state
                )
        except HrsyncError as problem:
            return to_connections(session, f"{name} not authorised: {problem}")
        return RedirectResponse(url, status_code=303)

    @router.get("/oauth/callback", response_class=HTMLResponse)
    def oauth_callback(
        request: Request, state: str = "", code: str = "", error: str = ""
    ) -> Response:
        """Zoho's redirect after consent. The session cookie is SameSite=Strict, so it does
        not come with a redirect from Zoho's site: the state (random, one use, ten minutes,
        made for a signed-in session) is the proof instead, and the note for the connections
        page is left with the session that began the consent."""
        consent = OAuthStates(site.store).take(state)
        if consent is None:
            note = "not authorised: the consent is unknown or too old; start again"
        else:
            note = _authorised(site, consent, code=code, error=error)
            Sessions(site.store).tell(consent.session, note)
        return render(request, "callback.html", None, note=note, onward="/connections")

    @router.post("/connections/{name}/test")
    def test_connection(session: Checked, name: str) -> Response:
        try:
            with site.integrations() as integrations:
                ok, said = integrations.connections.test(name)
        except HrsyncError as problem:
            ok, said = False, str(problem)
        return to_connections(session, f"{name}: {'works' if ok else 'does not work'}: {said}")

    @router.post("/connections/{name}/revoke")
    def revoke_connection(
        session: Checked, name: str, passphrase: Annotated[str, Form()] = ""
    ) -> Response:
        try:
            site.prove(session, passphrase)
            with site.integrations() as integrations:
                integrations.connections.revoke(name)
        except HrsyncError as problem:
            return to_connections(session, f"{name} not revoked: {problem}")
        return to_connections(session, f"{name} revoked: its tokens are gone here and at Zoho")

    return router


def _authorised(site: Site, consent: Consent, *, code: str, error: str) -> str:
    """What became of ``consent``, given what the provider sent back."""
    if error or not code:
        said = error if ERROR_CODE.fullmatch(error) else "no code" if not error else "an error"
        return f"{consent.name} not authorised: Zoho said {said}"
    try:
        with site.integrations() as integrations:
            integrations.connections.authorise(
                consent.name, code=code, redirect_uri=consent.redirect_uri
            )
    except HrsyncError as problem:
        return f"{consent.name} not authorised: {problem}"
    return f"{consent.name} authorised"


def _callback(request: Request) -> str:
    """The redirect URI to register in Zoho's API console: this page's own /oauth/callback."""
    return str(request.base_url).rstrip("/") + "/oauth/callback"
