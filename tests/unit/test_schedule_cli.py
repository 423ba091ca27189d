"""Schedules at the command line: hrsync.toml's [sync] schedule and ``integrations create
--schedule`` take times of day and cron expressions, refuse what they cannot read, and show
the next run with its zone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hrsync.clock import RealClock
from hrsync.store import Store
from tests.support import run_main

KEYS = '[cliq]\nclient_id = "1000.X"\nclient_secret = "s"\nrefresh_token = "r"\n'


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "employees.csv").write_text(
        "employee_id,email,first_name,status\nE1,a@x.example,Ana,active\n", encoding="utf-8"
    )
    return tmp_path


def configure(folder: Path, schedule: str) -> Path:
    path = folder / "hrsync.toml"
    path.write_text(KEYS + f"[sync]\nschedule = {json.dumps(schedule)}\n", encoding="utf-8")
    return path


def test_hrsync_toml_shows_its_next_run_in_its_zone(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    config = configure(folder, "weekdays at 07:30 Asia/Kolkata")
    code, out, err = run_main(capsys, config, "integrations", "show", "default")
    assert code == 0, err
    assert "schedule: weekdays at 07:30 Asia/Kolkata (next run: at the next check)" in out
    runs = Store(f"sqlite:///{folder / 'hrsync.db'}", clock=RealClock())
    runs.finish_run(runs.start_run("apply"), "succeeded", {})
    runs.close()
    code, out, _ = run_main(capsys, config, "--json", "integrations", "list")
    [shown] = json.loads(out)["integrations"]
    assert shown["schedule"] == "weekdays at 07:30 Asia/Kolkata"
    assert shown["next_run"].endswith(" 07:30 IST (Asia/Kolkata)")


def test_a_schedule_hrsync_toml_cannot_read_is_refused_with_the_forms_it_takes(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    config = configure(folder, "every day at 2am")
    code, _, err = run_main(capsys, config, "config", "check")
    assert code == 1
    assert "schedule 'every day at 2am': write it as" in err
    assert "'weekdays at 07:30'" in err and "'cron: 0 2 * * 1-5'" in err


def test_integrations_create_takes_a_cron_expression_with_its_zone(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    config = folder / "hrsync.toml"
    config.write_text("", encoding="utf-8")
    schedule = "cron: 0 2 * * 1-5 Europe/Berlin"
    code, out, err = run_main(
        capsys, config, "integrations", "create", "hr", "--source-file", "employees.csv",
        "--schedule", schedule,
    )  # fmt: skip
    assert code == 0, err
    assert f"schedule: {schedule} (next run: not while draft)" in out
    code, _, err = run_main(
        capsys, config, "integrations", "create", "hr2", "--source-file", "employees.csv",
        "--schedule", "cron: */2 * * * *",
    )  # fmt: skip
    assert code == 1
    assert "schedule 'cron: */2 * * * *': at least 5 min between runs" in err
