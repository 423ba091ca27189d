"""The one auth flow: a token on every request, one fresh token and one resend after a 401."""

from __future__ import annotations

import httpx
import pytest

from hrsync.api.auth import TokenAuth
from hrsync.api.http import ZohoHttp
from hrsync.api.ratelimit import Pacer
from hrsync.clock import VirtualClock
from hrsync.errors import AuthError

BASE = "https://cliq.zoho.com"


class Tokens:
    """Hands out ``old`` until it is refused, then ``new``; remembers what was refused."""

    def __init__(self) -> None:
        self.current = "old"
        self.refused: list[str] = []

    def access_token(self, *, refused: str = "") -> str:
        if refused:
            self.refused.append(refused)
            self.current = "new"
        return self.current


def zoho(accepted: set[str], seen: list[str]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        token = request.headers["Authorization"].removeprefix("Zoho-oauthtoken ")
        if token in accepted:
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"code": "oauthtoken_invalid", "message": "invalid"})

    return httpx.MockTransport(answer)


def test_a_refused_token_is_replaced_once_and_the_request_sent_again() -> None:
    tokens, seen = Tokens(), []
    with httpx.Client(transport=zoho({"new"}, seen)) as client:
        answer = client.get(f"{BASE}/api/v2/users", auth=TokenAuth(tokens))
    assert answer.status_code == 200
    assert seen == ["Zoho-oauthtoken old", "Zoho-oauthtoken new"] and tokens.refused == ["old"]


def test_zoho_http_paces_and_counts_the_resend_and_gives_up_after_one() -> None:
    clock = VirtualClock()
    tokens, seen = Tokens(), []
    with httpx.Client(transport=zoho({"new"}, seen)) as client:
        http = ZohoHttp(
            client, base_url=BASE, auth=TokenAuth(tokens), pacer=Pacer(clock), clock=clock
        )
        assert http.call("GET", "/api/v2/users", endpoint="users.list") == {"ok": True}
        assert http.calls["users.list"] == 2
    with httpx.Client(transport=zoho(set(), seen := [])) as client:
        http = ZohoHttp(
            client, base_url=BASE, auth=TokenAuth(Tokens()), pacer=Pacer(clock), clock=clock
        )
        with pytest.raises(AuthError):
            http.call("GET", "/api/v2/users", endpoint="users.list")
    assert seen == ["Zoho-oauthtoken old", "Zoho-oauthtoken new"]
