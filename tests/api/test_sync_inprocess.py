"""The whole sync against the in-process emulator on a virtual clock."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from hrsync.cli.demo import change_export, sample_employees
from hrsync.errors import SafetyHold
from tests.conftest import BASE, World


def converge(world: World) -> None:
    # Runs are separate processes a little apart; each paces itself within its own run.
    world.clock.advance(61)
    app = world.app()
    try:
        outcome = app.engine.run_apply()
        assert outcome.report is not None and outcome.report.failed == []
    finally:
        app.close()


def planned(world: World) -> list[str]:
    world.clock.advance(61)
    app = world.app(dry_run=True)
    try:
        plan, _, _ = app.engine.plan()
        return [c.describe(done=False) for c in plan.changes]
    finally:
        app.close()


def cliq_users(world: World) -> dict[str, dict[str, Any]]:
    users = world.state()["users"]
    assert isinstance(users, list)
    return {u["employee_id"]: u for u in users if u.get("employee_id")}


def assert_matches_export(world: World, rows: list[dict[str, str]]) -> None:
    users = cliq_users(world)
    by_id = {r["employee_id"]: r for r in rows}
    for eid, row in by_id.items():
        user = users[eid]
        active = row["status"] == "active"
        assert (user["status"] != "inactive") == active, eid
        if not active:
            continue
        assert user["email_id"] == row["email"]
        assert user["first_name"] == row["first_name"] and user["last_name"] == row["last_name"]
        assert user["mobile"] == row["mobile"] and user["phone"] == row["work_phone"]
        assert user["extension"] == row["extension"]
        assert user["work_location"] == row["seating_location"]
        assert user["department"]["name"] == row["department"]
        assert user["designation"]["name"] == row["designation"]
        manager = row["manager_id"]
        if manager:
            assert user["reportingto"]["id"] == users[manager]["id"], eid
        else:
            assert "reportingto" not in user
    for eid, user in users.items():
        if eid not in by_id:
            assert user["status"] == "inactive", f"{eid} left the feed but is {user['status']}"


def test_thousand_employees_sync_converge_and_follow_hr_changes(world: World) -> None:
    rows = sample_employees(1000)
    world.write(rows)
    converge(world)
    assert_matches_export(world, rows)
    assert planned(world) == []
    stats = world.stats()
    assert stats["lock_periods_total"] == 0
    calls = stats["calls"]
    assert isinstance(calls, dict) and calls["users.add"] <= 14  # 10 full batches + levels

    changed = change_export(rows)
    rows[500]["status"] = "Terminated"
    world.write(rows)
    assert len(planned(world)) == len(changed) + 1  # one change each, plus one more leaver
    converge(world)
    rows[500]["status"] = "active"  # the rehire
    world.write(rows)
    assert planned(world) == [f"Would reactivate {rows[500]['email']} (rehire)"]
    converge(world)
    for row in rows:
        row["status"] = "active" if row["status"] == "active" else "inactive"
    assert_matches_export(world, rows)
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0
    # no one was ever invited twice: one Cliq user per employee id
    ids = [u.get("employee_id") for u in world.state()["users"]]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids))


def test_dry_run_sends_no_write(world: World) -> None:
    world.write(sample_employees(50))
    sent: list[str] = []
    original = world.http._transport

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.method + " " + request.url.path)
            return original.handle_request(request)

    world.http._transport = Spy()
    assert len(planned(world)) > 50
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
    original = world.http._transport
    budget = random.Random(3).randint(3, 12)

    class Killer(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal budget
            if request.method != "GET" and "/oauth/" not in request.url.path:
                budget -= 1
                if budget < 0:
                    raise KeyboardInterrupt  # the process dies here, mid-apply
            return original.handle_request(request)

    world.http._transport = Killer()
    with pytest.raises(KeyboardInterrupt):
        world.app().engine.run_apply()
    world.http._transport = original
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
