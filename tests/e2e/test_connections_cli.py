"""``hrsync connections`` as an admin runs it, against ``hrsync emulator serve``: consent
through a loopback redirect, one token for two processes, invoke, a sync through a
connection, and no secret in any output or in the database file."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hrsync.access.connections import loopback_redirect_uri
from hrsync.cli.demo import sample_employees, write_csv
from tests.e2e.conftest import Serve, free_port, run_hrsync

pytestmark = pytest.mark.e2e


def test_an_admin_sets_up_a_connection_and_syncs_through_it(serve: Serve, tmp_path: Path) -> None:
    base = serve("real")
    client = httpx.get(f"{base}/_emulator/clients").json()["clients"][0]
    secret = client["client_secret"]
    (tmp_path / "hrsync.toml").write_text('[cliq]\nconnection = "cliq"\n', encoding="utf-8")
    env = os.environ | {"HRSYNC_CLIENT_SECRET": secret}
    added = run_hrsync(
        tmp_path,
        env,
        "connections",
        "add",
        "cliq",
        "--client-id",
        client["client_id"],
        "--api-url",
        base,
        "--accounts-url",
        base,
        "--allow-http",
    )
    assert added.returncode == 0, added.stderr
    assert "not authorised" in added.stdout
    key_file = tmp_path / "hrsync.key"
    assert key_file.stat().st_mode & 0o077 == 0  # owner-only

    # Consent: hrsync prints the address and waits on a loopback port for the redirect. Its
    # callback on another port than 8765 must be registered for the client, as at Zoho.
    port = free_port()
    registered = {"client_id": client["client_id"], "redirect_uris": [loopback_redirect_uri(port)]}
    httpx.post(f"{base}/_emulator/clients/redirect_uris", json=registered).raise_for_status()
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hrsync",
            "connections",
            "authorise",
            "cliq",
            "--no-browser",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert waiting.stdout is not None
    url = ""
    deadline = time.monotonic() + 30
    while not url and time.monotonic() < deadline:
        line = waiting.stdout.readline()
        if line.startswith("http"):
            url = line.strip()
    consent = httpx.get(url, follow_redirects=True)  # the emulator consents, then redirects
    assert consent.status_code == 200 and "grant code" in consent.text
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert "cliq is authorised" in out

    # The cached token is due: two processes at once make one refresh, not two.
    database = sqlite3.connect(tmp_path / "hrsync.db")
    database.execute("UPDATE access_tokens SET expires_at = 0")
    database.commit()
    database.close()
    before = httpx.get(f"{base}/_emulator/stats").json()["token_refreshes"]
    both = [
        subprocess.Popen(
            [sys.executable, "-m", "hrsync", "connections", "test", "cliq"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in both]
    assert all(p.returncode == 0 for p in both), outputs
    after = httpx.get(f"{base}/_emulator/stats").json()["token_refreshes"]
    assert after - before == 1

    invoked = run_hrsync(tmp_path, env, "connections", "invoke", "cliq", "GET", "/api/v2/profiles")
    assert invoked.returncode == 0 and "Admin" in invoked.stdout

    # The sync itself runs on the connection: no secret in hrsync.toml.
    write_csv(tmp_path / "employees.csv", sample_employees(25))
    synced = run_hrsync(tmp_path, env, "sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert run_hrsync(tmp_path, env, "plan").stdout.startswith("No changes")

    shown = run_hrsync(tmp_path, env, "--json", "connections", "show", "cliq")
    stored = (tmp_path / "hrsync.db").read_bytes()
    everything = "".join(
        [added.stdout, added.stderr, out, err, shown.stdout, invoked.stdout, synced.stdout]
        + [o + e for o, e in outputs]
    )
    assert secret not in everything and secret.encode() not in stored
    assert b"refresh_token" not in stored  # the refresh token is sealed with the rest

    refused = run_hrsync(tmp_path, env, "connections", "revoke", "cliq")
    assert refused.returncode == 1 and "no admin passphrase is set" in refused.stderr
    passphrase = "correct horse battery staple"
    subprocess.run(
        [sys.executable, "-m", "hrsync", "admin", "passphrase"],
        cwd=tmp_path,
        env=env,
        input=f"{passphrase}\n{passphrase}\n",
        text=True,
        check=True,
        capture_output=True,
    )
    wrong = run_hrsync(
        tmp_path,
        env | {"HRSYNC_ADMIN_PASSPHRASE": "not it at all"},
        "connections",
        "revoke",
        "cliq",
    )
    assert wrong.returncode == 1 and "not the admin passphrase" in wrong.stderr
    admin = env | {"HRSYNC_ADMIN_PASSPHRASE": passphrase}
    revoked = run_hrsync(tmp_path, admin, "connections", "revoke", "cliq")
    assert revoked.returncode == 0 and "revoked at Zoho" in revoked.stdout
    failed = run_hrsync(tmp_path, env, "connections", "test", "cliq")
    assert failed.returncode == 1 and "revoked" in failed.stdout


def test_a_taken_callback_port_is_named_with_the_way_out(serve: Serve, tmp_path: Path) -> None:
    base = serve("real")
    client = httpx.get(f"{base}/_emulator/clients").json()["clients"][0]
    env = os.environ | {"HRSYNC_CLIENT_SECRET": client["client_secret"]}
    run_hrsync(tmp_path, env, "connections", "add", "cliq", "--client-id", client["client_id"],
               "--api-url", base, "--accounts-url", base, "--allow-http")  # fmt: skip
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run_hrsync(
            tmp_path, env, "connections", "authorise", "cliq", "--no-browser", "--port", str(port)
        )
    assert refused.returncode == 1
    message = " ".join(refused.stderr.split())
    assert f"port {port} is not free" in message and "pass --port" in message
    assert "register http://127.0.0.1:N/callback" in message
