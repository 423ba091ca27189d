"""Zoho Accounts redirects a consent only to a redirect URI registered for the client,
compared exactly, port included (READINGS row 23); the emulator does the same."""

from __future__ import annotations

import httpx
import pytest

from hrsync.access.connections import loopback_redirect_uri
from hrsync.clock import VirtualClock
from hrsync.emulator import Emulator
from hrsync.emulator.transport import mock_transport

BASE = "http://127.0.0.1:9"


@pytest.fixture
def http() -> httpx.Client:
    return httpx.Client(transport=mock_transport(Emulator(VirtualClock())), base_url=BASE)


def consent(http: httpx.Client, redirect_uri: str) -> httpx.Response:
    client_id = http.get("/_emulator/clients").json()["clients"][0]["client_id"]
    return http.get(
        "/oauth/v2/auth",
        params={
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "ZohoCliq.Users.ALL",
        },
    )


def test_the_registered_redirect_uri_gets_the_code(http: httpx.Client) -> None:
    answer = consent(http, loopback_redirect_uri())
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("http://127.0.0.1:8765/callback?code=")


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8766/callback",  # another port of a registered host
        "http://127.0.0.1/callback",
        "http://localhost:8765/callback",
        "http://127.0.0.1:8765/callback/",
        "https://evil.example/callback",
    ],
)
def test_any_other_redirect_uri_is_refused_without_a_redirect(http: httpx.Client, uri: str) -> None:
    answer = consent(http, uri)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert answer.json()["error"] == "invalid_redirect_uri"


def test_the_control_api_registers_more_redirect_uris(http: httpx.Client) -> None:
    client_id = http.get("/_emulator/clients").json()["clients"][0]["client_id"]
    uri = loopback_redirect_uri(8766)
    registered = http.post(
        "/_emulator/clients/redirect_uris", json={"client_id": client_id, "redirect_uris": [uri]}
    )
    assert registered.status_code == 200 and uri in registered.json()["redirect_uris"]
    http.post("/_emulator/reset")  # the client's registration outlives the organisation
    assert uri in http.get("/_emulator/clients").json()["clients"][0]["redirect_uris"]
    assert consent(http, uri).status_code == 302
    unknown = {"client_id": "1000.NOPE", "redirect_uris": [uri]}
    assert http.post("/_emulator/clients/redirect_uris", json=unknown).status_code == 404


def test_the_code_is_traded_only_with_the_redirect_uri_it_was_given_for(
    http: httpx.Client,
) -> None:
    client = http.get("/_emulator/clients").json()["clients"][0]
    code = httpx.URL(consent(http, loopback_redirect_uri()).headers["location"]).params["code"]
    form = {
        "grant_type": "authorization_code",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "code": code,
        "redirect_uri": "http://127.0.0.1:8080/oauth/callback",  # registered, but not this one's
    }
    assert http.post("/oauth/v2/token", data=form).json() == {"error": "invalid_redirect_uri"}
