"""``hrsync config check``: a configuration and what it points to, checked without Zoho."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support import run_main

KEYS = '[cliq]\nclient_id = "1000.X"\nclient_secret = "s"\nrefresh_token = "r"\n'


@pytest.fixture(autouse=True)
def no_zoho(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("config check called out")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def write(folder: Path, config: str, csv: str = "employee_id,email\nE1,a@x.example\n") -> Path:
    (folder / "employees.csv").write_text(csv, encoding="utf-8")
    path = folder / "hrsync.toml"
    path.write_text(config, encoding="utf-8")
    return path


def test_a_complete_configuration_is_ready_to_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(tmp_path, KEYS)
    code, out, _ = run_main(capsys, config, "config", "check")
    assert code == 0 and out.splitlines()[-1] == f"{config}: ready to run."
    assert f"checked store sqlite:///{tmp_path / 'hrsync.db'}" in out
    assert "checked [cliq] https://cliq.zoho.com via keys in the file" in out


def test_every_problem_is_listed_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(
        tmp_path,
        '[cliq]\nconnection = "cliq-prod"\n[source]\nkind = "zoho_people"\n'
        '[people]\napi_url = "http://people.example"\nclient_id = "1"\n'
        '[rules]\nconnect_groups_per = ["department"]\n[connect]\nconnection = "connect"\n',
    )
    code, out, _ = run_main(capsys, config, "--json", "config", "check")
    assert code == 1
    document = json.loads(out)
    assert document["schema_version"] == 1 and document["ok"] is False
    assert document["problems"] == [
        "[cliq] no connection named 'cliq-prod' (connections: none yet)",
        "[people] is missing client_secret, refresh_token (or HRSYNC_PEOPLE__CLIENT_SECRET)",
        "[connect] has no network_id (the Connect network's scopeID)",
        "[connect] no connection named 'connect' (connections: none yet)",
    ]


def test_a_missing_column_and_plain_http_are_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(
        tmp_path,
        KEYS.replace("[cliq]\n", '[cliq]\napi_url = "http://cliq.example"\n'),
        csv="EmpID,email\nE1,a@x.example\n",
    )
    code, out, err = run_main(capsys, config, "config", "check")
    assert code == 1 and "2 problems" in err
    assert "no column 'employee_id' in employees.csv (map it under [source.columns])" in out
    assert "[cliq] api_url = 'http://cliq.example': plain HTTP is refused" in out


def test_an_unknown_key_stops_the_check_with_the_nearest_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(tmp_path, KEYS + "[safety]\nmax_deactivation_shares = 0.9\n")
    code, _, err = run_main(capsys, config, "config", "check")
    assert code == 1 and "did you mean safety.max_deactivation_share?" in err


def test_an_integration_is_checked_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(tmp_path, "")
    export = str(tmp_path / "employees.csv")
    created = run_main(
        capsys, config, "integrations", "create", "hr", "--source-file", export,
        "--target", "cliq-prod",
    )  # fmt: skip
    assert created[0] == 0, created
    code, out, err = run_main(capsys, config, "config", "check", "--integration", "hr")
    assert code == 1 and "error: integration hr: 1 problem;" in err, out
    assert "[cliq] no connection named 'cliq-prod' (connections: none yet)" in out


def test_an_export_with_other_headers_gets_the_suggested_mapping(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(
        tmp_path,
        KEYS,
        csv="Employee ID,First Name,Work Email,Reporting Manager,Date of Joining,Employee Status\n"
        "E1,Ana,ana@x.example,,2020-01-01,Active\n",
    )
    code, out, _ = run_main(capsys, config, "config", "check")
    assert code == 1
    assert "the required field employee_id is not mapped: no column 'employee_id'" in out
    assert "suggested, to paste into the configuration:" in out
    assert '    employee_id = "Employee ID"' in out and '    email = "Work Email"' in out
    code, out, _ = run_main(capsys, config, "--json", "config", "check")
    suggested = json.loads(out)["suggestion"]
    assert (
        suggested.startswith("[source.columns]\n") and 'hire_date = "Date of Joining"' in suggested
    )
