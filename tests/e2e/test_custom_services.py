"""Custom services through ``hrsync connections invoke``: basic auth and OAuth 1.0, against
small loopback servers; no secret in the output, even with --verbose."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, run_hrsync
from tests.e2e.loopback_services import BASIC, CONSUMER, loopback_services

pytestmark = pytest.mark.e2e


def test_basic_and_oauth1_services_are_called_through_connections(tmp_path: Path) -> None:
    with loopback_services() as base:
        env = os.environ | {"HRSYNC_PASSWORD": BASIC[1], "HRSYNC_CLIENT_SECRET": CONSUMER[1]}
        added = run_hrsync(
            tmp_path, env, "connections", "add", "hr-basic", "--service", "custom",
            "--auth", "basic", "--base-url", base, "--username", BASIC[0], "--allow-http",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        called = run_hrsync(
            tmp_path, env, "--verbose", "--json", "connections", "invoke", "hr-basic", "GET",
            "/basic/me", "--param", "page=2",
        )  # fmt: skip
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout) == {
            "schema_version": 1,
            "status": 200,
            "body": {"user": "sync", "query": {"page": "2"}},
        }

        added = run_hrsync(
            tmp_path, env, "connections", "add", "books", "--service", "custom",
            "--auth", "oauth1", "--client-id", CONSUMER[0], "--base-url", base,
            "--request-token-url", f"{base}/oauth/request_token",
            "--authorize-url", f"{base}/oauth/authorize",
            "--access-token-url", f"{base}/oauth/access_token", "--allow-http",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "not authorised" in added.stdout
        waiting = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hrsync",
                "connections",
                "authorise",
                "books",
                "--no-browser",
                "--port",
                str(free_port()),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stdout is not None
        url, deadline = "", time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            line = waiting.stdout.readline()
            url = line.strip() if line.startswith("http") else ""
        assert httpx.get(url, follow_redirects=True).status_code == 200
        out, err = waiting.communicate(timeout=30)
        assert waiting.returncode == 0 and "books is authorised" in out, err

        signed = run_hrsync(
            tmp_path, env, "--verbose", "--json", "connections", "invoke", "books", "GET",
            f"{base}/api/me", "-p", "q=signed",
        )  # fmt: skip
        assert signed.returncode == 0, signed.stderr
        assert json.loads(signed.stdout)["body"] == {"user": "oauth1", "query": {"q": "signed"}}

        everything = added.stdout + added.stderr + called.stderr + out + err + signed.stderr
        for secret in (BASIC[1], CONSUMER[1]):
            assert secret not in everything
        stored = (tmp_path / "hrsync.db").read_bytes()
        assert BASIC[1].encode() not in stored and CONSUMER[1].encode() not in stored
