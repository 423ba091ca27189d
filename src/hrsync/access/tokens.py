"""The one access token of each connection, and of the keys in hrsync.toml, kept in
hrsync's database and shared by every command and process.

It is refreshed only near its expiry, by one process at a time (taking the row's lock makes a
second process wait and then find the fresh token), and after Zoho answers "Access Denied"
(HTTP 200, as it does when refreshes come too often) nobody asks again for ten minutes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

import httpx
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from hrsync.access.vault import Vault
from hrsync.api.auth import REFRESH_MARGIN, token_request
from hrsync.clock import Clock
from hrsync.errors import AuthError
from hrsync.store import Store
from hrsync.store.connections import StoredConnection
from hrsync.store.tokens import (
    HeldToken,
    connection_token,
    held_config_token,
    held_connection_token,
)

DENIED_BACKOFF = 600.0  # after "Access Denied", wait at least ten minutes


class SharedTokens:
    def __init__(self, store: Store, vault: Vault, client: httpx.Client, clock: Clock) -> None:
        self.store = store
        self.vault = vault
        self.client = client
        self.clock = clock

    def get(self, row: StoredConnection) -> str:
        """The connection's access token: cached, shared, refreshed once when due."""
        name = row.name
        settings = json.loads(row.settings)
        if row.status == "revoked":
            raise AuthError(f"{name}: the connection was revoked; add it again")
        denied = False
        # A second process waits here, then finds the token this one fetched.
        with held_connection_token(self.store, row.id) as token:
            now = self.clock.now()
            if token.sealed and token.expires_at - REFRESH_MARGIN > now:
                return str(self.vault.unseal(token.sealed)["access_token"])
            if token.denied_until > now:
                raise AuthError(_denied(name, token.denied_until - now))
            answer = self._refresh(row, settings)
            error = str(answer.get("error", ""))
            if "access_token" in answer:
                self.keep(token, answer, now)
                return str(answer["access_token"])
            if error.lower().replace("_", " ") == "access denied":
                token.denied_until = now + DENIED_BACKOFF
                denied = True
        if denied:
            raise AuthError(_denied(name, DENIED_BACKOFF))
        raise AuthError(f"{name}: Zoho Accounts refused the refresh token ({error or 'no token'})")

    def forget(self, connection_id: int, rejected: str | None = None) -> None:
        """The service refused ``rejected`` (401): the next call refreshes. A token another
        process has fetched since is kept."""
        with connection_token(self.store, connection_id) as token:
            if token is None or token.sealed is None:
                return
            held = self.vault.unseal(token.sealed)["access_token"]
            if rejected is None or held == rejected:
                token.sealed, token.expires_at = None, 0.0

    def _refresh(self, row: StoredConnection, settings: dict[str, Any]) -> dict[str, Any]:
        secrets = self.vault.unseal(row.secrets)
        custom = settings.get("custom") or {}
        base = {"client_id": settings["client_id"], "client_secret": secrets["client_secret"]}
        if custom.get("grant_type") == "client_credentials":
            scope = custom.get("scope_delimiter", ",").join(settings.get("scopes", []))
            params = base | {"scope": scope}
            return token_request(self.client, token_url(settings), "client_credentials", **params)
        if not secrets.get("refresh_token"):
            raise AuthError(
                f"{row.name}: not authorised yet; run `hrsync connections authorise {row.name}`"
            )
        params = base | {"refresh_token": secrets["refresh_token"]}
        url = token_url(settings, refresh=True)
        return token_request(self.client, url, "refresh_token", **params)

    def keep(self, token: HeldToken, answer: dict[str, Any], now: float) -> None:
        """Seal the token Zoho answered (to a refresh) into the connection's row."""
        token.sealed = self.seal(answer)
        token.expires_at = expiry(answer, now)
        token.denied_until = 0.0
        token.refreshes += 1

    def seal(self, answer: dict[str, Any]) -> bytes:
        """The access token of Zoho's ``answer``, as the connection's row keeps it."""
        return self.vault.seal({"access_token": answer["access_token"]})


