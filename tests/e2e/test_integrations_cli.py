"""``hrsync integrations`` as an admin runs it: a draft with pending actions, enable, runs of
its own, deactivate, and a delete that needs the admin passphrase."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hrsync.access.connections import loopback_redirect_uri
from hrsync.cli.demo import sample_employees, write_csv
from tests.e2e.conftest import Serve

pytestmark = pytest.mark.e2e


def test_an_integration_from_draft_to_deleted(serve: Serve, tmp_path: Path) -> None:
    base = serve("real")
    client = httpx.get(f"{base}/_emulator/clients").json()["clients"][0]
    env = os.environ | {"HRSYNC_CLIENT_SECRET": client["client_secret"]}

    def hrsync(
        *args: str, extra: dict[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hrsync", *args],
            cwd=tmp_path,
            env=env | (extra or {}),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    write_csv(tmp_path / "employees.csv", sample_employees(30))
    created = hrsync(
        "--json", "integrations", "create", "hr", "--source-file", "employees.csv",
        "--target", "cliq", "--schedule", "every 15 min",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    draft = json.loads(created.stdout)
    assert draft["status"] == "draft"
    assert draft["pending"] == ["[cliq] no connection named 'cliq' (connections: none yet)"]
    refused = hrsync("integrations", "enable", "hr")
    assert refused.returncode == 1 and "cannot be enabled yet" in refused.stderr
    assert hrsync("plan", "--integration", "hr").returncode == 1
    unset = hrsync("integrations", "delete", "hr", "--yes")
    assert unset.returncode == 1 and "no admin passphrase is set" in unset.stderr
    hrsync("admin", "passphrase", stdin="a long admin passphrase\n" * 2)
    unguarded = hrsync("integrations", "delete", "hr", "--yes")
    assert unguarded.returncode == 1 and "re-authenticate" in unguarded.stderr
    admin = {"HRSYNC_ADMIN_PASSPHRASE": "a long admin passphrase"}

    # A self-client grant code, pasted: the way to authorise on a server without a browser.
    hrsync("connections", "add", "cliq", "--client-id", client["client_id"], "--api-url", base,
           "--accounts-url", base, "--allow-http")  # fmt: skip
    consent = httpx.get(
        f"{base}/oauth/v2/auth",
        params={"client_id": client["client_id"], "redirect_uri": loopback_redirect_uri(),
                "response_type": "code", "scope": "ZohoCliq.Users.ALL"},
    )  # fmt: skip
    code = httpx.URL(consent.headers["location"]).params["code"]
    assert hrsync("connections", "authorise", "cliq", "--code", code).returncode == 0
    pending = json.loads(hrsync("--json", "integrations", "show", "hr").stdout)["pending"]
    assert pending == [
        "connection cliq lacks the scope(s) ZohoCliq.Departments.ALL, ZohoCliq.Designations.ALL"
        ": add them and authorise it again"
    ]
    assert hrsync("connections", "delete", "cliq", "--yes", extra=admin).returncode == 0
    hrsync("connections", "add", "cliq", "--client-id", client["client_id"], "--api-url", base,
           "--accounts-url", base, "--allow-http")  # fmt: skip
    scopes = ",".join(
        f"ZohoCliq.{m}.ALL" for m in ("Users", "Departments", "Designations", "Teams")
    )
    consent = httpx.get(
        f"{base}/oauth/v2/auth",
        params={"client_id": client["client_id"], "redirect_uri": loopback_redirect_uri(),
                "response_type": "code", "scope": scopes},
    )  # fmt: skip
    code = httpx.URL(consent.headers["location"]).params["code"]
    assert hrsync("connections", "authorise", "cliq", "--code", code).returncode == 0
    # the connection's scopes are what was asked for when it was added (the defaults)
    enabled = hrsync("--json", "integrations", "enable", "hr")
    assert enabled.returncode == 0, enabled.stderr
    assert json.loads(enabled.stdout)["status"] == "enabled"

    planned = hrsync("plan", "--integration", "hr", "--detailed-exitcode")
    assert planned.returncode == 2, planned.stderr
    scheduled = hrsync("integrations", "run-due")  # what cron runs every few minutes
    assert scheduled.returncode == 0 and "run 2: 40 applied" in scheduled.stdout, scheduled
    assert hrsync("integrations", "run-due").stdout.startswith("Nothing is due")
    assert hrsync("plan", "--integration", "hr").stdout.startswith("No changes")
    runs = json.loads(hrsync("--json", "runs", "--integration", "hr", "list").stdout)["runs"]
    assert [r["mode"] for r in runs] == ["plan", "apply", "plan"]
    assert json.loads(hrsync("--json", "runs", "list").stdout)["runs"] == []  # hrsync.toml's

    assert hrsync("integrations", "deactivate", "hr").returncode == 0
    stopped = hrsync("sync", "--integration", "hr")
    assert stopped.returncode == 1 and "deactivated" in stopped.stderr
    assert hrsync("integrations", "activate", "hr").returncode == 0

    assert hrsync("integrations", "delete", "hr", "--yes", extra=admin).returncode == 0
    assert json.loads(hrsync("--json", "integrations", "list").stdout)["integrations"] == []
