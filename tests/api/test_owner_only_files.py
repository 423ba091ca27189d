"""The files hrsync writes hold names, emails and the shape of the directory: the SQLite store
(with its -wal and -shm files) and saved plans are created owner-only, whatever the umask."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hrsync.cli import syncing
from hrsync.cli.main import app
from hrsync.clock import VirtualClock
from hrsync.store import Store
from hrsync.wiring import App
from tests.conftest import World


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def everyone_may_read() -> Iterator[None]:
    """A umask that would leave new files readable by all (0666)."""
    before = os.umask(0)
    yield
    os.umask(before)


def test_the_sqlite_store_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "hrsync.db"
    store = Store(f"sqlite:///{db}", clock=VirtualClock())
    try:
        store.save_bookmark("written", {"so": "the WAL exists"})
        files = [db, tmp_path / "hrsync.db-wal", tmp_path / "hrsync.db-shm"]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        store.close()


def test_an_existing_store_file_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "hrsync.db"
    db.touch(mode=0o640)  # the admin chose to share it with a group
    Store(f"sqlite:///{db}", clock=VirtualClock()).close()
    assert mode(db) == 0o640


def test_a_saved_plan_is_owner_only_even_over_a_readable_one(
    world: World, rows: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.write(rows)
    monkeypatch.setattr(syncing, "settings_for", lambda *_: (world.settings, "default"))

    def build(_settings: Any, *, dry_run: bool, integration: str, **_: Any) -> App:
        return world.app(dry_run=dry_run)

    monkeypatch.setattr(syncing, "build", build)
    saved = world.csv.parent / "plan.json"
    saved.write_text("{}", encoding="utf-8")
    saved.chmod(0o644)
    result = CliRunner().invoke(app, ["plan", "--out", str(saved)])
    assert result.exit_code == 0, result.output
    assert mode(saved) == 0o600
    assert len(json.loads(saved.read_text(encoding="utf-8"))["changes"]) >= len(rows)
    assert [p.name for p in saved.parent.iterdir() if p.name.startswith(".plan")] == []
