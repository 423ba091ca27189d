"""``hrsync connections``: add, authorise, test, use, revoke and delete connections.

Secrets are never taken as command-line arguments (they would stay in the shell's history
and in the process list): they are asked for, hidden, or read from ``HRSYNC_CLIENT_SECRET``
and ``HRSYNC_PASSWORD``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Annotated, Any
from urllib.parse import parse_qs, urlparse

import httpx
import typer
from pydantic import ValidationError
from rich.table import Table

from hrsync.access.connections import (
    REDIRECT_PORT,
    ConnectionInfo,
    Connections,
    loopback_redirect_uri,
)
from hrsync.access.services import DATA_CENTRES, ZOHO_SERVICES, CustomService
from hrsync.access.vault import Vault
from hrsync.cli.admin import confirm_admin
from hrsync.cli.output import console, emit_json, fail, mode
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.errors import HrsyncError
from hrsync.store import Store

app = typer.Typer(
    help="Named, authenticated links to Zoho Cliq, People, Connect or any REST API.",
    no_args_is_help=True,
)


@contextmanager
def opened(ctx: typer.Context) -> Iterator[Connections]:
    settings = load_settings(ctx.obj["config"])
    store = Store(settings.store.url, clock=RealClock())
    client = httpx.Client(timeout=30)
    try:
        yield Connections(store, Vault.open(settings.store.key_file), client, RealClock())
    except HrsyncError as problem:
        fail(str(problem))
    finally:
        client.close()
        store.close()


def _secret(variable: str, prompt: str, *, required: bool = True) -> str:
    value = os.environ.get(variable, "")
    if value or not required:
        return value
    return str(typer.prompt(f"{prompt} (or set {variable})", hide_input=True, err=mode.json))


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name of your choice, e.g. cliq-prod.")],
    service: Annotated[
        str,
        typer.Option(help=f"{' | '.join(ZOHO_SERVICES)} | custom"),
    ] = "zoho_cliq",
    dc: Annotated[str, typer.Option(help=f"Zoho data centre: {', '.join(DATA_CENTRES)}.")] = "US",
    client_id: Annotated[str, typer.Option(help="From Zoho's API console (or the service).")] = "",
    scopes: Annotated[
        str, typer.Option(help="Comma-separated; the service's defaults if empty.")
    ] = "",
    api_url: Annotated[str, typer.Option(help="Replace the service's API host.")] = "",
    accounts_url: Annotated[str, typer.Option(help="Replace the Accounts host.")] = "",
    allow_http: Annotated[
        bool, typer.Option("--allow-http", help="Permit plain HTTP to loopback (an emulator).")
    ] = False,
    auth: Annotated[str, typer.Option(help="custom: basic | oauth1 | oauth2.")] = "oauth2",
    base_url: Annotated[str, typer.Option(help="custom: the API's base URL.")] = "",
    authorize_url: Annotated[str, typer.Option(help="custom: consent page.")] = "",
    access_token_url: Annotated[str, typer.Option(help="custom: token endpoint.")] = "",
    refresh_token_url: Annotated[str, typer.Option(help="custom: refresh endpoint.")] = "",
    request_token_url: Annotated[str, typer.Option(help="custom OAuth 1.0.")] = "",
    scope_delimiter: Annotated[str, typer.Option(help="custom: between scopes.")] = ",",
    placement: Annotated[str, typer.Option(help="custom: token in header | query.")] = "header",
    grant_type: Annotated[
        str, typer.Option(help="custom: authorization_code | client_credentials.")
    ] = "authorization_code",
    username: Annotated[str, typer.Option(help="custom basic auth: the user name.")] = "",
) -> None:
    """Add a connection. Default services know their hosts for every data centre and the
    scopes hrsync needs; a custom service is described by the options marked custom."""
    with opened(ctx) as connections:
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        if service == "custom":
            spec = _custom(
                name=name,
                auth_type=auth,
                base_url=base_url,
                authorize_url=authorize_url,
                access_token_url=access_token_url,
                refresh_token_url=refresh_token_url,
                request_token_url=request_token_url,
                scopes=scope_list,
                scope_delimiter=scope_delimiter,
                param_placement=placement,
                grant_type=grant_type,
            )
            info = connections.add_custom(
                name,
                spec,
                client_id=client_id,
                client_secret=_secret(
                    "HRSYNC_CLIENT_SECRET", "Client secret", required=auth != "basic"
                ),
                username=username,
                password=_secret("HRSYNC_PASSWORD", "Password", required=auth == "basic"),
                allow_http=allow_http,
            )
        else:
            if not client_id:
                fail("--client-id is required (Zoho API console → your client → Client ID)")
            info = connections.add_zoho(
                name,
                service,
                dc=dc,
                client_id=client_id,
                client_secret=_secret("HRSYNC_CLIENT_SECRET", "Client secret"),
                scopes=scope_list or None,
                api_url=api_url,
                accounts_url=accounts_url,
                allow_http=allow_http,
            )
        _show(ctx, info)


def _custom(**values: Any) -> CustomService:
    try:
        return CustomService(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors()
        )
        fail(f"the custom service is not complete: {problems}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every connection, with its status and pending actions."""
    with opened(ctx) as connections:
        found = connections.list()
    if ctx.obj["json"]:
        emit_json({"connections": [dataclasses.asdict(i) for i in found]})
        return
    if not found:
        console.print("No connections yet: `hrsync connections add NAME --client-id …`")
        return
    table = Table("name", "service", "dc", "status", "pending actions")
    for info in found:
        table.add_row(
            info.name, info.title, info.data_centre, info.status, "; ".join(info.pending) or "-"
        )
    console.print(table)


