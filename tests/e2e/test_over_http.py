"""The sync over real HTTP against ``hrsync emulator serve`` running in another process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from hrsync.cli.demo import grant_refresh_token, sample_employees, write_csv
from hrsync.emulator.variants import VARIANTS
from tests.api.test_variant_matrix import run_lifecycle
from tests.conftest import World
from tests.e2e.conftest import Serve, run_hrsync
from tests.support import lifecycle

pytestmark = pytest.mark.e2e


def test_thousand_employees_over_http_converge_and_follow_hr_changes(remote_world: World) -> None:
    lifecycle(remote_world, 1000)


@pytest.mark.parametrize(
    "variants",
    [tuple(sorted(VARIANTS)), *((name,) for name in sorted(VARIANTS))],
    ids=lambda v: "all" if len(v) > 1 else v[0],
)
def test_the_lifecycle_over_http_under_each_disputed_reading_and_all_at_once(
    remote_world: World, variants: tuple[str, ...]
) -> None:
    run_lifecycle(remote_world, variants)


def hrsync(
    folder: Path, env: dict[str, str], *args: str, code: int = 0
) -> subprocess.CompletedProcess[str]:
    done = run_hrsync(folder, env, *args)
    assert done.returncode == code, f"hrsync {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def test_cli_plan_save_apply_and_runs(serve: Serve, tmp_path: Path) -> None:
    base = serve("real")
    with httpx.Client() as http:
        client_id, secret, refresh = grant_refresh_token(http, base)
    (tmp_path / "hrsync.toml").write_text(
        f'[cliq]\napi_url = "{base}"\naccounts_url = "{base}"\n'
        f'client_id = "{client_id}"\nallow_http = true\n',
        encoding="utf-8",
    )
    rows = sample_employees(40)
    write_csv(tmp_path / "employees.csv", rows)
    # secrets only in the environment, as the first-connection page recommends
    env = os.environ | {
        "HRSYNC_CLIQ__CLIENT_SECRET": secret,
        "HRSYNC_CLIQ__REFRESH_TOKEN": refresh,
    }

    shown = hrsync(tmp_path, env, "plan", "--detailed-exitcode", "--out", "plan.json", code=2)
    assert "Would invite" in shown.stdout and "plan.json" in shown.stdout
    assert secret not in shown.stdout + shown.stderr and refresh not in shown.stdout
    saved = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    invites = [c for c in saved["changes"] if c["kind"] == "invite"]
    assert len(invites) == 40

    rows[3]["designation"] = "Chief of Staff"  # HR changes after the plan was saved
    write_csv(tmp_path / "employees.csv", rows)
    stale = hrsync(tmp_path, env, "apply", "--plan", "plan.json", code=1)
    assert "changed since" in stale.stdout + stale.stderr
    hrsync(tmp_path, env, "plan", "--out", "plan.json")
    hrsync(tmp_path, env, "apply", "--plan", "plan.json")

    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    assert len([u for u in users if u.get("employee_id")]) == 40
    assert hrsync(tmp_path, env, "plan", "--detailed-exitcode").stdout.startswith("No changes")

    runs = json.loads(hrsync(tmp_path, env, "--json", "runs", "list").stdout)["runs"]
    applied = [r for r in runs if r["mode"] == "apply"]
    assert [r["status"] for r in applied] == ["succeeded", "refused"]  # newest first
    stats = httpx.get(f"{base}/_emulator/stats").json()
    assert stats["lock_periods_total"] == 0
