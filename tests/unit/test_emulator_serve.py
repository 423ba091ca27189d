"""``hrsync emulator serve`` listens on loopback only unless told --unsafe-bind: its control
API resets the org and hands out the OAuth client secret to anyone who reaches it."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from hrsync.cli.main import app


@pytest.fixture
def listened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hosts the emulator was started on (nothing really listens)."""
    hosts: list[str] = []

    def run(_app: Any, **options: Any) -> None:
        hosts.append(options["host"])

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
