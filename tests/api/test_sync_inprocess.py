"""The whole sync against the in-process emulator on a virtual clock."""

from __future__ import annotations

import gc
import random
from collections import Counter
from typing import Any

import httpx
import pytest

from hrsync.cli.demo import sample_employees
from hrsync.errors import SafetyHold
from tests.conftest import BASE, World
from tests.support import (
    KillAfterWrites,
    assert_matches_export,
    cliq_users,
    converge,
    lifecycle,
    planned,
)


def test_thousand_employees_sync_converge_and_follow_hr_changes(world: World) -> None:
    lifecycle(world, 1000)


def test_dry_run_sends_no_write(world: World) -> None:
    world.write(sample_employees(50))
    sent: list[str] = []

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.method + " " + request.url.path)
            return world.transport.handle_request(request)

    assert len(planned(world, transport=Spy())) > 50
    writes = [s for s in sent if not s.startswith("GET") and "/oauth/" not in s]
    assert sent and writes == []


@pytest.mark.parametrize("mode", ["error_500", "timeout", "throttle_400", "throttle_429"])
def test_injected_failures_do_not_break_a_run(world: World, mode: str) -> None:
    rows = sample_employees(300)
    world.write(rows)
    world.http.post(
        f"{BASE}/_emulator/faults",
        json=[
            {"mode": mode, "endpoint": "users.add", "count": 2},
            {"mode": mode, "endpoint": "users.list", "count": 1},
            {"mode": mode, "endpoint": "designations", "count": 1},
        ],
    )
    converge(world)
    assert planned(world) == []
    assert_matches_export(world, rows)
    assert world.stats()["faults_injected"] == {mode: 4}


def test_kill_mid_apply_then_rerun_converges_without_duplicate_invitations(world: World) -> None:
    rows = sample_employees(400)
    world.write(rows)
    budget = random.Random(3).randint(3, 12)
    dying = world.app(transport=KillAfterWrites(world.transport, budget))  # dies mid-apply
    with pytest.raises(KeyboardInterrupt):
        dying.engine.run_apply()
    converge(world)
    assert planned(world) == []
    assert_matches_export(world, rows)
    emails = [u["email_id"] for u in world.state()["users"]]  # type: ignore[union-attr]
    assert len(emails) == len(set(emails)) == 401


def test_mass_deactivation_is_held_until_confirmed(world: World) -> None:
    rows = sample_employees(100)
    world.write(rows)
    converge(world)
    world.write(rows[:50])
    app = world.app()
    with pytest.raises(SafetyHold, match="--confirm-deactivations 50"):
        app.engine.run_apply()
    outcome = app.engine.run_apply(confirmed_deactivations=50)
    assert outcome.report is not None and len(outcome.report.done) == 50
    app.close()


def test_empty_source_is_refused(world: World) -> None:
    world.write([])
    from hrsync.errors import SourceError

    with pytest.raises(SourceError, match="no valid employee"):
        world.app().engine.run_apply()


def test_an_org_whose_departments_people_manages_is_said_once_and_not_fought(
    world: World,
) -> None:
    rows = sample_employees(60)
    world.write(rows)
    world.http.post(f"{BASE}/_emulator/config", json={"people_managed": True})
    app = world.app()
    outcome = app.engine.run_apply()
    app.close()
    plan = outcome.plan
    assert [n for n in plan.notes if "Zoho People manages" in n] and not plan.counts().get(
        "create_department"
    )
    assert outcome.report is not None and outcome.report.failed == []
    users = cliq_users(world)
    assert len(users) == 60 and all(u["department"]["name"] == "Zylker" for u in users.values())
    assert planned(world) == []


