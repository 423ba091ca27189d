"""The README's five minutes: ``hrsync emulator serve --print-connection`` in its own process
prints hrsync.toml lines; with them, the README's ``[source.columns]`` and the example export
(docs/examples/employees.csv), ``hrsync sync`` brings the export into the emulator's Cliq over
real HTTP (at 127.0.0.1, and at ``localhost`` too), and the next plan has no changes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, run_hrsync

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def readme_columns() -> str:
    """The ``[source.columns]`` the README's five-minute path appends to hrsync.toml."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    trial = readme.split("## Your own CSV against the local Zoho in five minutes", 1)[1]
    block = re.search(r"cat >> hrsync.toml <<'EOF'\n(.*?\n)EOF\n", trial, re.S)
    assert block is not None, "the README's five minutes map no columns"
    return block.group(1)


@pytest.fixture
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, printed lines) of ``hrsync emulator serve --print-connection``."""
    host: str = request.param
    port = free_port()
    log = tmp_path / "emulator.log"
    command = [sys.executable, "-m", "hrsync", "emulator", "serve", "--host", host]
    with (
        log.open("w") as sink,
        subprocess.Popen(
            [*command, "--port", str(port), "--print-connection"],
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            lines: list[str] = []
            while not lines or not lines[-1].startswith("allow_http"):
                line = process.stdout.readline()
                assert line, f"the emulator printed no connection: {log.read_text()}"
                lines.append(line)
            base = f"http://{host}:{port}"
            wait_until_up(base)
            yield base, "".join(lines)
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/_emulator/clock", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the emulator at {base} did not answer within 20 s")


@pytest.mark.parametrize("emulator", ["127.0.0.1", "localhost"], indirect=True)
def test_the_printed_connection_syncs_a_csv_into_the_emulator(
    emulator: tuple[str, str], tmp_path: Path
) -> None:
    base, printed = emulator
    (tmp_path / "hrsync.toml").write_text(printed + readme_columns(), encoding="utf-8")
    shutil.copy(ROOT / "docs" / "examples" / "employees.csv", tmp_path / "employees.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRSYNC_")}

    checked = run_hrsync(tmp_path, env, "config", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    synced = run_hrsync(tmp_path, env, "sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr

    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    invited = {u["employee_id"] for u in users if u.get("employee_id")}
    assert invited == {"E1001", "E1002", "E1003", "E1004", "E1005"}  # E1006 has resigned
    again = run_hrsync(tmp_path, env, "plan", "--detailed-exitcode")
    assert again.returncode == 0 and again.stdout.startswith("No changes"), again.stdout
