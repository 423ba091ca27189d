"""``hrsync explain``: one person's wanted state in Cliq and Connect, each with its reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from hrsync.cli.demo import sample_employees, write_csv
from hrsync.cli.main import app
from hrsync.sources.csv_file import CsvSource
from hrsync.sync.explain import Rules, explain
from hrsync.sync.rules import MembershipRules

TODAY = dt.date(2026, 11, 22)

CONFIG = """
[cliq]
client_id = "1000.TEST"
client_secret = "never-used"
refresh_token = "never-used"

[connect]
client_id = "1000.TEST"
client_secret = "never-used"
refresh_token = "never-used"
network_id = "105000017039001"

[store]
url = "sqlite:///{db}"

[rules]
teams_per = ["department"]
team_names = {{ department = "{{value}} team" }}
connect_groups_per = ["designation"]
[[rules.teams]]
name = "Chennai Office"
when = {{ work_location = "Chennai Office" }}
[[rules.roles]]
name = "Sales Lead"
when = {{ designation = ["Account Executive", "Analyst"] }}
"""


def test_explain_names_the_source_value_or_rule_behind_everything(tmp_path: Path) -> None:
    rows = sample_employees(60)
    person = next(r for r in rows[40:] if r["work_location"] == "Chennai Office")
    person["designation"] = "Analyst"
    write_csv(tmp_path / "employees.csv", rows)
    config = tmp_path / "hrsync.toml"
    config.write_text(CONFIG.format(db=tmp_path / "hrsync.db"), encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(app, ["--config", str(config), "--json", "explain", person["email"]])
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert found["employee_id"] == person["employee_id"] and found["active"] is True
    assert found["origin"] == f"row {rows.index(person) + 2}"
    lines = {(line["section"], line["name"]): line for line in found["lines"]}
    assert lines[("profile", "phone")]["value"] == person["work_phone"]
    assert lines[("profile", "phone")]["because"] == "column 'work_phone'"
    team = lines[("team", f"{person['department']} team")]
    assert team["because"] == f"one per department: department = {person['department']!r}"
    chennai = lines[("team", "Chennai Office")]
    assert chennai["because"] == "rule 'Chennai Office': work_location = 'Chennai Office'"
    assert ("Connect group", "Analyst") in lines
    assert lines[("role", "Sales Lead")]["because"] == "rule 'Sales Lead': designation = 'Analyst'"
    manager = next(r for r in rows if r["employee_id"] == person["manager_id"])
    assert lines[("organisation", "reporting_to")]["value"].startswith(manager["email"])

    missing = runner.invoke(app, ["--config", str(config), "explain", "nobody@zylker.example"])
    assert missing.exit_code == 1 and "no such employee" in missing.output


def test_explain_says_what_a_broken_field_leaves_alone(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(
        "employee_id,email,first_name,last_name,manager_id,mobile\n"
        "1,a@x.example,Ada,L,,+1\x07 555\n"
        "2,b@x.example,Bo,M,99,+1 556\n",
        encoding="utf-8",
    )
    snapshot = CsvSource(path).read()
    rules = Rules({}, MembershipRules(), MembershipRules(), MembershipRules())
    ada = explain("1", snapshot, source="hr.csv", origin_of=str, rules=rules, today=TODAY)
    bo = explain("2", snapshot, source="hr.csv", origin_of=str, rules=rules, today=TODAY)
    assert ada is not None and bo is not None
    lines = {(line.name, line.value) for line in ada.lines}
    assert ("mobile", "(left as it is)") in lines
    assert any("control character U+0007" in p for p in ada.problems)
    assert ("reporting_to", "(left as it is)") in {(line.name, line.value) for line in bo.lines}
