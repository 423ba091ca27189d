"""OAuth with Zoho Accounts and custom services: token requests, and the one ``httpx.Auth``
flow that sends an access token and asks for a fresh one after a 401.

Zoho limits how often a refresh token may be used, and answers token errors with HTTP 200
and an ``error`` key, so token sources keep an access token until shortly before it expires,
and a refresh failure is an ``AuthError`` rather than something to retry in a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any, Protocol
from urllib.parse import parse_qsl

import httpx
from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from pydantic import SecretStr

from hrsync.errors import AuthError, TransientError, Unreachable

log = logging.getLogger(__name__)
REFRESH_MARGIN = 120.0  # seconds before expiry at which a token counts as expired
FORM = {"content-type": "application/x-www-form-urlencoded"}
ZOHO_PREFIX = "Zoho-oauthtoken"


class TokenSource(Protocol):
    """Where one service's access tokens come from: hrsync.toml's keys or a stored connection."""

    def access_token(self, *, refused: str = "") -> str:
        """A token to send. ``refused`` is one the service has just answered 401 to: it is
        dropped (unless another process has replaced it already) and a fresh one fetched."""
        ...


class TokenAuth(httpx.Auth):
    """``Authorization: Zoho-oauthtoken <token>`` on each request; after a 401, one fresh token
    and one resend. The one place hrsync reacts to a refused token (``hrsync connections
    invoke`` hands it to httpx; ``api.http.ZohoHttp`` drives it to pace every send)."""

    def __init__(
        self, tokens: TokenSource, *, prefix: str = ZOHO_PREFIX, query_param: str = ""
    ) -> None:
        self.tokens = tokens
        self._prefix = prefix
        self._query_param = query_param  # a custom service may want the token in the query

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.tokens.access_token()
        response = yield self._carrying(request, token)
        if response.status_code == 401:  # expired early, or revoked: one fresh token, one try
            yield self._carrying(request, self.tokens.access_token(refused=token))

    def _carrying(self, request: httpx.Request, token: str) -> httpx.Request:
        if self._query_param:
            request.url = request.url.copy_set_param(self._query_param, token)
        else:
            request.headers["Authorization"] = f"{self._prefix} {token}"
        return request


def token_request(client: httpx.Client, url: str, grant: str, **params: Any) -> dict[str, Any]:
    """POST one grant (authorization_code, refresh_token, client_credentials) to a token
    endpoint. Zoho answers token errors with HTTP 200 and an ``error`` key; so does this."""
    body = prepare_token_request(grant, **params)
    try:
        response = client.post(url, content=body, headers=FORM)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Unreachable(f"{url} unreachable: {exc}", url=url) from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{url} unreachable: {exc}", url=url) from exc
    if response.status_code >= 500:
        raise TransientError(f"{url} failed: HTTP {response.status_code}", url=url, status=500)
    return _json(response)


def post_for_token(
    client: httpx.Client, url: str, fields: dict[str, str], *, as_json: bool
) -> httpx.Response:
    """An HR API's own token call (``api.rest.ExchangedToken``): the answer as it came, or
    ``Unreachable``/``TransientError`` when none came or the server failed."""
    try:
        answer = client.post(url, json=fields) if as_json else client.post(url, data=fields)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Unreachable(f"{url} unreachable: {exc}", url=url) from exc
    except httpx.TransportError as exc:
        raise TransientError(f"{url} unreachable: {exc}", url=url) from exc
    if answer.status_code >= 500:
        raise TransientError(f"{url} failed: HTTP {answer.status_code}", url=url, status=500)
    return answer


def oauth1_token(client: httpx.Client, url: str, signer: ClientAuth) -> dict[str, str]:
    """One signed OAuth 1.0 token request (a request token, or the access token)."""
    uri, headers, body = signer.sign("POST", url, dict(FORM), b"")
    try:
        response = client.post(uri, headers=headers, content=body)
    except httpx.TransportError as exc:
        raise TransientError(f"{url} unreachable: {exc}", url=url) from exc
    if response.status_code >= 400:
        raise AuthError(f"{url} refused: HTTP {response.status_code} {response.text[:200]}")
    values = dict(parse_qsl(response.text))
    if "oauth_token" not in values:
        raise AuthError(f"{url} answered without oauth_token")
    return values


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {"error": f"HTTP {response.status_code} without JSON"}
    return value if isinstance(value, dict) else {"error": "unexpected answer"}


def exchange_code(
    client: httpx.Client,
    *,
    accounts_url: str,
    client_id: str,
    client_secret: SecretStr,
    code: str,
    redirect_uri: str,
) -> dict[str, Any]:
    """Trade a grant code for tokens (``authorization_code``); returns Zoho's token answer."""
    url = accounts_url.rstrip("/") + "/oauth/v2/token"
    payload = token_request(
        client,
        url,
        "authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        client_id=client_id,
        client_secret=client_secret.get_secret_value(),
    )
    if "error" in payload:
        raise AuthError(f"Zoho Accounts refused the grant code: {payload['error']}", url=url)
    return payload
