"""``connections invoke`` sends a connection's credentials to its own hosts only: an absolute
URL elsewhere is refused before any request (a token, a password, a signature) leaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hrsync.access.connections import Connections
from hrsync.access.services import CustomService
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.cli.main import app
from hrsync.clock import VirtualClock
from hrsync.errors import ConfigError
from hrsync.store import Store
from hrsync.store.tables import Connection

LOOPBACK = "http://127.0.0.1:9"  # never dialled: a MockTransport answers


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
def transport(sent: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(answer)


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def connections(tmp_path: Path, transport: httpx.MockTransport, key: str) -> Iterator[Connections]:
    clock = VirtualClock()
    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=clock)
    vault = Vault.open(tmp_path / "unused", environ={ENV_KEY: key})
    client = httpx.Client(transport=transport)
    yield Connections(store, vault, client, clock)
    client.close()
    store.close()


def _basic(connections: Connections) -> None:
    service = CustomService(name="HR API", auth_type="basic", base_url=f"{LOOPBACK}/api")
    connections.add_custom("hr", service, username="sync", password="pa55word", allow_http=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example/x",
        "HTTPS://other.example/x",
        "http://127.0.0.1:10/api/x",  # the same host, another port: another service
        "http://127.0.0.2:9/api/x",
        "https://127.0.0.1:9@other.example/x",  # userinfo, then the real host
    ],
)
def test_an_absolute_url_off_the_connections_hosts_is_refused_before_any_request(
    connections: Connections, sent: list[httpx.Request], url: str
) -> None:
    _basic(connections)
    with pytest.raises(ConfigError, match=r"not on the connection's hosts \(http://127.0.0.1:9\)"):
        connections.request("hr", "GET", url)
    assert sent == []


def test_paths_and_absolute_urls_on_its_own_host_are_sent(
    connections: Connections, sent: list[httpx.Request]
) -> None:
    _basic(connections)
    for url in ("/people", "//other.example/x", f"{LOOPBACK}/api/me", "HTTP://127.0.0.1:9/x"):
        assert connections.request("hr", "GET", url).status_code == 200
    assert [str(r.url) for r in sent] == [
        f"{LOOPBACK}/api/people",
        f"{LOOPBACK}/api/other.example/x",  # a path on the service, not a host
        f"{LOOPBACK}/api/me",
        f"{LOOPBACK}/x",
    ]


def test_a_zoho_connection_is_held_to_its_data_centres_hosts(
    connections: Connections, sent: list[httpx.Request]
) -> None:
    connections.add_zoho("eu", "zoho_cliq", dc="EU", client_id="1", client_secret="s")
    for url in ("https://cliq.zoho.com/api/v2/users", "https://cliq.zoho.eu.evil.example/x"):
        with pytest.raises(ConfigError, match=r"https://accounts.zoho.eu, https://cliq.zoho.eu"):
            connections.request("eu", "GET", url)
    assert sent == []  # not even a token request


def test_invoke_refuses_another_host_in_one_line(
    tmp_path: Path,
    connections: Connections,
    transport: httpx.MockTransport,
    key: str,
    sent: list[httpx.Request],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _basic(connections)
    monkeypatch.setenv(ENV_KEY, key)
    real_client = httpx.Client
    # Whatever happens, nothing leaves this machine: the CLI's client answers in-process.
    monkeypatch.setattr(httpx, "Client", lambda **_: real_client(transport=transport))
    config = tmp_path / "hrsync.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "hrsync.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["--config", str(config), "connections", "invoke", "hr", "GET", "https://other.example/x"],
    )
    assert result.exit_code == 1 and sent == []
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: hr: 'https://other.example/x' is not on the connection's hosts")


@pytest.mark.parametrize(
    ("setting", "url"),
    [("api_url", "HTTP://cliq.example"), ("accounts_url", "http://localhost.evil.example")],
)
def test_a_connection_stored_under_the_old_rule_sends_nothing_but_can_be_deleted(
    connections: Connections, sent: list[httpx.Request], setting: str, url: str
) -> None:
    connections.add_zoho(
        "old", "zoho_cliq", client_id="1", client_secret="s", api_url=LOOPBACK,
        accounts_url=LOOPBACK, allow_http=True,
    )  # fmt: skip
    with connections.store.session.begin() as s:  # as an older hrsync let it be stored
        row = s.scalars(select(Connection).where(Connection.name == "old")).one()
        row.settings = json.dumps(json.loads(row.settings) | {setting: url})
    for attempt in (
        lambda: connections.access_token("old"),
        lambda: connections.request("old", "GET", "/api/v2/users"),
        lambda: connections.authorise("old", code="1000.abc"),
        lambda: connections.revoke("old"),
    ):
        with pytest.raises(ConfigError, match=f"old: {setting} = '{url}': plain HTTP is refused"):
            attempt()
    assert sent == []
    assert connections.show("old").pending  # still shown, so the admin can see and delete it
    connections.delete("old")
    assert connections.names() == []
