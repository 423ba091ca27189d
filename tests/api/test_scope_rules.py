"""``[scope]`` include / exclude over a CSV export with a column carried along
(``employment_type``), against the emulator through the command line: only the people the
rules take are invited; the plan counts who each rule left out, in text and JSON; ``explain``
names the rule. A managed person who leaves the scope is left as Cliq has them under
``on_leave = "keep"`` (said once), or deactivated under ``"deactivate"``, where a large exit
from the scope is held by the deactivation guard. Plan again: no changes."""

from __future__ import annotations

import csv
import json

from hrsync.cli.demo import sample_employees
from hrsync.model import CANONICAL_FIELDS
from tests.api.conftest import Hrsync
from tests.conftest import World
from tests.support import cliq_users

TYPES = ("Permanent", "Permanent", "Contractor", "Intern")
SCOPE = """
[scope]
include = { department = ["Sales", "Support"] }
exclude = { employment_type = ["Contractor", "Intern"] }
"""


def export(world: World, rows: list[dict[str, str]]) -> None:
    with world.csv.open("w", newline="", encoding="utf-8") as handle:
        names = [*CANONICAL_FIELDS, "employment_type"]
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def typed(size: int) -> list[dict[str, str]]:
    rows = sample_employees(size)
    for n, row in enumerate(rows):
        row["employment_type"] = TYPES[n % len(TYPES)]
    return rows


def configure(world: World, scope: str) -> None:
    config = world.csv.parent / "hrsync.toml"
    config.write_text(config.read_text(encoding="utf-8") + scope, encoding="utf-8")


def in_scope(rows: list[dict[str, str]]) -> set[str]:
    return {
        r["employee_id"]
        for r in rows
        if r["department"] in ("Sales", "Support") and r["employment_type"] == "Permanent"
    }


