"""The stall detector: a change Cliq says it made three times, that never took effect, is
not made a fourth time; it becomes a pending action that says so.

Provoked by a reading no variant plays: Cliq answers an update of ``mobile`` with success
and keeps the old number (``tests.support.KeepsOldValue``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from hrsync.cli.demo import sample_employees
from hrsync.cli.main import app as cli
from hrsync.doctor.local import stalled_check
from hrsync.sync.stall import STALLED_AFTER
from tests.conftest import World
from tests.support import KeepsOldValue, cliq_users


def apply(world: World, transport: httpx.BaseTransport, **options: bool) -> tuple[list[str], ...]:
    app = world.app(transport=transport)
    try:
        outcome = app.engine.run_apply(**options)
    finally:
        app.close()
    report = outcome.report
    assert report is not None and report.failed == []
    return report.done, outcome.plan.pending, outcome.plan.stalled


def test_a_change_cliq_never_takes_becomes_a_pending_action_after_three_tries(
    world: World,
) -> None:
    rows = sample_employees(8)
    world.write(rows)
    apply(world, world.transport)
    ignoring = KeepsOldValue(world.transport, "mobile", "+1 555 0199", rows[3]["mobile"])
    rows[3]["mobile"] = "+1 555 0199"
    who = rows[3]["email"]  # a change describes its person by email
    world.write(rows)
    for attempt in range(STALLED_AFTER):
        done, pending, stalled = apply(world, ignoring, full_read=True)
        assert [d for d in done if who in d], (attempt, done)
        assert stalled == []
    assert ignoring.kept == STALLED_AFTER
    assert cliq_users(world)["E00004"]["mobile"] != "+1 555 0199"

    done, pending, stalled = apply(world, ignoring, full_read=True)
    assert ignoring.kept == STALLED_AFTER  # not made a fourth time
    assert not [d for d in done if who in d]
    assert stalled == ["user:E00004:update"]
    said = [p for p in pending if who in p]
    assert said and said[0].startswith(
        "hrsync has made this change 3 times and Cliq still differs:"
    )
    app = world.app(dry_run=True)
    try:  # doctor says it too
        check = stalled_check(app.store)
    finally:
        app.close()
    assert check.level == "note" and who in check.detail and "1 change(s)" in check.detail

    # Another change of the same person is a new change: made, not held.
    rows[3]["extension"] = "4321"
    world.write(rows)
    done, pending, stalled = apply(world, ignoring, full_read=True)
    assert [d for d in done if who in d] and stalled == []
    assert cliq_users(world)["E00004"]["extension"] == "4321"


def test_changes_that_take_effect_are_never_held(world: World) -> None:
    rows = sample_employees(8)
    world.write(rows)
    apply(world, world.transport)
    for n in range(STALLED_AFTER + 1):
        rows[2]["mobile"] = f"+1 555 02{n:02d}"  # the same person, a new value each time
        world.write(rows)
        done, _, stalled = apply(world, world.transport, full_read=True)
        assert [d for d in done if rows[2]["email"] in d] and stalled == []


def test_runs_show_names_the_stalled_change(world: World, tmp_path: Path) -> None:
    rows = sample_employees(4)
    world.write(rows)
    apply(world, world.transport)
    keeps = KeepsOldValue(world.transport, "mobile", "+1 555 0177", rows[1]["mobile"])
    rows[1]["mobile"] = "+1 555 0177"
    world.write(rows)
    for _ in range(STALLED_AFTER + 1):
        apply(world, keeps, full_read=True)
    app = world.app(dry_run=True)
    try:
        last = app.store.runs(limit=1)[0].id
    finally:
        app.close()
    config = tmp_path / "hrsync.toml"
    config.write_text(f'[store]\nurl = "{world.settings.store.url}"\n', encoding="utf-8")
    shown = CliRunner().invoke(cli, ["--config", str(config), "runs", "show", str(last)])
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.output.splitlines() if "[pending action]" in x)
    assert "made this change 3 times" in line and rows[1]["email"] in " ".join(shown.output.split())


def test_a_department_an_admin_keeps_deleting_is_made_again_each_time(world: World) -> None:
    """A creation's effect is seen (Cliq answers with the new id): one planned again means
    the department is gone again, so it is made again, never held as stalled, and nothing
    fails for want of its id. The moves back into it, undone by each deletion, are what
    Cliq keeps undoing: after three, they are held and named."""
    rows = sample_employees(12)
    world.write(rows)
    apply(world, world.transport)
    department = rows[4]["department"]
    members = [r["employee_id"] for r in rows if r["department"] == department]
    admin = world.app()
    for n in range(STALLED_AFTER + 1):
        state: Any = world.state()
        found = next(d for d in state["departments"] if d["name"] == department)
        admin.http.call("DELETE", f"/api/v2/departments/{found['id']}", endpoint="departments")
        _, pending, stalled = apply(world, world.transport, full_read=True)  # none failed
        state = world.state()
        assert department in [d["name"] for d in state["departments"]]  # made again
        assert f"department:{department.lower()}" not in stalled
        users = cliq_users(world)
        if n < STALLED_AFTER:
            assert stalled == [] and pending == []
            assert {users[e]["department"]["name"] for e in members} == {department}
        else:
            assert stalled == sorted(f"user:{e}:update" for e in members)
            assert len(pending) == len(members)
    admin.close()
