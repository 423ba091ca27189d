"""OAuth 2.0 with Zoho Accounts: one cached access token, refreshed only when needed.

Zoho limits how often a refresh token may be used, and answers token errors with HTTP 200
and an ``error`` key, so the access token is kept until shortly before it expires and a
refresh failure is an ``AuthError`` rather than something to retry in a loop.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol
from urllib.parse import parse_qsl

import httpx
from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth2.rfc6749 import OAuth2Token
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from pydantic import SecretStr

from hrsync.clock import Clock
from hrsync.errors import AuthError, TransientError

log = logging.getLogger(__name__)
REFRESH_MARGIN = 120.0
FORM = {
    "content-type": "application/x-www-form-urlencoded"
}  # seconds before expiry at which a token counts as expired


class TokenSource(Protocol):
    """Hands out ``Authorization`` header values; told when the service refused one."""

    def header(self) -> str: ...

    def invalidate(self) -> None: ...


class OAuthTokenSource:
    """Hands out ``Authorization`` headers for Zoho APIs from a refresh token."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        accounts_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        clock: Clock,
    ) -> None:
        self._client = client
        self._token_url = accounts_url.rstrip("/") + "/oauth/v2/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._clock = clock
        self._token: OAuth2Token | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def header(self) -> str:
        """``Zoho-oauthtoken …`` for the current access token, refreshing it if it is due."""
        with self._lock:
            if self._token is None or self._expires_soon(self._token):
                self._token = self._refresh()
            return f"Zoho-oauthtoken {self._token['access_token']}"

    def invalidate(self) -> None:
        """Zoho said the token is not valid (401): fetch a new one next time."""
        with self._lock:
            self._token = None

    def _expires_soon(self, token: OAuth2Token) -> bool:
        return float(token["expires_at"]) - REFRESH_MARGIN <= self._clock.now()

    def _refresh(self) -> OAuth2Token:
        payload = token_request(
            self._client,
            self._token_url,
            "refresh_token",
            refresh_token=self._refresh_token.get_secret_value(),
            client_id=self._client_id,
            client_secret=self._client_secret.get_secret_value(),
        )
        if "error" in payload or "access_token" not in payload:
            raise AuthError(
                f"Zoho Accounts refused the refresh token: {payload.get('error', 'no token')}. "
                "Check client_id, client_secret and refresh_token.",
                method="POST",
                url=self._token_url,
                code=str(payload.get("error", "")),
            )
        self.refreshes += 1
        log.info("refreshed the Zoho access token")
        expires_in = float(payload.get("expires_in", 3600))
        return OAuth2Token(dict(payload, expires_at=self._clock.now() + expires_in))


def token_request(client: httpx.Client, url: str, grant: str, **params: Any) -> dict[str, Any]:
    """POST one grant (authorization_code, refresh_token, client_credentials) to a token
    endpoint. Zoho answers token errors with HTTP 200 and an ``error`` key; so does this."""
    body = prepare_token_request(grant, **params)
    try:
        response = client.post(url, content=body, headers=FORM)
    except httpx.TransportError as exc:
        raise TransientError(f"{url} unreachable: {exc}", url=url) from exc
    if response.status_code >= 500:
        raise TransientError(f"{url} failed: HTTP {response.status_code}", url=url, status=500)
    return _json(response)


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