@app.command()
def show(ctx: typer.Context, name: str) -> None:
    """One connection: hosts, client id, scopes, token state. Secrets are never shown."""
    with opened(ctx) as connections:
        _show(ctx, connections.show(name))


def _show(ctx: typer.Context, info: ConnectionInfo) -> None:
    if ctx.obj["json"]:
        emit_json(dataclasses.asdict(info))
        return
    console.print(f"[bold]{info.name}[/]: {info.title} ({info.auth_type}), {info.status}")
    for label, value in (
        ("data centre", info.data_centre),
        ("API", info.api_url),
        ("Accounts", info.accounts_url),
        ("client id", info.client_id),
        ("scopes", ", ".join(info.scopes)),
        ("token refreshes", str(info.refreshes)),
    ):
        if value:
            console.print(f"  {label}: {value}", highlight=False)
    for action in info.pending:
        console.print(f"  [yellow]pending action:[/] {action}", highlight=False)


@app.command()
def authorise(
    ctx: typer.Context,
    name: str,
    code: Annotated[
        str,
        typer.Option(
            help="A grant code from Zoho's self-client (API console), for servers "
            "without a browser."
        ),
    ] = "",
    port: Annotated[
        int,
        typer.Option(
            min=1,
            max=65535,
            help="Loopback port for the consent redirect: hrsync listens on "
            "http://127.0.0.1:PORT/callback, which must be registered for the client exactly.",
        ),
    ] = REDIRECT_PORT,
    browser: Annotated[bool, typer.Option(help="Open the consent page in a browser.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for consent.")] = 300.0,
    add_scope: Annotated[
        str,
        typer.Option(
            help="Scopes (comma-separated) to ask for beside the connection's own, kept with "
            "it: what a pending action or `hrsync doctor` names as missing."
        ),
    ] = "",
) -> None:
    """Get the connection's refresh token: consent in a browser (a loopback address receives
    Zoho's redirect) or paste a self-client grant code with --code."""
    also = [s.strip() for s in add_scope.split(",") if s.strip()]
    with opened(ctx) as connections:
        current = connections.show(name)
        if current.authorised:  # replacing working credentials
            confirm_admin(connections.store, f"authorising {name} again")
        if code:
            info = connections.authorise(name, code=code, also=also)
        elif current.auth_type == "oauth1":
            with _callback_server(port, lambda q: "oauth_verifier" in q) as (callback, wait):
                url = connections.oauth1_begin(name, callback=callback)
                _consent(url, browser)
                got = wait(timeout)
            if got is None:
                fail(f"no consent arrived within {timeout:.0f} s; try again")
            info = connections.oauth1_finish(
                name, oauth_token=got.get("oauth_token", ""), verifier=got["oauth_verifier"]
            )
        else:
            state = secrets.token_urlsafe(16)

            def ours(query: dict[str, str]) -> bool:
                return query.get("state") == state and "code" in query

            with _callback_server(port, ours) as (redirect_uri, wait):
                url = connections.authorize_url(
                    name, redirect_uri=redirect_uri, state=state, also=also
                )
                _consent(url, browser)
                got = wait(timeout)
            if got is None:
                fail(f"no consent arrived within {timeout:.0f} s; try again, or use --code")
            info = connections.authorise(
                name, code=got["code"], redirect_uri=redirect_uri, also=also
            )
        console.print(f"{name} is authorised.")
        _show(ctx, info)


