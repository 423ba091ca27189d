"""A real ``hrsync sync`` killed while Zoho holds its answer: the run reads as interrupted at
once, the call it had in flight still counts for pacing, and the next run converges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hrsync.cli.demo import sample_employees
from hrsync.clock import RealClock
from hrsync.store import Store
from tests.conftest import World
from tests.e2e.conftest import run_hrsync

pytestmark = pytest.mark.e2e


def configure(world: World, folder: Path) -> dict[str, str]:
    """hrsync.toml for ``world``, secrets in the environment; returns that environment."""
    cliq = world.settings.cliq
    (folder / "hrsync.toml").write_text(
        f'[store]\nurl = "{world.settings.store.url}"\n'
        f'[cliq]\napi_url = "{cliq.api_url}"\naccounts_url = "{cliq.accounts_url}"\n'
        f'client_id = "{cliq.client_id}"\nallow_http = true\n',
        encoding="utf-8",
    )
    return os.environ | {
        "HRSYNC_CLIQ__CLIENT_SECRET": cliq.client_secret.get_secret_value(),
        "HRSYNC_CLIQ__REFRESH_TOKEN": cliq.refresh_token.get_secret_value(),
    }


def held_calls(world: World) -> int:
    calls = world.stats()["calls"]
    assert isinstance(calls, dict)
    return int(calls.get("users.list", 0))


def test_a_killed_sync_is_interrupted_at_once_and_its_call_in_flight_counts(
    remote_world: World, tmp_path: Path
) -> None:
    world = remote_world
    env = configure(world, tmp_path)
    world.write(sample_employees(30))
    fault = {"mode": "timeout", "endpoint": "users.list", "count": 1, "delay": 6}
    world.http.post(f"{world.base}/_emulator/faults", json=[fault]).raise_for_status()
    command = [sys.executable, "-m", "hrsync", "sync"]
    sync = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while held_calls(world) == 0:  # Zoho has the listing and holds the answer back
        assert time.monotonic() < deadline and sync.poll() is None, "sync never listed users"
        time.sleep(0.05)
    sync.send_signal(signal.SIGKILL)
    sync.wait()

    listed = run_hrsync(tmp_path, env, "--json", "runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert [r["status"] for r in json.loads(listed.stdout)["runs"]] == ["interrupted"]
    store = Store(world.settings.store.url, clock=RealClock())
    try:
        times, _ = store.call_log(world.settings.cliq.api_url).recent("users.list", 0)
    finally:
        store.close()
    assert len(times) == 1  # written down before it was sent

    world.http.post(f"{world.base}/_emulator/faults", json=[]).raise_for_status()
    assert run_hrsync(tmp_path, env, "sync").returncode == 0
    again = run_hrsync(tmp_path, env, "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    stats = httpx.get(f"{world.base}/_emulator/stats").json()
    assert stats["lock_periods_total"] == 0
