"""Fixtures of the API-level tests: the command line, in process, against the world's
emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hrsync.cli.main import app
from hrsync.wiring import build
from tests.conftest import World

Hrsync = Callable[..., Result]


@pytest.fixture
def hrsync(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hrsync:
    """``hrsync ARGS`` in process, with hrsync.toml pointing at the world's emulator."""
    cliq = world.settings.cliq
    (tmp_path / "hrsync.toml").write_text(
        f'[store]\nurl = "{world.settings.store.url}"\n'
        f'[cliq]\napi_url = "{cliq.api_url}"\naccounts_url = "{cliq.accounts_url}"\n'
        f'client_id = "{cliq.client_id}"\n'
        f'client_secret = "{cliq.client_secret.get_secret_value()}"\n'
        f'refresh_token = "{cliq.refresh_token.get_secret_value()}"\nallow_http = true\n',
        encoding="utf-8",
    )

    def wired(settings: Any, **kwargs: Any) -> Any:
        return build(settings, clock=world.clock, client=world.http, pacer_margin=0, **kwargs)

    monkeypatch.setattr("hrsync.cli.syncing.build", wired)
    monkeypatch.setattr("hrsync.cli.explain.build", wired)
    monkeypatch.setenv("HRSYNC_PASSWORD", "pw")

    def run(*args: str, stdin: str = "") -> Result:
        config = ["--config", str(tmp_path / "hrsync.toml")]
        return CliRunner().invoke(app, [*config, *args], input=stdin)

    return run