def _consent(url: str, browser: bool) -> None:
    console.print(f"Open this address to consent:\n{url}", soft_wrap=True)
    if browser:
        webbrowser.open(url)


@contextmanager
def _callback_server(
    port: int, accept: Callable[[dict[str, str]], bool]
) -> Iterator[tuple[str, Callable[[float], dict[str, str] | None]]]:
    """A one-shot HTTP server on ``loopback_redirect_uri(port)`` that receives the consent's
    redirect."""
    received: dict[str, str] = {}
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            if not accept(query):
                self.send_response(400)
                self.end_headers()
                self.wfile.write(b"This is not the consent hrsync asked for.")
                return
            received.update(query)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hrsync has the grant code; you can close this page.")
            arrived.set()

        def log_message(self, *args: Any) -> None:  # keep the code out of any log
            return None

    try:
        server = HTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        fail(
            f"port {port} is not free ({exc.strerror}), so hrsync cannot wait for the consent "
            f"redirect on {loopback_redirect_uri(port)}: pass --port N with a free port and "
            "register http://127.0.0.1:N/callback, exactly, for the client in Zoho's API console"
        )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def wait(seconds: float) -> dict[str, str] | None:
        return dict(received) if arrived.wait(seconds) else None

    try:
        yield loopback_redirect_uri(port), wait
    finally:
        server.shutdown()
        server.server_close()


@app.command()
def test(ctx: typer.Context, name: str) -> None:
    """Check that the connection works (a token, then a cheap read)."""
    with opened(ctx) as connections:
        ok, detail = connections.test(name)
    if ctx.obj["json"]:
        emit_json({"name": name, "ok": ok, "detail": detail})
    else:
        console.print(f"{name}: {'[green]works[/]' if ok else '[red]fails[/]'} — {detail}")
    if not ok:
        raise typer.Exit(1)


@app.command()
def invoke(
    ctx: typer.Context,
    name: str,
    method: Annotated[str, typer.Argument(help="GET, POST, PUT, PATCH or DELETE.")],
    url: Annotated[str, typer.Argument(help="Absolute, or a path on the service's host.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v, repeatable.")
    ] = None,
    json_body: Annotated[str, typer.Option("--json", "--body", help="A JSON body.")] = "",
) -> None:
    """Call any API through a connection, like Deluge's invokeUrl with a connection."""
    params: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--param {item!r}: write it as key=value")
        params[key] = value
    body: Any = None
    if json_body:
        try:
            body = json.loads(json_body)
        except ValueError as exc:
            fail(f"--json is not JSON: {exc}")
    with opened(ctx) as connections:
        answer = connections.request(name, method, url, params=params, json_body=body)
    try:
        shown: Any = answer.json()
    except ValueError:
        shown = answer.text
    if ctx.obj["json"]:
        emit_json({"status": answer.status_code, "body": shown})
    else:
        console.print(f"HTTP {answer.status_code}")
        if isinstance(shown, str):
            console.print(shown, highlight=False)
        else:
            console.print_json(data=shown)
    if answer.status_code >= 400:
        raise typer.Exit(1)


@app.command()
def revoke(ctx: typer.Context, name: str) -> None:
    """Revoke the connection's refresh token at Zoho and forget its tokens here (needs the
    admin passphrase)."""
    with opened(ctx) as connections:
        confirm_admin(connections.store, f"revoking the connection {name!r}")
        info = connections.revoke(name)
    if ctx.obj["json"]:
        _show(ctx, info)
    else:
        console.print(f"{name}: revoked at Zoho; add or authorise it again to use it.")


@app.command()
def delete(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete a connection and its secrets from hrsync (revoke it first to end it at Zoho);
    needs the admin passphrase."""
    if not yes and not typer.confirm(f"Delete the connection {name!r}?", err=mode.json):
        raise typer.Exit(1)
    with opened(ctx) as connections:
        connections.show(name)
        confirm_admin(connections.store, f"deleting the connection {name!r}")
        connections.delete(name)
    if mode.json:
        emit_json({"name": name, "deleted": True})
    else:
        console.print(f"{name}: deleted.")
