"""``hrsync emulator serve`` listens on loopback only unless told --unsafe-bind: its control
API resets the org and hands out the OAuth client secret to anyone who reaches it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from hrsync.cli.main import app
from hrsync.config import load_settings
from tests.asgi import AsgiClient

served: list[Any] = []  # the ASGI apps uvicorn was given, the latest last


@pytest.fixture
def listened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hosts the emulator was started on (nothing really listens)."""
    hosts: list[str] = []
    served.clear()

    def run(asgi: Any, **options: Any) -> None:
        hosts.append(options["host"])
        served.append(asgi)

    monkeypatch.setattr(uvicorn, "run", run)
    return hosts


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "localhost.evil.example"])
def test_a_non_loopback_host_is_refused_in_one_line(listened: list[str], host: str) -> None:
    result = CliRunner().invoke(app, ["emulator", "serve", "--host", host])
    assert result.exit_code == 1
    assert listened == []
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --host {host}: the emulator listens on a loopback address")
    assert "--unsafe-bind" in line


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("127.0.0.1", "http://127.0.0.1:8990"),
        ("127.0.0.2", "http://127.0.0.2:8990"),
        ("::1", "http://[::1]:8990"),
        ("localhost", "http://localhost:8990"),
    ],
)
def test_a_loopback_host_is_served(listened: list[str], host: str, base: str) -> None:
    result = CliRunner().invoke(app, ["emulator", "serve", "--host", host, "--port", "8990"])
    assert result.exit_code == 0, result.output
    assert listened == [host] and result.stderr == ""
    assert result.stdout.startswith(f"Zoho emulator on {base} (real clock)")


def test_unsafe_bind_listens_beyond_loopback_with_a_warning(listened: list[str]) -> None:
    result = CliRunner().invoke(app, ["emulator", "serve", "--host", "0.0.0.0", "--unsafe-bind"])
    assert result.exit_code == 0, result.output
    assert listened == ["0.0.0.0"]
    assert "warning: listening on 0.0.0.0, beyond this machine" in result.stderr


def test_print_connection_prints_hrsync_toml_lines_that_reach_the_emulator(
    listened: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["emulator", "serve", "--port", "8991", "--print-connection"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Zoho emulator on http://127.0.0.1:8991")  # not in the file
    cliq = tomllib.loads(result.stdout)["cliq"]
    assert cliq["api_url"] == cliq["accounts_url"] == "http://127.0.0.1:8991"
    assert cliq["allow_http"] is True
    (tmp_path / "hrsync.toml").write_text(result.stdout, encoding="utf-8")
    load_settings(tmp_path / "hrsync.toml").cliq.check("cliq")  # complete, and http allowed
    emulator = AsgiClient(served[-1])  # the app uvicorn would have served
    try:
        (client,) = emulator.get("/_emulator/clients").json()["clients"]
        assert (cliq["client_id"], cliq["client_secret"]) == (
            client["client_id"],
            client["client_secret"],
        )
        token = emulator.post(
            "/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": cliq["client_id"],
                "client_secret": cliq["client_secret"],
                "refresh_token": cliq["refresh_token"],
            },
        ).json()
        assert "ZohoCliq.Users.ALL" in token["scope"].split()
        users = emulator.get(
            "/api/v2/users", headers={"Authorization": f"Zoho-oauthtoken {token['access_token']}"}
        )
        assert users.status_code == 200
    finally:
        emulator.close()


def test_without_print_connection_no_secret_is_printed(listened: list[str]) -> None:
    result = CliRunner().invoke(app, ["emulator", "serve"])
    assert result.exit_code == 0, result.output
    assert "refresh_token" not in result.stdout and "client_secret" not in result.stdout
