"""Zoho Accounts: the OAuth 2.0 server (authorization code, refresh token, revoke)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from hrsync.emulator.core import EmuRequest, EmuResponse, ZohoError

ACCESS_TOKEN_LIFETIME = 3600.0
CODE_LIFETIME = 120.0
# Zoho limits access tokens per refresh token: more than this many in ten minutes is refused
# with "Access Denied" (HTTP 200, like every token error).
REFRESH_LIMIT = 10
REFRESH_WINDOW = 600.0
ACCESS_DENIED = {
    "error_description": "You have made too many requests continuously. Please try again "
    "after some time.",
    "error": "Access Denied",
    "status": "failure",
}
# Redirect URIs the pre-registered client starts with: hrsync's consent callback and its web
# page's. Zoho compares a consent's redirect_uri with the registered ones exactly, port included.
REGISTERED_REDIRECTS = ("http://127.0.0.1:8765/callback", "http://127.0.0.1:8080/oauth/callback")
# Zoho shows an HTML page "Invalid Redirect Uri" and does not redirect; the emulator answers
# JSON (HTTP 400) like the rest of its errors, so a script can read why.
INVALID_REDIRECT = {
    "error": "invalid_redirect_uri",
    "error_description": "Invalid Redirect Uri: the redirect URI passed does not match the "
    "one registered for the client",
}


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """A refresh token, or an access token, with its scopes and owner."""

    token: str
    client_id: str
    scopes: tuple[str, ...]
    user: str
    expires_at: float = float("inf")


class Accounts:
    """Issues and checks tokens. Token errors answer HTTP 200 with an ``error`` key."""

    def __init__(
        self,
        *,
        admin_id: str,
        seed: str = "hrsync-emulator",
        redirect_uris: Iterable[str] = REGISTERED_REDIRECTS,
    ) -> None:
        digest = hashlib.sha256(seed.encode()).hexdigest()
        self.client = OAuthClient(
            client_id=f"1000.{digest[:30].upper()}",
            client_secret=digest[30:64],
            redirect_uris=list(redirect_uris),
        )
        self.admin_id = admin_id
        self._codes: dict[str, tuple[Grant, float, str]] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refreshes = 0
        self.denials = 0
        self._issued: dict[str, list[float]] = {}  # refresh token -> times it was used

    def authorize(self, req: EmuRequest, now: float) -> EmuResponse:
        """``/oauth/v2/auth``: consent is automatic; redirect back with a grant code."""
        q = req.query
        if q.get("client_id") != self.client.client_id or "redirect_uri" not in q:
            return EmuResponse(400, {"error": "invalid_client"})
        if q["redirect_uri"] not in self.client.redirect_uris:
            return EmuResponse(400, dict(INVALID_REDIRECT))
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        scopes = tuple(s for s in q.get("scope", "").replace(" ", ",").split(",") if s)
        grant = Grant(code, self.client.client_id, scopes, self.admin_id)
        self._codes[code] = (grant, now + CODE_LIFETIME, q["redirect_uri"])
        params = {"code": code, "location": "us", "accounts-server": "emulator"}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return EmuResponse(302, None, {"location": f"{q['redirect_uri']}{sep}{urlencode(params)}"})

    def register_redirects(self, client_id: str, uris: Iterable[str]) -> list[str]:
        """Add redirect URIs to a client's registered ones (Zoho's API console does this)."""
        if client_id != self.client.client_id:
            raise ZohoError(404, "invalid_client", f"no client {client_id}")
        for uri in uris:
            if uri not in self.client.redirect_uris:
                self.client.redirect_uris.append(uri)
        return list(self.client.redirect_uris)

    def token(self, req: EmuRequest, now: float) -> EmuResponse:
        """``/oauth/v2/token``: authorization_code and refresh_token grants."""
        form = req.form()
        if (
            form.get("client_id") != self.client.client_id
            or form.get("client_secret") != self.client.client_secret
        ):
            return EmuResponse(200, {"error": "invalid_client"})
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form, now)
        if grant_type == "refresh_token":
            return self._refresh(form, now)
        if grant_type == "client_credentials":
            scopes = tuple(s for s in form.get("scope", "").replace(" ", ",").split(",") if s)
            grant = Grant("client", self.client.client_id, scopes, self.admin_id)
            return EmuResponse(200, self._issue_access(grant, now))
        return EmuResponse(200, {"error": "unsupported_grant_type"})

    def _exchange_code(self, form: dict[str, str], now: float) -> EmuResponse:
        entry = self._codes.pop(form.get("code", ""), None)
        if entry is None or entry[1] < now:
            return EmuResponse(200, {"error": "invalid_code"})
        grant, _, redirect_uri = entry
        if form.get("redirect_uri", redirect_uri) != redirect_uri:
            return EmuResponse(200, {"error": "invalid_redirect_uri"})
        refresh = Grant(f"1000.{secrets.token_hex(32)}", grant.client_id, grant.scopes, grant.user)
        self.refresh_tokens[refresh.token] = refresh
        body = self._issue_access(refresh, now)
        body["refresh_token"] = refresh.token
        return EmuResponse(200, body)

    def _refresh(self, form: dict[str, str], now: float) -> EmuResponse:
        refresh = self.refresh_tokens.get(form.get("refresh_token", ""))
        if refresh is None:
            return EmuResponse(200, {"error": "invalid_code"})
        recent = [t for t in self._issued.get(refresh.token, []) if t > now - REFRESH_WINDOW]
        if len(recent) >= REFRESH_LIMIT:
            self.denials += 1
            return EmuResponse(200, dict(ACCESS_DENIED))
        self._issued[refresh.token] = [*recent, now]
        self.refreshes += 1
        return EmuResponse(200, self._issue_access(refresh, now))

    def _issue_access(self, refresh: Grant, now: float) -> dict[str, object]:
        token = f"1000.{secrets.token_hex(32)}"
        expires_at = now + ACCESS_TOKEN_LIFETIME
        self.access_tokens[token] = Grant(
            token, refresh.client_id, refresh.scopes, refresh.user, expires_at
        )
        return {
            "access_token": token,
            "scope": " ".join(refresh.scopes),
            "api_domain": "https://www.zohoapis.com",
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_LIFETIME),
        }

    def revoke(self, req: EmuRequest, now: float) -> EmuResponse:
        """``/oauth/v2/token/revoke``: forget a refresh token and its access tokens."""
        token = req.form().get("token", "")
        refresh = self.refresh_tokens.pop(token, None)
        if refresh is None:
            return EmuResponse(200, {"error": "invalid_token"})
        for key in [k for k, g in self.access_tokens.items() if g.client_id == refresh.client_id]:
            del self.access_tokens[key]
        return EmuResponse(200, {"status": "success"})

    def user_for(self, req: EmuRequest, now: float) -> str | None:
        """The user behind the request's ``Zoho-oauthtoken``, or None if it is not valid."""
        grant = self.grant_for(req, now)
        return grant.user if grant is not None else None

    def grant_for(self, req: EmuRequest, now: float) -> Grant | None:
        """The valid access token of the request's ``Zoho-oauthtoken`` header, if any."""
        header = req.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "zoho-oauthtoken" or not token:
            return None
        grant = self.access_tokens.get(token.strip())
        if grant is None or grant.expires_at <= now:
            return None
        return grant
