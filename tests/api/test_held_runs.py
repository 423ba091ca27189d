"""A run a safety guard holds keeps its plan; ``hrsync runs approve N`` applies exactly that
plan, or nothing when HR or Cliq changed since."""

from __future__ import annotations

import json

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.errors import SafetyHold
from tests.api.conftest import Hrsync
from tests.conftest import World
from tests.support import cliq_users, converge

HELD, ERROR = 3, 1


def active(world: World) -> int:
    return sum(u["status"] != "inactive" for u in cliq_users(world).values())


def shown(hrsync: Hrsync, run_id: int) -> dict[str, object]:
    result = hrsync("--json", "runs", "show", str(run_id))
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.stdout)
    return found


def held_run(world: World, hrsync: Hrsync) -> tuple[list[dict[str, str]], int]:
    """60 people synced, then an export with 20 of them: 40 deactivations, held."""
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    world.write(rows[:20])
    synced = hrsync("sync")
    assert synced.exit_code == HELD, synced.output
    line = synced.stderr.strip()
    assert "would deactivate 40 of 60 managed users" in line
    run_id = int(line.split("held (run ")[1].split(")")[0])
    assert line.endswith(f"or apply exactly this plan with `hrsync runs approve {run_id}`")
    return rows, run_id


def test_a_held_run_is_applied_exactly_once_approved(world: World, hrsync: Hrsync) -> None:
    _, held = held_run(world, hrsync)
    summary = shown(hrsync, held)["summary"]
    assert isinstance(summary, dict)
    assert summary["counts"] == {"deactivate": 40} and summary["fingerprint"]
    assert active(world) == 60

    unattended = hrsync("runs", "approve", str(held))
    assert unattended.exit_code == ERROR
    assert f"approving run {held} needs --yes" in unattended.stderr
    assert active(world) == 60

    approved = hrsync("runs", "approve", str(held), "--yes")
    assert approved.exit_code == 0, approved.output
    assert f"Run {held} of default was held: this run would deactivate 40" in approved.stdout
    assert "its plan: 40 deactivate" in approved.stdout
    assert active(world) == 20
    run = int(approved.stdout.split("Run ")[2].split(" applied")[0])
    approved_run = shown(hrsync, held)
    assert approved_run["summary"]["approved_by"] == run  # type: ignore[index]
    assert approved_run["status"] == "approved"  # no longer "held"
    after = shown(hrsync, run)
    assert after["status"] == "succeeded" and after["summary"]["approves"] == held  # type: ignore[index]

    again = hrsync("runs", "approve", str(held), "--yes")
    assert again.exit_code == ERROR
    assert f"run {held} was approved already: run {run} applied it" in again.stderr
    assert hrsync("sync").exit_code == 0  # nothing left to hold


def test_an_approval_applies_nothing_once_hr_changed(world: World, hrsync: Hrsync) -> None:
    rows, held = held_run(world, hrsync)
    world.write(rows[:19])  # one more leaver since the run was held
    refused = hrsync("runs", "approve", str(held), "--yes")
    assert refused.exit_code == ERROR
    assert (
        f"run {held}'s held plan no longer matches HR and Cliq (something changed since it "
        "was held); nothing was applied" in refused.stderr
    )
    assert active(world) == 60
    assert "approved_by" not in shown(hrsync, held)["summary"]  # type: ignore[operator]
    assert hrsync("sync").exit_code == HELD  # the next run holds afresh


def test_only_a_held_apply_can_be_approved(world: World, hrsync: Hrsync) -> None:
    world.write(sample_employees(5))
    assert hrsync("sync").exit_code == 0
    done = hrsync("runs", "approve", "1", "--yes")
    assert done.exit_code == ERROR
    assert "run 1 is not held (it is an apply that succeeded); nothing to approve" in done.stderr
    missing = hrsync("runs", "approve", "99", "--yes")
    assert missing.exit_code == ERROR and "no run 99" in missing.stderr


def test_a_held_run_for_hr_events_that_named_someone_hr_cannot_sync_can_be_approved(
    world: World, hrsync: Hrsync
) -> None:
    """The events named an id HR does not have: the run refused it alone and was held for
    the others; the approval applies the others, not fails on the id refused."""
    rows = sample_employees(30)
    world.write(rows)
    converge(world)
    leavers = [row["employee_id"] for row in rows[:12]]
    for row in rows[:12]:
        row["status"] = "inactive"
    world.write(rows)
    app = world.app()
    app.engine.only = frozenset([*leavers, "E99999"])
    app.engine.events = (*leavers, "E99999")
    with pytest.raises(SafetyHold) as held:
        app.engine.run_apply()
    app.close()
    assert active(world) == 30
    approved = hrsync("runs", "approve", str(held.value.run_id), "--yes")
    assert approved.exit_code == 0, approved.output
    assert active(world) == 18
