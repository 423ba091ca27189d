"""``--record FILE`` writes a run's exchanges with Zoho, redacted, and ``hrsync emulator replay
FILE`` reports each recorded answer whose shape the emulator does not give: a mismatch met in
the field becomes a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hrsync.api.recording import Recorder
from hrsync.cli.demo import grant_refresh_token, sample_employees, write_csv
from hrsync.cli.main import app
from hrsync.clock import VirtualClock
from hrsync.emulator import Emulator
from hrsync.emulator.transport import mock_transport
from hrsync.redaction import Pseudonyms
from hrsync.wiring import build
from tests.conftest import BASE

ROWS = sample_employees(30)


def record_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, variants: tuple[str, ...] = ()
) -> tuple[Path, Emulator, dict[str, str]]:
    """``hrsync sync --record`` against an in-process emulator: (recording, emulator, secrets)."""
    clock = VirtualClock()
    emulator = Emulator(clock, variants=variants)
    with httpx.Client(transport=mock_transport(emulator)) as http:
        client_id, secret, refresh = grant_refresh_token(http, BASE)
    write_csv(tmp_path / "employees.csv", ROWS)
    config = tmp_path / "hrsync.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "hrsync.db"}"\n'
        f'[source]\npath = "{tmp_path / "employees.csv"}"\n'
        f'[cliq]\napi_url = "{BASE}"\naccounts_url = "{BASE}"\nclient_id = "{client_id}"\n'
        f'client_secret = "{secret}"\nrefresh_token = "{refresh}"\nallow_http = true\n'
        '[rules]\nteams_per = ["department"]\n',
        encoding="utf-8",
    )

    def wired(settings: Any, *, recorder: Recorder | None = None, **kwargs: Any) -> Any:
        hooks = recorder.event_hooks() if recorder else None
        client = httpx.Client(transport=mock_transport(emulator), event_hooks=hooks)
        return build(
            settings, clock=clock, client=client, pacer_margin=0, recorder=recorder, **kwargs
        )

    monkeypatch.setattr("hrsync.cli.syncing.build", wired)
    recording = tmp_path / "run.jsonl"
    ran = CliRunner().invoke(app, ["--config", str(config), "sync", "--record", str(recording)])
    assert ran.exit_code == 0, ran.output
    return recording, emulator, {"secret": secret, "refresh": refresh, "client_id": client_id}


def exchanges(recording: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in recording.read_text(encoding="utf-8").splitlines()]


def replay(recording: Path, *args: str) -> tuple[int, Any]:
    ran = CliRunner().invoke(app, ["--json", "emulator", "replay", str(recording), *args])
    return ran.exit_code, json.loads(ran.stdout)


def test_a_recorded_run_carries_no_secret_email_name_or_phone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording, emulator, secrets = record_sync(tmp_path, monkeypatch)
    assert recording.stat().st_mode & 0o777 == 0o600
    text = recording.read_text(encoding="utf-8")
    tokens = [*emulator.accounts.access_tokens, *secrets.values()]
    assert tokens and not [t for t in tokens if t in text]
    assert "@zylker.example" not in text and "oauthtoken" not in text.lower()
    for row in ROWS:
        for key in ("email", "first_name", "last_name", "mobile", "work_phone"):
            assert json.dumps(row[key]) not in text, (key, row[key])


def test_a_recording_keeps_the_shape_of_every_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording, emulator, _ = record_sync(tmp_path, monkeypatch)
    lines = exchanges(recording)
    routes = {(e["method"], e["path"]) for e in lines}
    assert {
        ("POST", "/oauth/v2/token"),
        ("GET", "/api/v2/users"),
        ("POST", "/api/v2/users"),
    } <= routes
    invite = next(e for e in lines if (e["method"], e["path"]) == ("POST", "/api/v2/users"))
    assert invite["endpoint"] == "users.add" and invite["status"] == 200
    invited = invite["body"]["users"][0]
    assert invited["email_id"].endswith("@example.invalid")
    assert invited["first_name"].startswith("Name") and invited["mobile"] == "+0 000 000000"
    token = next(e for e in lines if e["path"] == "/oauth/v2/token")
    assert token["form"]["client_secret"] == "<redacted>"
    assert token["response"]["access_token"] == "<redacted>"
    assert isinstance(token["response"]["expires_in"], int)
    # ids are kept, with their JSON type, so the answers can be lined up
    listings = [e for e in lines if (e["method"], e["path"]) == ("GET", "/api/v2/users")]
    users = [u for e in listings for u in e["response"]["data"]]
    assert {u["id"] for u in users} <= set(emulator.org.users)
    assert all(u["email_id"].endswith("@example.invalid") for u in users)


def test_a_run_recorded_against_the_emulator_replays_with_no_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording, _, _ = record_sync(tmp_path, monkeypatch)
    code, report = replay(recording)
    assert report["differences"] == [] and code == 0
    assert report["compared"] > 20


def test_an_answer_zoho_gave_in_another_shape_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording, _, _ = record_sync(tmp_path, monkeypatch)
    lines = exchanges(recording)
    for line in lines:
        if (line["method"], line["path"]) == ("GET", "/api/v2/teams"):
            line["response"] = {"data": line["response"]["teams"]}  # as if Zoho had wrapped it
        if line["path"] == "/api/v2/users" and line["method"] == "GET":
            for user in line["response"]["data"]:
                user["id"] = int(user["id"])
    recording.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    code, report = replay(recording)
    assert code == 1
    teams = [d for d in report["differences"] if d["route"] == "GET /api/v2/teams"]
    assert teams and teams[0]["missing"] == ["data"] and teams[0]["extra"] == ["teams"]
    users = [d for d in report["differences"] if d["route"] == "GET /api/v2/users"]
    assert users and "data[].id: number vs string" in users[0]["types"]
    table = CliRunner().invoke(app, ["emulator", "replay", str(recording)], env={"COLUMNS": "200"})
    assert table.exit_code == 1 and "GET /api/v2/teams" in table.stdout


def test_a_run_recorded_against_another_reading_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording, _, _ = record_sync(tmp_path, monkeypatch)
    code, report = replay(recording, "--variant", "teams-wrapped")
    assert code == 1
    assert "GET /api/v2/teams" in {d["route"] for d in report["differences"]}


def test_a_later_run_of_a_fuller_organisation_replays_without_false_differences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_sync(tmp_path, monkeypatch)
    rows = [dict(r) for r in ROWS]
    for row in rows[10:16]:
        row["department"], row["designation"] = "Support", "Support Specialist"
    rows[20]["mobile"] = "+1 555 0000"
    write_csv(tmp_path / "employees.csv", rows)
    later = tmp_path / "later.jsonl"
    config = str(tmp_path / "hrsync.toml")
    ran = CliRunner().invoke(
        app, ["--config", config, "sync", "--full-read", "--record", str(later)]
    )
    assert ran.exit_code == 0, ran.output
    code, report = replay(later)
    assert (code, report["differences"]) == (0, []), json.dumps(report["differences"])
    assert report["compared"] >= 10
    code, report = replay(later, "--variant", "update-wrapped")
    assert code == 1
    assert {(d["route"], tuple(d["status"] or ())) for d in report["differences"]} == {
        ("PUT /api/v2/users/{id}", (200, 400))
    }


def test_pseudonyms_are_stable_and_keep_types() -> None:
    redact = Pseudonyms()
    body = {
        "users": [
            {"id": 7, "email_id": "A@x.example", "first_name": "Ann", "mobile": 5550101},
            {"id": "8", "email_id": "a@x.example", "reportingto": {"id": "7", "name": "Ann"}},
        ],
        "department": {"id": "1", "name": "Sales"},
        "failed_users": {"b@x.example": "email.activeuser"},
        "code": "request_limit_exceeded",
    }
    assert redact.json(body) == {
        "users": [
            {"id": 7, "email_id": "user1@example.invalid", "first_name": "Name1", "mobile": 0},
            {
                "id": "8",
                "email_id": "user1@example.invalid",
                "reportingto": {"id": "7", "name": "Name1"},
            },
        ],
        "department": {"id": "1", "name": "Sales"},
        "failed_users": {"user2@example.invalid": "email.activeuser"},
        "code": "request_limit_exceeded",
    }
