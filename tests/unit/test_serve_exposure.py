"""``hrsync serve`` listens on loopback unless told how it is reached safely from elsewhere:
over TLS (``--tls-cert``/``--tls-key``), behind a reverse proxy whose address it trusts
(``--behind-proxy``), or, said out loud, over plain HTTP (``--unsafe-bind``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from typer.testing import CliRunner

from hrsync.cli import serve as serve_command
from hrsync.cli.main import app


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The uvicorn configurations ``hrsync serve`` would have run (nothing listens). The
    root logger is put back after: ``--log-format json`` replaces its handlers."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configs: list[Any] = []

    class Recorded:
        def __init__(self, config: Any) -> None:
            configs.append(config)

        def run(self) -> None:
            return None

    monkeypatch.setattr(serve_command, "_server_class", lambda: Recorded)
    yield configs
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def config(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "hrsync.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "hrsync.db"}"\n', encoding="utf-8")
    yield str(path)


def _serve(config: str, *options: str) -> Any:
    return CliRunner().invoke(app, ["--config", config, "serve", *options])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "localhost.evil.example"])
def test_a_host_beyond_loopback_is_refused_in_one_line(
    served: list[Any], config: str, host: str
) -> None:
    result = _serve(config, "--host", host)
    assert result.exit_code == 1 and served == []
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --host {host}: the admin page and the webhooks would be")
    for option in ("--tls-cert", "--behind-proxy", "--unsafe-bind"):
        assert option in line


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_loopback_host_is_served_as_before(served: list[Any], config: str, host: str) -> None:
    result = _serve(config, "--host", host, "--port", "8181")
    assert result.exit_code == 0, result.output
    (listening,) = served
    assert listening.host == host and listening.ssl_certfile is None
    assert "http://" in result.stdout and "error" not in result.stderr


def test_unsafe_bind_serves_plain_http_beyond_loopback_with_a_warning(
    served: list[Any], config: str
) -> None:
    result = _serve(config, "--host", "0.0.0.0", "--unsafe-bind")
    assert result.exit_code == 0, result.output
    assert served[0].host == "0.0.0.0"
    assert "warning: the admin page and the webhooks are served over plain HTTP" in result.stderr


def test_tls_serves_beyond_loopback_with_the_certificate_given(
    served: list[Any], config: str, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("certificate", encoding="utf-8")
    key.write_text("key", encoding="utf-8")
    result = _serve(config, "--host", "0.0.0.0", "--tls-cert", str(cert), "--tls-key", str(key))
    assert result.exit_code == 0, result.output
    assert (served[0].ssl_certfile, served[0].ssl_keyfile) == (str(cert), str(key))
    assert "https://0.0.0.0:8080" in result.stdout and "error" not in result.stderr
    alone = _serve(config, "--host", "0.0.0.0", "--tls-cert", str(cert))
    assert alone.exit_code != 0 and "--tls-key" in alone.output
    assert len(served) == 1


def test_behind_a_proxy_only_the_proxys_forwarded_headers_are_trusted(
    served: list[Any], config: str
) -> None:
    result = _serve(config, "--host", "0.0.0.0", "--behind-proxy", "10.0.0.5")
    assert result.exit_code == 0, result.output
    assert served[0].host == "0.0.0.0" and served[0].proxy_headers is False  # ours instead
    assert "error" not in result.stderr
    assert "behind the reverse proxy at 10.0.0.5" in result.stdout
    wrong = _serve(config, "--host", "0.0.0.0", "--behind-proxy", "proxy.example")
    assert wrong.exit_code != 0 and "an IP address or network" in wrong.output


def test_the_containers_command_is_one_serve_accepts(served: list[Any], config: str) -> None:
    dockerfile = Path(__file__).resolve().parents[2] / "packaging" / "Dockerfile"
    lines = dockerfile.read_text(encoding="utf-8").splitlines()
    cmd = next(line for line in lines if line.startswith("CMD"))
    result = _serve(config, *json.loads(cmd.removeprefix("CMD"))[1:])
    assert result.exit_code == 0, result.output
    assert served[0].host == "0.0.0.0" and "error" not in result.stderr  # no plain HTTP beyond it


def _echo() -> FastAPI:
    echo = FastAPI()

    @echo.get("/where")
    def where(request: Request) -> dict[str, str]:
        client = request.client.host if request.client else ""
        return {"scheme": request.url.scheme, "client": client}

    return echo


def _ask(app_: Any, peer: str, headers: dict[str, str]) -> httpx.Response:
    import asyncio

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app_, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://hrsync") as client:
            return await client.get("/where", headers=headers)

    return asyncio.run(go())


def test_behind_a_proxy_a_call_from_elsewhere_is_refused() -> None:
    from hrsync.service.exposure import behind_proxy

    wrapped = behind_proxy(_echo(), ["10.0.0.5", "10.1.0.0/16"])
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    through = _ask(wrapped, "10.0.0.5", forwarded)
    assert through.json() == {"scheme": "https", "client": "203.0.113.7"}
    assert _ask(wrapped, "10.1.2.3", forwarded).json()["scheme"] == "https"
    direct = _ask(wrapped, "10.0.0.9", forwarded)
    assert direct.status_code == 403 and "through the reverse proxy" in direct.text
    local = _ask(wrapped, "127.0.0.1", forwarded)  # a health check on the machine itself
    assert local.json() == {"scheme": "http", "client": "127.0.0.1"}  # its headers not trusted


def test_serve_says_at_start_when_no_integration_is_enabled(served: list[Any], config: str) -> None:
    result = _serve(config)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert said.startswith("Note: no integration is enabled, so nothing runs:")
    assert '[cliq] connection = "NAME"' in said and "[sync] schedule" in said
    assert "hrsync integrations create NAME" in said


def test_serve_says_at_start_why_hrsync_tomls_own_integration_does_not_run(
    served: list[Any], config: str
) -> None:
    with Path(config).open("a", encoding="utf-8") as file:
        file.write('[cliq]\nclient_id = "1000.X"\nclient_secret = "s"\nrefresh_token = "r"\n')
    result = _serve(config)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    export = Path(config).parent / "employees.csv"
    why = f"the HR export {export} does not exist"
    assert said == f"Note: hrsync.toml's own integration does not run: {why}."
    export.write_text("employee_id,email\n", encoding="utf-8")
    started = _serve(config)
    assert "Note:" not in started.stderr
    assert "hrsync.toml's own integration runs every 15 min" in " ".join(started.stdout.split())