def test_a_refused_department_write_stops_the_rest_and_is_remembered(world: World) -> None:
    from hrsync.sync.engine import GROUPS_BY_PEOPLE

    rows = sample_employees(40)
    world.write(rows)
    app = world.app()
    plan, _, _ = app.engine.plan()
    assert plan.counts()["create_department"] == 7
    # People takes over between the plan and the apply: the first create is refused.
    world.http.post(f"{BASE}/_emulator/config", json={"people_managed": True})
    original = app.engine.target.inventory

    def listed_before_the_change(**how: Any) -> Any:
        world.http.post(f"{BASE}/_emulator/config", json={"people_managed": False})
        inventory = original(**how)
        world.http.post(f"{BASE}/_emulator/config", json={"people_managed": True})
        return inventory

    listed_again = app.engine.target.groups

    def listed_again_before_the_change(inventory: Any) -> Any:
        world.http.post(f"{BASE}/_emulator/config", json={"people_managed": False})
        found = listed_again(inventory)
        world.http.post(f"{BASE}/_emulator/config", json={"people_managed": True})
        return found

    app.engine.target.inventory = listed_before_the_change  # type: ignore[method-assign]
    app.engine.target.groups = listed_again_before_the_change  # type: ignore[method-assign]
    outcome = app.engine.run_apply()
    report = outcome.report
    assert report is not None and report.groups_by_people and report.failed == []
    groups = (
        outcome.plan.counts()["create_department"] + outcome.plan.counts()["create_designation"]
    )
    assert len(report.skipped) == groups and len(report.notes) == 1
    assert len(cliq_users(world)) == 40  # everyone invited, without a department
    assert app.store.bookmark(GROUPS_BY_PEOPLE) is not None
    app.engine.target.inventory = original  # type: ignore[method-assign]
    app.engine.target.groups = listed_again  # type: ignore[method-assign]
    again, _, _ = app.engine.plan()
    assert "create_department" not in again.counts() and again.changes == []
    app.close()


def test_an_export_that_lost_a_column_is_held_before_it_empties_profiles(world: World) -> None:
    rows = sample_employees(100)
    world.write(rows)
    converge(world)
    for row in rows:
        row["mobile"] = ""  # the column is gone from this export
    world.write(rows)
    app = world.app()
    with pytest.raises(SafetyHold, match=r"empty fields of 100 people \(mobile for 100\)"):
        app.engine.run_apply()
    assert cliq_users(world)["E00050"]["mobile"]  # nothing was written
    outcome = app.engine.run_apply(confirmed_blanking=100)
    app.close()
    assert outcome.report is not None and len(outcome.report.done) == 100
    assert "mobile" not in cliq_users(world)["E00050"]


def test_many_memberships_taken_away_at_once_are_held(world: World) -> None:
    from hrsync.config import RulesConfig

    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(100)
    world.write(rows)
    converge(world)
    movers = [r for r in rows[40:] if r["department"] != "Finance"][:30]
    for row in movers:
        row["department"] = "Finance"
    world.write(rows)
    app = world.app()
    with pytest.raises(SafetyHold, match=r"take 30 memberships away.*--confirm-removals 30"):
        app.engine.run_apply()
    outcome = app.engine.run_apply(confirmed_removals=30)
    app.close()
    assert outcome.report is not None and outcome.report.failed == []
    assert planned(world) == []


def test_a_run_leaves_its_state_to_be_freed_as_it_ends_not_to_the_cycle_collector(
    world: World,
) -> None:
    """At 100,000 people a run's answers and state are hundreds of megabytes: held in
    reference cycles, they outlived the run (in the service, into the next one) until the
    collector's next full pass, and that pass cost seconds of the next plan."""
    world.write(sample_employees(120))
    gc.collect()
    gc.disable()
    try:
        converge(world)
        planned(world)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    kinds = Counter(type(o).__name__ for o in left)
    answers = [
        o.request.url.path
        for o in left
        if isinstance(o, httpx.Response) and "/oauth/" not in o.request.url.path
    ]
    assert answers == []  # every Zoho answer (a page of users) freed once read
    assert kinds["Applier"] == kinds["CliqChanges"] == kinds["CurrentUser"] == 0
    assert kinds["Employee"] == kinds["Plan"] == 0
