"""``hrsync explain``: one person's wanted state in Cliq and Connect, each with its reason."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hrsync.cli.demo import sample_employees, write_csv
from hrsync.cli.main import app

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
