"""The command line as cron and scripts see it, against the in-process emulator: exit codes
that tell a pending action from a failure, and ``--json`` that is one parseable document."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from hrsync.cli.demo import sample_employees
from hrsync.cli.main import app
from tests.api.conftest import Hrsync
from tests.conftest import World


def export_with_genders(world: World, odd: dict[int, str]) -> list[dict[str, str]]:
    rows = sample_employees(30)
    for i, row in enumerate(rows):
        row["gender"] = odd.get(i, "Female" if i % 2 else "Male")
    world.write(rows)
    return rows


def test_a_run_that_leaves_only_pending_actions_exits_4_with_one_line_per_cause(
    world: World, hrsync: Hrsync
) -> None:
    rows = export_with_genders(world, {3: "Other", 7: "Other", 9: "Unknown"})
    synced = hrsync("sync")
    assert synced.exit_code == 4, synced.output
    lines = [line.strip() for line in synced.stdout.splitlines()]
    pending = [line for line in lines if line.startswith("pending action")]
    assert pending == [
        "pending action: Cliq field 'Gender' has no option 'Other': add it in Cliq; 2 people's "
        "values wait for it",
        "pending action: Cliq field 'Gender' has no option 'Unknown': add it in Cliq; 1 person's "
        "values wait for it",
    ]
    assert not [line for line in lines if line.startswith(("skipped", "waiting"))]
    # no terminal here: progress is timestamped lines, on stderr
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.search(rf"{stamp} applying: 0/40 changes, 0 calls made", synced.stderr, re.M)
    assert re.search(rf"{stamp} finished: 40/40 changes", synced.stderr, re.M)
    assert "changes" not in synced.stdout.split("Run 1:")[0]
    assert "0 failed, 0 records skipped, 2 pending actions." in synced.stdout
    users = {u["email_id"]: u for u in world.state()["users"]}  # type: ignore[union-attr]
    assert len([u for u in users.values() if u.get("employee_id")]) == 30  # all of them went

    again = hrsync("--verbose", "sync")
    assert again.exit_code == 4, again.output
    assert f"waiting: {rows[3]['email']}, {rows[7]['email']}" in again.stdout
    as_json = hrsync("--json", "sync")
    assert as_json.exit_code == 4
    document = json.loads(as_json.stdout)
    assert document["exit_code"] == 4 and document["errors"] == []
    assert document["waiting"][document["pending"][1]] == [rows[9]["email"]]

    rows[12]["email"] = ""  # a broken record is still an error: exit 1
    world.write(rows)
    assert hrsync("sync").exit_code == 1


def test_every_command_prints_one_json_document_with_its_schema_version(
    world: World, hrsync: Hrsync
) -> None:
    world.write(sample_employees(20))
    commands: list[tuple[str, ...]] = [
        ("version",),
        ("config", "check"),
        ("plan",),
        ("apply", "--yes"),
        ("apply",),  # nothing left to do
        ("sync",),
        ("runs", "list"),
        ("runs", "show", "2"),
        ("runs", "show", "99"),  # an error is a document too
        ("explain", "E00002"),
        ("connections", "add", "api", "--service", "custom", "--auth", "basic",
         "--base-url", "https://api.example", "--username", "u"),
        ("connections", "list"),
        ("connections", "show", "api"),
        ("integrations", "create", "hr", "--source-file", str(world.csv), "--target", "api"),
        ("integrations", "list"),
        ("integrations", "show", "hr"),
        ("integrations", "run-due"),
        ("admin", "passphrase"),
        ("connections", "delete", "api", "--yes"),
        ("integrations", "delete", "hr", "--yes"),
    ]  # fmt: skip
    for command in commands:
        done = hrsync("--json", *command, stdin="a long admin passphrase\n" * 3)
        try:
            document = json.loads(done.stdout)
        except ValueError:
            pytest.fail(f"hrsync --json {' '.join(command)}: stdout is not JSON: {done.stdout!r}")
        assert document["schema_version"] == 1, command
        assert ("error" in document) == (done.exit_code != 0), (command, done.output)
    applied = hrsync("--json", "plan")
    assert json.loads(applied.stdout)["changes"] == []


def test_help_documents_the_exit_codes() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    text = " ".join(shown.stdout.split())
    assert "3 held by a safety guard" in text
    assert "4 applied everything it could, but pending actions remain" in text


def test_counts_are_in_words_one_user_one_department(world: World, hrsync: Hrsync) -> None:
    rows = sample_employees(1)
    world.write(rows)
    planned = hrsync("plan")
    assert "Cliq: read the 1 user (" in planned.stdout, planned.output
    assert hrsync("sync").exit_code == 0
    rows[0]["nickname"] = "Umi"
    world.write(rows)
    synced = hrsync("sync")
    assert "Run 3: 1 change applied, 0 failed, 0 records skipped." in synced.stdout, synced.output


def test_apply_with_nobody_to_ask_says_to_use_yes(world: World, hrsync: Hrsync) -> None:
    world.write(sample_employees(3))
    asked = hrsync("apply")
    assert asked.exit_code == 1
    assert "Aborted" not in asked.output
    assert (
        "error: nobody to ask whether to apply these changes (no terminal): run `hrsync "
        "apply --yes`" in asked.stderr.replace("\n", " ")
    ), asked.output
    assert len(json.loads(hrsync("--json", "plan").stdout)["changes"]) == 8  # nothing applied


def test_runs_show_and_json_sync_give_each_change_its_state(world: World, hrsync: Hrsync) -> None:
    world.write(sample_employees(3))
    planned = json.loads(hrsync("--json", "plan").stdout)["changes"]
    synced = hrsync("--json", "sync")
    assert synced.exit_code == 0, synced.output
    document = json.loads(synced.stdout)
    changes = document["changes"]
    assert [c["kind"] for c in changes] == [c["kind"] for c in planned]
    invited = [c for c in changes if c["kind"] == "invite"]
    assert {c["employee_id"] for c in invited} == {"E00001", "E00002", "E00003"}
    assert {c["state"] for c in changes} == {"confirmed"}
    assert all(c["summary"] and not c["summary"].startswith("Would") for c in changes)
    assert len(document["done"]) == len(changes)  # the sentences stay, as before

    shown = hrsync("runs", "show", str(document["run_id"]))
    lines = [line.split() for line in shown.stdout.splitlines()[1:]]
    assert lines and all(words[0] == "confirmed" for words in lines), shown.stdout
    journal = json.loads(hrsync("--json", "runs", "show", str(document["run_id"])).stdout)
    assert [j["state"] for j in journal["journal"]] == [c["state"] for c in changes]