def expiry(answer: dict[str, Any], now: float) -> float:
    """When the access token of a token ``answer`` received at ``now`` expires."""
    return now + float(answer.get("expires_in", 3600))


class ConfigTokenSource:
    """Access tokens from the client id, secret and refresh token in hrsync.toml: one access
    token in hrsync's database for every process, fetched by one at a time."""

    def __init__(
        self,
        store: Store,
        client: httpx.Client,
        *,
        accounts_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        clock: Clock,
    ) -> None:
        self._store = store
        self._client = client
        self._url = accounts_url.rstrip("/") + "/oauth/v2/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._clock = clock
        refresh = refresh_token.get_secret_value()
        self._key = _digest(f"{self._url}\n{client_id}\n{refresh}").hex()
        # Only who holds the refresh token can open the stored token: no key file needed.
        seal = _digest(f"hrsync access token\n{refresh}\n{client_secret.get_secret_value()}")
        self._fernet = Fernet(base64.urlsafe_b64encode(seal))
        self._token, self._expires_at = "", 0.0
        self._lock = threading.Lock()

    def access_token(self, *, refused: str = "") -> str:
        """The token held, else the shared one, else a fresh one; never ``refused``."""
        if refused:
            self._forget(refused)
        with self._lock:
            if not self._token or self._expires_at - REFRESH_MARGIN <= self._clock.now():
                self._token, self._expires_at = self._shared()
            return self._token

    def _forget(self, refused: str) -> None:
        """Zoho refused the token (401): drop it, here and in the store, unless another
        process has fetched a newer one since."""
        with self._lock:
            if self._token == refused:
                self._token = ""
        with held_config_token(self._store, self._key) as row:
            if self._open(row.sealed) == refused:
                row.sealed, row.expires_at = None, 0.0

    def _open(self, sealed: bytes | None) -> str:
        """The stored token, or "" (none, or sealed with a client secret since changed)."""
        try:
            return self._fernet.decrypt(sealed).decode() if sealed else ""
        except InvalidToken:
            return ""

    def _shared(self) -> tuple[str, float]:
        denied = False
        # One process at a time: a second one waits here, then finds the fresh token.
        with held_config_token(self._store, self._key) as row:
            now = self._clock.now()
            held = self._open(row.sealed)
            if held and row.expires_at - REFRESH_MARGIN > now:
                return held, row.expires_at
            if row.denied_until > now:
                raise AuthError(_denied("hrsync.toml's refresh token", row.denied_until - now))
            answer = self._refresh()
            if "access_token" in answer:
                token = str(answer["access_token"])
                row.sealed, row.denied_until = self._fernet.encrypt(token.encode()), 0.0
                row.expires_at = expiry(answer, now)
                row.refreshes += 1
                return token, row.expires_at
            error = str(answer.get("error", "no token"))
            if error.lower().replace("_", " ") == "access denied":
                row.denied_until, denied = now + DENIED_BACKOFF, True
        if denied:  # said after the commit, so other processes do not ask either
            raise AuthError(_denied("hrsync.toml's refresh token", DENIED_BACKOFF))
        raise AuthError(
            f"Zoho Accounts refused the refresh token: {error}. "
            "Check client_id, client_secret and refresh_token.",
            method="POST",
            url=self._url,
            code=error,
        )

    def _refresh(self) -> dict[str, Any]:
        return token_request(
            self._client,
            self._url,
            "refresh_token",
            refresh_token=self._refresh_token.get_secret_value(),
            client_id=self._client_id,
            client_secret=self._client_secret.get_secret_value(),
        )


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def token_url(settings: dict[str, Any], *, refresh: bool = False) -> str:
    """Where a connection's tokens come from: Zoho Accounts, or the custom service's URLs."""
    custom = settings.get("custom") or {}
    if custom:
        return str((refresh and custom.get("refresh_token_url")) or custom["access_token_url"])
    return str(settings.get("accounts_url", "")) + "/oauth/v2/token"


def _denied(name: str, seconds: float) -> str:
    return (
        f'{name}: Zoho Accounts answered "Access Denied" (too many token requests); hrsync '
        f"will not ask again for {seconds / 60:.0f} min"
    )
