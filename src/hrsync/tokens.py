"""The one access token of each connection, kept in hrsync's database and shared by every
command and process.

It is refreshed only near its expiry, by one process at a time (taking the row's lock makes a
second process wait and then find the fresh token), and after Zoho answers "Access Denied"
(HTTP 200, as it does when refreshes come too often) nobody asks again for ten minutes.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import update

from hrsync.api.auth import REFRESH_MARGIN, token_request
from hrsync.clock import Clock
from hrsync.errors import AuthError
from hrsync.store import Store
from hrsync.store.tables import AccessToken, Connection
from hrsync.vault import Vault

DENIED_BACKOFF = 600.0  # after "Access Denied", wait at least ten minutes


class SharedTokens:
    def __init__(self, store: Store, vault: Vault, client: httpx.Client, clock: Clock) -> None:
        self.store = store
        self.vault = vault
        self.client = client
        self.clock = clock

    def get(self, row: Connection) -> str:
        """The connection's access token: cached, shared, refreshed once when due."""
        name = row.name
        settings = json.loads(row.settings)
        if row.status == "revoked":
            raise AuthError(f"{name}: the connection was revoked; add it again")
        denied = False
        with self.store.session.begin() as s:
            # Bumping the row takes its write lock: a second process waits here, then finds
            # the token this one fetched instead of refreshing it again.
            found = s.execute(
                update(AccessToken)
                .where(AccessToken.connection_id == row.id)
                .values(turn=AccessToken.turn + 1)
            )
            if not getattr(found, "rowcount", 0):
                s.add(AccessToken(connection_id=row.id, expires_at=0.0, denied_until=0.0))
                s.flush()
            token = s.get(AccessToken, row.id)
            assert token is not None
            now = self.clock.now()
            if token.sealed and token.expires_at - REFRESH_MARGIN > now:
                return str(self.vault.unseal(token.sealed)["access_token"])
            if token.denied_until > now:
                raise AuthError(_denied(name, token.denied_until - now))
            answer = self._refresh(row, settings)
            error = str(answer.get("error", ""))
            if "access_token" in answer:
                self.keep(s, row.id, answer, now)
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
        with self.store.session.begin() as s:
            token = s.get(AccessToken, connection_id)
            if token is None or token.sealed is None:
                return
            held = self.vault.unseal(token.sealed)["access_token"]
            if rejected is None or held == rejected:
                token.sealed, token.expires_at = None, 0.0

    def _refresh(self, row: Connection, settings: dict[str, Any]) -> dict[str, Any]:
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

    def keep(
        self,
        s: Any,
        connection_id: int,
        answer: dict[str, Any],
        now: float,
        *,
        refreshed: bool = True,
    ) -> None:
        expires = now + float(answer.get("expires_in", 3600))
        sealed = self.vault.seal({"access_token": answer["access_token"]})
        token = s.get(AccessToken, connection_id)
        if token is None:
            s.add(
                AccessToken(
                    connection_id=connection_id,
                    sealed=sealed,
                    expires_at=expires,
                    denied_until=0.0,
                    refreshes=int(refreshed),
                )
            )
        else:
            token.sealed, token.expires_at, token.denied_until = sealed, expires, 0.0
            token.refreshes += int(refreshed)


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