def plan_json(hrsync: Hrsync) -> dict[str, object]:
    done = hrsync("--json", "plan")
    assert done.exit_code == 0, done.output
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_include_and_exclude_choose_whom_hrsync_invites_and_the_plan_counts_each_rule(
    world: World, hrsync: Hrsync
) -> None:
    rows = typed(80)
    export(world, rows)
    configure(world, SCOPE)
    sales = [r for r in rows if r["department"] in ("Sales", "Support")]
    wanted = in_scope(rows)
    shown = hrsync("plan")
    text = " ".join(shown.stdout.split())
    assert (
        f"scope: {len(rows) - len(sales)} people not in department = Sales, Support; "
        f"{len(sales) - len(wanted)} people excluded by employment_type = Contractor, Intern"
    ) in text
    document = plan_json(hrsync)
    assert document["scope"] == {
        "on_leave": "keep",
        "inside": len(wanted),
        "outside": len(rows) - len(wanted),
        "unreadable": 0,
        "rules": [
            {
                "rule": "include",
                "field": "department",
                "values": ["Sales", "Support"],
                "people": len(rows) - len(sales),
            },
            {
                "rule": "exclude",
                "field": "employment_type",
                "values": ["Contractor", "Intern"],
                "people": len(sales) - len(wanted),
            },
        ],
        "managed_outside": [],
        "left": [],
    }
    applied = hrsync("apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert set(cliq_users(world)) == wanted
    assert plan_json(hrsync)["changes"] == []

    member = sorted(wanted)[0]
    said = " ".join(hrsync("explain", member).stdout.split())
    assert "in scope: department is" in said
    assert "which is not named by exclude employment_type = Contractor, Intern" in said
    assert json.loads(hrsync("--json", "explain", member).stdout)["scope"].startswith("in scope")
    contractor = next(r for r in sales if r["employment_type"] == "Contractor")["employee_id"]
    refused = hrsync("explain", contractor)
    assert refused.exit_code == 1
    assert (
        f"{contractor}: outside [scope]: employment_type is 'Contractor' (exclude "
        "employment_type = Contractor, Intern): this configuration leaves them as Cliq has them"
    ) in " ".join(refused.stderr.split())


def test_on_leave_keep_leaves_a_person_who_left_the_scope_as_cliq_has_them(
    world: World, hrsync: Hrsync
) -> None:
    rows = typed(80)
    export(world, rows)
    configure(world, SCOPE)
    assert hrsync("apply", "--yes").exit_code == 0
    before = cliq_users(world)
    leaving = sorted(in_scope(rows))[:3]
    for row in rows:
        if row["employee_id"] in leaving:
            row["employment_type"] = "Contractor"
            row["designation"] = "Consultant"  # HR changes them too: not hrsync's to follow
    export(world, rows)
    document = plan_json(hrsync)
    assert document["changes"] == []
    assert document["scope"]["left"] == leaving  # type: ignore[index]
    shown = " ".join(hrsync("plan").stdout.split())
    assert f"3 people left the scope and are no longer managed: {', '.join(leaving)}" in shown
    assert hrsync("apply", "--yes").exit_code == 0
    after = cliq_users(world)
    assert {e: after[e] for e in leaving} == {e: before[e] for e in leaving}  # untouched
    again = plan_json(hrsync)
    assert again["changes"] == [] and again["scope"]["left"] == []  # type: ignore[index]
    assert "left the scope" not in hrsync("plan").stdout  # said once


def test_on_leave_deactivate_deactivates_managed_leavers_of_the_scope_under_the_guard(
    world: World, hrsync: Hrsync
) -> None:
    rows = typed(200)
    export(world, rows)
    configure(world, SCOPE + 'on_leave = "deactivate"\n')
    assert hrsync("apply", "--yes").exit_code == 0
    managed = sorted(in_scope(rows))
    never = next(r for r in rows if r["employee_id"] not in managed)
    never["department"] = "Finance"  # never managed: not touched whatever HR says
    leaving = managed[:2]
    for row in rows:
        if row["employee_id"] in leaving:
            row["department"] = "Finance"
    export(world, rows)
    document = plan_json(hrsync)
    assert [(c["kind"], c["employee_id"]) for c in document["changes"]] == [  # type: ignore[attr-defined]
        ("deactivate", e) for e in leaving
    ]
    assert document["changes"][0]["reason"].startswith(  # type: ignore[index]
        "left the scope: department is 'Finance' (include department = Sales, Support)"
    )
    assert hrsync("apply", "--yes").exit_code == 0
    users = cliq_users(world)
    assert [users[e]["status"] for e in leaving] == ["inactive", "inactive"]
    assert never["employee_id"] not in users
    assert plan_json(hrsync)["changes"] == []

    # A whole department leaves the scope at once: the guard holds the run.
    for row in rows:
        if row["department"] == "Sales":
            row["employment_type"] = "Contractor"
    export(world, rows)
    count = len([e for e in managed if e not in leaving and _row(rows, e)["department"] == "Sales"])
    held = hrsync("apply", "--yes")
    assert held.exit_code == 3, held.output
    said = " ".join(held.output.split())
    assert f"would deactivate {count} of" in said
    assert (
        f"{count} of them for leaving [scope]" in said and "Check the HR source and [scope]" in said
    )
    assert all(u["status"] != "inactive" for e, u in cliq_users(world).items() if e not in leaving)
    confirmed = hrsync("apply", "--yes", "--confirm-deactivations", str(count))
    assert confirmed.exit_code == 0, confirmed.output
    assert plan_json(hrsync)["changes"] == []


def _row(rows: list[dict[str, str]], employee_id: str) -> dict[str, str]:
    return next(r for r in rows if r["employee_id"] == employee_id)


def test_a_person_whose_scope_field_cannot_be_read_is_held_never_deactivated(
    world: World, hrsync: Hrsync
) -> None:
    rows = typed(40)
    export(world, rows)
    configure(
        world,
        '[scope]\ninclude = { department = ["Sales", "Support"] }\n'
        'exclude = { designation = "Intern" }\non_leave = "deactivate"\n',
    )
    assert hrsync("apply", "--yes").exit_code == 0
    unread, moved = sorted(cliq_users(world))[:2]
    # A designation over Cliq's 30 characters is a broken field: nobody can tell whether
    # the exclude names it. A readable rule that leaves someone out decides all the same.
    _row(rows, unread)["designation"] = "Intern " * 6
    _row(rows, moved)["designation"] = "Intern " * 6
    _row(rows, moved)["department"] = "Finance"
    export(world, rows)
    document = plan_json(hrsync)
    assert [(c["kind"], c["employee_id"]) for c in document["changes"]] == [  # type: ignore[attr-defined]
        ("deactivate", moved)
    ]
    assert document["scope"]["unreadable"] == 1  # type: ignore[index]
    said = " ".join(hrsync("explain", unread).stderr.split())
    assert (
        "is longer than the 30 characters Cliq takes; outside [scope]: their designation could "
        "not be read: this configuration leaves them as Cliq has them"  # not deactivated
    ) in said
