"""Connections: data centres, the authorization-code flow, sealed secrets, one shared access
token, the "Access Denied" backoff, revocation, and custom services."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hrsync.access.connections import Connections
from hrsync.access.services import DATA_CENTRES, CustomService
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.errors import AuthError, ConfigError
from hrsync.store import Store
from tests.conftest import BASE, World
from tests.support import authorise_at_emulator, emulated_connection

SECRET_ENV = {ENV_KEY: new_key()}


@pytest.fixture
def connections(world: World) -> Iterator[Connections]:
    store = Store(world.settings.store.url, clock=world.clock)
    yield Connections(
        store, Vault.open(Path("unused"), environ=SECRET_ENV), world.http, world.clock
    )
    store.close()


def test_each_data_centre_resolves_to_its_own_hosts(connections: Connections) -> None:
    expected = {
        "US": ("https://cliq.zoho.com", "https://accounts.zoho.com"),
        "EU": ("https://cliq.zoho.eu", "https://accounts.zoho.eu"),
        "IN": ("https://cliq.zoho.in", "https://accounts.zoho.in"),
        "AU": ("https://cliq.zoho.com.au", "https://accounts.zoho.com.au"),
        "JP": ("https://cliq.zoho.jp", "https://accounts.zoho.jp"),
        "CA": ("https://cliq.zohocloud.ca", "https://accounts.zohocloud.ca"),
        "SA": ("https://cliq.zoho.sa", "https://accounts.zoho.sa"),
        "UK": ("https://cliq.zoho.uk", "https://accounts.zoho.uk"),
        "CN": ("https://cliq.zoho.com.cn", "https://accounts.zoho.com.cn"),
    }
    assert set(expected) == set(DATA_CENTRES)
    for dc, (api, accounts) in expected.items():
        info = connections.add_zoho(
            f"c-{dc}", "zoho_cliq", dc=dc.lower(), client_id="1", client_secret="s"
        )
        assert (info.api_url, info.accounts_url, info.data_centre) == (api, accounts, dc)
    people = connections.add_zoho("p", "zoho_people", dc="EU", client_id="1", client_secret="s")
    connect = connections.add_zoho("c", "zoho_connect", dc="CA", client_id="1", client_secret="s")
    assert people.api_url == "https://people.zoho.eu" and "ZOHOPEOPLE.forms.READ" in people.scopes
    assert connect.api_url == "https://connect.zohocloud.ca"
    with pytest.raises(ValueError, match="unknown data centre 'MARS'"):
        connections.add_zoho("x", "zoho_cliq", dc="MARS", client_id="1", client_secret="s")
    with pytest.raises(ConfigError, match="plain HTTP"):
        connections.add_zoho(
            "h", "zoho_cliq", client_id="1", client_secret="s", api_url="http://cliq.example"
        )


def test_consent_then_calls_with_secrets_sealed_everywhere(
    world: World, connections: Connections
) -> None:
    secret = emulated_connection(world, connections)
    assert connections.show("cliq").pending == [
        "not authorised: run `hrsync connections authorise cliq`"
    ]
    authorise_at_emulator(world, connections)
    info = connections.show("cliq")
    assert info.authorised and info.pending == []
    answer = connections.request("cliq", "GET", "/api/v2/users", params={"limit": "1"})
    assert answer.status_code == 200 and answer.json()["data"]
    token = connections.access_token("cliq")
    stored = Path(world.settings.store.url.removeprefix("sqlite:///")).read_bytes()
    for value in (secret, token):
        assert value.encode() not in stored
    assert secret not in json.dumps(info.__dict__)


def test_one_access_token_is_shared_and_refreshed_once(
    world: World, connections: Connections
) -> None:
    emulated_connection(world, connections)
    authorise_at_emulator(world, connections)
    other_store = Store(world.settings.store.url, clock=world.clock)
    other = Connections(other_store, connections.vault, world.http, world.clock)  # a 2nd process
    first = connections.access_token("cliq")
    assert other.access_token("cliq") == first
    before = world.stats()["token_refreshes"]
    world.clock.advance(3600)  # expired for both
    renewed = other.access_token("cliq")
    assert connections.access_token("cliq") == renewed != first
    assert world.stats()["token_refreshes"] == before + 1  # type: ignore[operator]
    other_store.close()


def test_access_denied_stops_asking_for_ten_minutes(world: World, connections: Connections) -> None:
    emulated_connection(world, connections)
    authorise_at_emulator(world, connections)
    for _ in range(10):  # Zoho allows ten access tokens per refresh token in ten minutes
        connections.forget_token("cliq")
        connections.access_token("cliq")
    connections.forget_token("cliq")
    with pytest.raises(AuthError, match=r"Access Denied.*10 min"):
        connections.access_token("cliq")
    asked = world.stats()
    world.clock.advance(300)
    with pytest.raises(AuthError, match=r"Access Denied.*5 min"):
        connections.access_token("cliq")
    assert world.stats()["token_denials"] == asked["token_denials"] == 1  # not asked again
    world.clock.advance(301)
    assert connections.access_token("cliq")


def test_revoking_ends_the_refresh_token_at_zoho(world: World, connections: Connections) -> None:
    emulated_connection(world, connections)
    authorise_at_emulator(world, connections)
    row_secrets = connections.vault.unseal(connections._row("cliq").secrets)
    info = connections.revoke("cliq")
    assert info.status == "revoked" and info.pending == ["revoked: add it again"]
    cliq = world.settings.cliq
    refused = world.http.post(
        f"{BASE}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": cliq.client_id,
            "client_secret": cliq.client_secret.get_secret_value(),
            "refresh_token": row_secrets["refresh_token"],
        },
    ).json()
    assert "error" in refused
    with pytest.raises(AuthError, match="revoked"):
        connections.access_token("cliq")


def test_custom_services_basic_auth_and_client_credentials(
    world: World, connections: Connections
) -> None:
    seen: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    basic = Connections(
        connections.store,
        connections.vault,
        httpx.Client(transport=httpx.MockTransport(api)),
        world.clock,
    )
    basic.add_custom(
        "hr-api",
        CustomService(name="HR API", auth_type="basic", base_url="https://hr.example/api"),
        username="sync",
        password="pa55word",
    )
    answer = basic.request("hr-api", "GET", "/people", params={"page": "2"})
    assert answer.json() == {"ok": True}
    request = seen[0]
    assert str(request.url) == "https://hr.example/api/people?page=2"
    assert (
        request.headers["authorization"] == "Basic " + base64.b64encode(b"sync:pa55word").decode()
    )

    cliq = world.settings.cliq
    connections.add_custom(
        "machine",
        CustomService(
            name="Cliq, machine to machine",
            auth_type="oauth2",
            grant_type="client_credentials",
            base_url=BASE,
            access_token_url=f"{BASE}/oauth/v2/token",
            scopes=["ZohoCliq.Users.READ"],
            token_prefix="Zoho-oauthtoken",
        ),
        client_id=cliq.client_id,
        client_secret=cliq.client_secret.get_secret_value(),
        allow_http=True,
    )
    assert connections.show("machine").pending == []
    assert connections.request("machine", "GET", "/api/v2/users").status_code == 200
