"""A rest source as an admin sets it up from the command line: the presets listed and shown,
an integration created from one with what it still needs named, and `hrsync doctor`
against the HR system's live API (the key, each mapped field, the pace)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hrsync.sources.rest.spec import RestSpec
from tests.api.test_doctor import Org, _wire, failures
from tests.conftest import BASE
from tests.hr_vendors import VENDORS, people
from tests.support import run_main


def test_the_presets_are_listed_and_each_shows_as_toml_that_reads_back(
    tmp_path: Path, capsys: Any
) -> None:
    config = tmp_path / "hrsync.toml"
    code, out, _ = run_main(capsys, config, "--json", "sources", "presets")
    assert code == 0
    listed = {p["name"]: p for p in json.loads(out)["presets"]}
    assert set(listed) == {"bamboohr", "personio", "hibob"}
    assert listed["bamboohr"]["needs"] == ["vars.company"]
    assert listed["hibob"]["incremental"] is False and listed["personio"]["incremental"]
    for name in listed:
        code, out, _ = run_main(capsys, config, "sources", "presets", "--show", name)
        assert code == 0
        shown = tomllib.loads(out)["source"]["rest"]
        assert RestSpec.model_validate(shown).title == listed[name]["title"]


def test_an_integration_from_a_preset_names_what_it_still_needs(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRSYNC_PASSWORD", "pw")
    config = tmp_path / "hrsync.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "hrsync.db"}"\n', encoding="utf-8")
    code, _, err = run_main(capsys, config, "integrations", "create", "people-sync",
                            "--source-preset", "bamboohr")  # fmt: skip
    assert code == 0, err
    code, out, _ = run_main(capsys, config, "--json", "integrations", "show", "people-sync")
    shown = json.loads(out)
    pending = " ".join(shown["pending"])
    assert "[source.rest] needs vars.company (preset bamboohr)" in pending
    assert "HRSYNC_SOURCE__REST__AUTH__TOKEN" in pending
    create = ["integrations", "create", "people-2", "--source-preset", "bamboohr"]
    code, _, err = run_main(capsys, config, *create, "--source-var", "company=acme")
    assert code == 0, err
    code, out, _ = run_main(capsys, config, "--json", "integrations", "show", "people-2")
    shown = json.loads(out)
    assert "BambooHR at https://acme.bamboohr.com" in shown["source"]
    assert not any("vars.company" in p for p in shown["pending"])


def _hibob_org(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, **user: Any) -> Org:
    org = Org(tmp_path, capsys)
    _wire(org, monkeypatch)
    answer = org.http.post(
        f"{BASE}/_emulator/hr/hibob/service-users",
        json={"id": "SERVICE-DOC", "token": "doc-token", "permissions": ["*"], **user},
    )
    assert answer.status_code == 200, answer.text
    VENDORS["hibob"].seed(org.http, BASE, people(5))
    org.write_config()
    text = org.config.read_text(encoding="utf-8").replace(
        f'[source]\npath = "{tmp_path / "employees.csv"}"\n',
        '[source]\nkind = "rest"\npreset = "hibob"\n'
        f'[source.rest]\nbase_url = "{BASE}/hibob"\nallow_http = true\n'
        '[source.rest.auth]\nusername = "SERVICE-DOC"\npassword = "doc-token"\n',
    )
    org.config.write_text(text, encoding="utf-8")
    return org


def test_doctor_checks_the_hr_api_key_fields_and_pace(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = _hibob_org(tmp_path, capsys, monkeypatch)
    code, checks = org.doctor()
    assert code == 0, failures(checks)
    assert "the API took the key" in checks["HiBob credentials"]["detail"]
    fields = checks["HiBob fields"]["detail"]  # nobody here has a gender recorded
    assert "absent: gender (personal.gender)" in fields and "department" not in fields, fields
    assert "50 calls a minute" in checks["HiBob limit"]["detail"]
    org.http.close()


def test_doctor_names_the_fields_a_key_may_not_see(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = _hibob_org(tmp_path, capsys, monkeypatch, permissions=["root"])
    _, checks = org.doctor()
    fields = checks["HiBob fields"]
    assert "department" in fields["detail"] and "absent" in fields["detail"]
    assert "permission group" in fields["remedy"]
    org.http.close()


def test_doctor_says_a_wrong_key_is_refused(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = _hibob_org(tmp_path, capsys, monkeypatch)
    text = org.config.read_text(encoding="utf-8").replace("doc-token", "not-the-token")
    org.config.write_text(text, encoding="utf-8")
    code, checks = org.doctor()
    assert code != 0
    assert "refused the credentials" in checks["HiBob credentials"]["detail"]
    assert "not-the-token" not in json.dumps(checks)
    org.http.close()
