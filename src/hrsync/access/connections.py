"""Connections: named, authenticated links to Zoho Cliq, People, Connect or any REST API.

Secrets (client secrets, refresh tokens, passwords) are sealed by the vault and never leave
this module except as an ``Authorization`` header on the wire. Each connection's one access
token, shared by every process, is kept by ``tokens.SharedTokens``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth1.rfc5849.client_auth import ClientAuth

from hrsync.access.pacing import paced
from hrsync.access.services import CustomService, covered, data_centre, zoho_service
from hrsync.access.tokens import SharedTokens, expiry, token_url
from hrsync.access.vault import Vault
from hrsync.api.auth import ZOHO_PREFIX, TokenAuth, oauth1_token, token_request
from hrsync.api.ratelimit import endpoint_of
from hrsync.clock import Clock
from hrsync.config import refuse_plain_http
from hrsync.errors import AuthError, ConfigError, HrsyncError, TransientError
from hrsync.store import Store
from hrsync.store import connections as rows
from hrsync.store.connections import StoredConnection
from hrsync.urls import is_absolute, refuse_foreign_host

log = logging.getLogger(__name__)
# Zoho Accounts redirects a consent only to a URI registered for the client, compared exactly,
# port included: hrsync listens on one documented address, moved only by --port.
REDIRECT_PORT = 8765


def loopback_redirect_uri(port: int = REDIRECT_PORT) -> str:
    """The consent redirect URI hrsync listens on; register exactly this one at Zoho."""
    return f"http://127.0.0.1:{port}/callback"


class ConnectionProblem(HrsyncError):
    """A connection is missing, incomplete or refused."""


@dataclass
class ConnectionInfo:
    """What ``connections list`` and ``show`` display: never a secret."""

    name: str
    service: str
    title: str
    data_centre: str
    status: str
    auth_type: str
    api_url: str
    accounts_url: str
    client_id: str
    scopes: list[str]  # granted at consent, or as asked for until then
    authorised: bool
    token_expires_at: float = 0.0
    denied_until: float = 0.0
    refreshes: int = 0
    pending: list[str] = field(default_factory=list)


class Connections:
    def __init__(self, store: Store, vault: Vault, client: httpx.Client, clock: Clock) -> None:
        self.store = store
        self.vault = vault
        self.client = client
        self.clock = clock
        self.tokens = SharedTokens(store, vault, client, clock)

    # --- creating -------------------------------------------------------------------------
    def add_zoho(
        self,
        name: str,
        service: str,
        *,
        dc: str = "US",
        client_id: str,
        client_secret: str,
        scopes: list[str] | None = None,
        api_url: str = "",
        accounts_url: str = "",
        allow_http: bool = False,
    ) -> ConnectionInfo:
        """A default service (zoho_cliq, zoho_people, zoho_connect) in data centre ``dc``.
        ``api_url``/``accounts_url`` replace the data centre's hosts (a local emulator)."""
        spec = zoho_service(service)
        code = data_centre(dc)
        settings = {
            "auth_type": "oauth2",
            "api_url": (api_url or spec.api_url(code)).rstrip("/"),
            "accounts_url": (accounts_url or spec.accounts_url(code)).rstrip("/"),
            "client_id": client_id,
            "scopes": list(scopes or spec.scopes),
            "allow_http": allow_http,
        }
        _check_urls(name, settings, allow_http)
        return self._add(name, service, code, settings, {"client_secret": client_secret})

    def add_custom(
        self,
        name: str,
        service: CustomService,
        *,
        client_id: str = "",
        client_secret: str = "",
        username: str = "",
        password: str = "",
        allow_http: bool = False,
    ) -> ConnectionInfo:
        settings: dict[str, Any] = {
            "auth_type": service.auth_type,
            "custom": service.model_dump(),
            "api_url": service.base_url,
            "accounts_url": "",
            "client_id": client_id,
            "username": username,
            "scopes": list(service.scopes),
            "allow_http": allow_http,
        }
        _check_urls(name, service.model_dump(), allow_http)
        secrets = {"client_secret": client_secret, "password": password}
        return self._add(name, "custom", "", settings, secrets)

    def _add(
        self, name: str, service: str, dc: str, settings: dict[str, Any], secrets: dict[str, Any]
    ) -> ConnectionInfo:
        added = rows.add(
            self.store,
            name=name,
            service=service,
            data_centre=dc,
            settings=json.dumps(settings),
            secrets=self.vault.seal(secrets),
            status="authorised" if settings["auth_type"] == "basic" else "created",
            now=self.clock.now(),
        )
        if not added:
            raise ConnectionProblem(f"a connection named {name!r} already exists")
        return self.show(name)

    # --- reading --------------------------------------------------------------------------
    def _row(self, name: str) -> StoredConnection:
        row = rows.find(self.store, name)
        if row is None:
            known = ", ".join(sorted(self.names())) or "none yet"
            raise ConnectionProblem(f"no connection named {name!r} (connections: {known})")
        return row

    def names(self) -> list[str]:
        return rows.names(self.store)

    def show(self, name: str) -> ConnectionInfo:
        row = self._row(name)
        settings = json.loads(row.settings)
        token = rows.token_state(self.store, row.id)
        secrets = self.vault.unseal(row.secrets)
        info = ConnectionInfo(
            name=row.name,
            service=row.service,
            title=_title(row.service, settings),
            data_centre=row.data_centre,
            status=row.status,
            auth_type=settings["auth_type"],
            api_url=settings.get("api_url", ""),
            accounts_url=settings.get("accounts_url", ""),
            client_id=settings.get("client_id", ""),
            scopes=list(settings.get("granted") or settings.get("scopes", [])),
            authorised=row.status == "authorised",
        )
        if token is not None:
            info.token_expires_at = token.expires_at
            info.denied_until = token.denied_until
            info.refreshes = token.refreshes
        info.pending = _pending(row, settings, secrets)
        return info

    def list(self) -> list[ConnectionInfo]:
        return [self.show(n) for n in self.names()]

    # --- authorising ----------------------------------------------------------------------
    def authorize_url(
        self, name: str, *, redirect_uri: str, state: str, also: Sequence[str] = ()
    ) -> str:
        """Where the admin consents (OAuth 2.0 authorization code), to the connection's
        scopes and ``also`` these (kept with the connection once it is authorised)."""
        row = self._row(name)
        settings = _sendable(row)
        custom = settings.get("custom") or {}
        base = custom.get("authorize_url") or settings["accounts_url"] + "/oauth/v2/auth"
        delimiter = custom.get("scope_delimiter", ",")
        query = {
            "client_id": settings["client_id"],
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": delimiter.join(_with_scopes(settings.get("scopes", []), also)),
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
        }
        return f"{base}?{urlencode(query)}"

    def authorise(
        self, name: str, *, code: str, redirect_uri: str = "", also: Sequence[str] = ()
    ) -> ConnectionInfo:
        """Trade a grant code (from the consent redirect, or a Zoho self-client) for a
        refresh token, kept sealed; ``also`` joins the connection's scopes."""
        row = self._row(name)
        settings = _sendable(row)
        settings["scopes"] = _with_scopes(settings.get("scopes", []), also)
        secrets = self.vault.unseal(row.secrets)
        params: dict[str, Any] = {
            "code": code.strip(),
            "client_id": settings["client_id"],
            "client_secret": secrets.get("client_secret", ""),
        }
        if redirect_uri:
            params["redirect_uri"] = redirect_uri
        answer = token_request(self.client, token_url(settings), "authorization_code", **params)
        if "error" in answer or "access_token" not in answer:
            raise AuthError(
                f"{name}: the grant code was refused ({answer.get('error', 'no token')}); "
                "codes last a few minutes and work once: make a new one"
            )
        if answer.get("refresh_token"):
            secrets["refresh_token"] = answer["refresh_token"]
        if isinstance(answer.get("scope"), str):  # what the admin actually granted
            settings["granted"] = answer["scope"].replace(",", " ").split()
        now = self.clock.now()
        rows.save_authorisation(
            self.store,
            row.id,
            secrets=self.vault.seal(secrets),
            settings=json.dumps(settings),
            now=now,
            token=self.tokens.seal(answer),
            expires_at=expiry(answer, now),
        )
        return self.show(name)

    def oauth1_begin(self, name: str, *, callback: str) -> str:
        """OAuth 1.0: get a request token; returns the address where the admin consents."""
        row = self._row(name)
        settings = _sendable(row)
        custom = settings.get("custom") or {}
        secrets = self.vault.unseal(row.secrets)
        signer = ClientAuth(
            settings["client_id"], secrets.get("client_secret", ""), redirect_uri=callback
        )
        answer = oauth1_token(self.client, custom["request_token_url"], signer)
        secrets["request_token"] = answer["oauth_token"]
        secrets["request_token_secret"] = answer.get("oauth_token_secret", "")
        self._save_secrets(row.id, secrets, status=row.status)
        return f"{custom['authorize_url']}?{urlencode({'oauth_token': answer['oauth_token']})}"

    def oauth1_finish(self, name: str, *, oauth_token: str, verifier: str) -> ConnectionInfo:
        """OAuth 1.0: trade the consented request token and its verifier for the token."""
        row = self._row(name)
        settings = _sendable(row)
        custom = settings.get("custom") or {}
        secrets = self.vault.unseal(row.secrets)
        if oauth_token != secrets.get("request_token"):
            raise AuthError(f"{name}: the consent does not match the request hrsync made")
        signer = ClientAuth(
            settings["client_id"],
            secrets.get("client_secret", ""),
            token=secrets.pop("request_token"),
            token_secret=secrets.pop("request_token_secret", ""),
            verifier=verifier,
        )
        answer = oauth1_token(self.client, custom["access_token_url"], signer)
        secrets["token"] = answer["oauth_token"]
        secrets["token_secret"] = answer.get("oauth_token_secret", "")
        self._save_secrets(row.id, secrets, status="authorised")
        return self.show(name)

    def _save_secrets(self, connection_id: int, secrets: dict[str, Any], *, status: str) -> None:
        sealed, now = self.vault.seal(secrets), self.clock.now()
        rows.save_secrets(self.store, connection_id, secrets=sealed, status=status, now=now)

    # --- using ----------------------------------------------------------------------------
    def access_token(self, name: str) -> str:
        """The connection's access token: cached, shared, refreshed once when due."""
        row = self._row(name)
        _sendable(row)
        return self.tokens.get(row)

    def forget_token(self, name: str, rejected: str | None = None) -> None:
        """The service refused ``rejected`` (401): the next call refreshes."""
        self.tokens.forget(self._row(name).id, rejected)

    def request(
        self,
        name: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Call any API through the connection (``hrsync connections invoke``)."""
        row = self._row(name)
        settings = _sendable(row)
        full = _absolute(url, settings.get("api_url", ""))
        _check_url(name, "url", full, bool(settings.get("allow_http")))
        refuse_foreign_host(full, _declared_urls(settings), what=name)
        query = dict(params or {})
        auth: httpx.Auth | None = None
        kind = settings["auth_type"]
        if kind == "basic":
            secrets = self.vault.unseal(row.secrets)
            auth = httpx.BasicAuth(settings.get("username", ""), secrets.get("password", ""))
        elif kind == "oauth1":
            return self._oauth1_request(row, settings, method, full, query, json_body)
        elif kind == "oauth2":
            auth = _token_auth(ConnectionTokenSource(self, name), settings)

        def send() -> httpx.Response:
            return self.client.request(
                method.upper(), full, params=query, json=json_body, auth=auth
            )

        endpoint = endpoint_of(method, httpx.URL(full).path)
        if row.service.startswith("zoho_") and endpoint is not None:
            api_url = str(settings.get("api_url", ""))
            return paced(self.store.call_log(api_url), self.clock, name, endpoint, send)
        return send()

    def auth(self, name: str) -> tuple[httpx.Auth, str]:
        """How a call through the connection proves itself, and the connection's base URL
        (an HR API read as a ``rest`` source): basic or OAuth 2.0; OAuth 1.0 signs whole
        calls and is refused here."""
        row = self._row(name)
        settings = _sendable(row)
        kind = settings["auth_type"]
        base = str(settings.get("api_url", ""))
        if kind == "basic":
            secrets = self.vault.unseal(row.secrets)
            return httpx.BasicAuth(settings.get("username", ""), secrets.get("password", "")), base
        if kind == "oauth2":
            return _token_auth(ConnectionTokenSource(self, name), settings), base
        raise ConnectionProblem(
            f"connection {name} signs with OAuth 1.0, which a rest source cannot use: make a "
            "basic or OAuth 2.0 connection"
        )

    def _oauth1_request(
        self,
        row: StoredConnection,
        settings: dict[str, Any],
        method: str,
        url: str,
        query: dict[str, str],
        json_body: Any,
    ) -> httpx.Response:
        secrets = self.vault.unseal(row.secrets)
        if not secrets.get("token"):
            raise AuthError(f"{row.name}: not authorised: `hrsync connections authorise`")
        request = self.client.build_request(method.upper(), url, params=query, json=json_body)
        signer = ClientAuth(
            settings["client_id"],
            secrets.get("client_secret", ""),
            token=secrets["token"],
            token_secret=secrets.get("token_secret", ""),
        )
        headers = dict(request.headers)
        body = request.content if json_body is None else b""  # JSON is not signed (RFC 5849)
        _, signed, _ = signer.sign(method.upper(), str(request.url), headers, body)
        request.headers["Authorization"] = signed["Authorization"]
        return self.client.send(request)

    def test(self, name: str) -> tuple[bool, str]:
        """Prove the connection works: a token, then a cheap read for Zoho services."""
        row = self._row(name)
        try:
            if row.service.startswith("zoho_"):
                answer = self.request(name, "GET", zoho_service(row.service).probe)
                if answer.status_code >= 400:
                    return False, f"{row.service} answered HTTP {answer.status_code}"
                return True, f"{_title(row.service, {})} answered (HTTP {answer.status_code})"
            kind = json.loads(row.settings)["auth_type"]
            if kind == "oauth1" and not self.vault.unseal(row.secrets).get("token"):
                return False, "not authorised yet"
            if kind == "oauth2":
                self.access_token(name)
                return True, "an access token was issued"
            return True, "nothing to check without a call; try `connections invoke`"
        except (HrsyncError, httpx.HTTPError) as problem:
            return False, str(problem)

    # --- ending ---------------------------------------------------------------------------
    def revoke(self, name: str) -> ConnectionInfo:
        """Revoke the refresh token at Zoho and forget every token here."""
        row = self._row(name)
        settings = _sendable(row)
        secrets = self.vault.unseal(row.secrets)
        refresh = secrets.pop("refresh_token", "")
        if refresh and settings.get("accounts_url"):
            url = settings["accounts_url"] + "/oauth/v2/token/revoke"
            try:
                answer = self.client.post(url, data={"token": refresh})
            except httpx.TransportError as exc:
                raise TransientError(f"{name}: Zoho Accounts unreachable: {exc}") from exc
            log.info("revoked the refresh token of %s: HTTP %s", name, answer.status_code)
        rows.revoke(self.store, row.id, secrets=self.vault.seal(secrets), now=self.clock.now())
        return self.show(name)

    def delete(self, name: str) -> None:
        rows.remove(self.store, self._row(name).id)


class ConnectionTokenSource:
    """The token source of a sync run or an invoke, backed by a connection."""

    def __init__(self, connections: Connections, name: str) -> None:
        self.connections = connections
        self.name = name

    def access_token(self, *, refused: str = "") -> str:
        if refused:
            self.connections.forget_token(self.name, refused)
        return self.connections.access_token(self.name)


def _token_auth(tokens: ConnectionTokenSource, settings: Mapping[str, Any]) -> TokenAuth:
    """How a connection's token travels: Zoho's header, or a custom service's choice."""
    custom = settings.get("custom") or {}
    if custom.get("param_placement") == "query":
        return TokenAuth(tokens, query_param="access_token")
    return TokenAuth(tokens, prefix=custom.get("token_prefix") or ZOHO_PREFIX)


def _with_scopes(scopes: Sequence[str], also: Sequence[str]) -> list[str]:
    """``scopes`` and those of ``also`` they do not cover, in order."""
    found = list(scopes)
    found += [s for s in dict.fromkeys(also) if not covered(found, s)]
    return found


def _title(service: str, settings: Mapping[str, Any]) -> str:
    if service == "custom":
        return str((settings.get("custom") or {}).get("name", "custom service"))
    return zoho_service(service).title


def _pending(
    row: StoredConnection, settings: Mapping[str, Any], secrets: Mapping[str, Any]
) -> list[str]:
    pending: list[str] = []
    kind = settings["auth_type"]
    custom = settings.get("custom") or {}
    if custom:
        pending += [f"the service has no {m}" for m in CustomService(**custom).missing()]
    if kind in ("oauth2", "oauth1") and not secrets.get("client_secret"):
        pending.append("no client secret")
    if row.status == "revoked":
        pending.append("revoked: add it again")
    elif (
        kind == "oauth2"
        and custom.get("grant_type") != "client_credentials"
        and not secrets.get("refresh_token")
    ) or (kind == "oauth1" and not secrets.get("token")):
        pending.append(f"not authorised: run `hrsync connections authorise {row.name}`")
    return pending


def _absolute(url: str, base: str) -> str:
    if is_absolute(url):
        return url
    if not base:
        raise ConfigError("a relative URL needs a service with a base URL")
    return base.rstrip("/") + "/" + url.lstrip("/")


def _sendable(row: StoredConnection) -> dict[str, Any]:
    """The connection's settings, their URLs held to today's rule before anything is sent:
    a connection stored under a looser one must not send its secrets where this would not."""
    settings: dict[str, Any] = json.loads(row.settings)
    allow_http = bool(settings.get("allow_http"))
    _check_urls(row.name, settings, allow_http)
    _check_urls(row.name, settings.get("custom") or {}, allow_http)
    return settings


def _declared_urls(settings: Mapping[str, Any]) -> list[str]:
    """The URLs the admin gave the connection: its credentials may go to their hosts only."""
    custom = settings.get("custom") or {}
    declared = [settings.get("api_url", ""), settings.get("accounts_url", "")]
    return declared + [v for k, v in custom.items() if k.endswith("_url") and v]


def _check_url(name: str, key: str, url: str, allow_http: bool) -> None:
    refuse_plain_http(url, allow_http=allow_http, what=f"{name}: {key}")


def _check_urls(name: str, settings: Mapping[str, Any], allow_http: bool) -> None:
    for key, value in settings.items():
        if key.endswith("_url") and isinstance(value, str) and value:
            _check_url(name, key, value, allow_http)
