"""Between daily full reads, a run reads only the Cliq users Cliq lists as changed (its
``modified_after`` covers department, designation, employee id, extension, reporting-to and
work location), the users hrsync is unsure of, and takes the rest as it last saw them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import RulesConfig
from hrsync.targets.cliq.seen import APPLYING, SEEN, SEEN_USERS
from hrsync.wiring import build
from tests.conftest import BASE, World
from tests.support import (
    KillAfterWrites,
    access_token,
    assert_matches_export,
    cliq_users,
    converge,
    planned,
)

HOUR = 3600.0


class Calls(httpx.BaseTransport):
    """Counts the calls to Zoho's API that reach the emulator, by method and path kind."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.made: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/api/"):
            kind = "/".join("{id}" if p.isdigit() else p for p in path.split("/"))
            self.made[f"{request.method} {kind}"] += 1
        return self.inner.handle_request(request)


def apply(world: World, **how: Any) -> tuple[Any, Calls, str]:
    """One run a few minutes after the last; its outcome, its calls and how it read Cliq."""
    world.clock.advance(300)
    calls = Calls(world.transport)
    app = world.app(transport=calls)
    try:
        outcome = app.engine.run_apply(**how)
        assert outcome.report is not None
        return outcome, calls, app.engine.target.last_read.kind
    finally:
        app.close()


def admin(world: World) -> Any:
    """The Cliq target of an admin's own session, to change Cliq by hand."""
    return world.app().engine.target


@pytest.fixture
def synced(world: World) -> list[dict[str, str]]:
    rows = sample_employees(300)
    world.write(rows)
    converge(world)  # the initial sync
    world.http.post(f"{BASE}/_emulator/users/accept", json={})
    return rows


def test_joiners_are_read_back_during_the_initial_sync(world: World) -> None:
    """The invitation round lists the people it invited while Cliq's pacing waits: their
    ids are linked and the next run reads nobody again."""
    world.write(sample_employees(300))
    converge(world)
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.plan.changes == []
    assert sum(calls.made.values()) == 3


def test_a_run_with_no_change_reads_three_small_listings(
    world: World, synced: list[dict[str, str]]
) -> None:
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.plan.changes == []
    assert calls.made == {
        "GET /api/v2/users": 1,
        "GET /api/v2/departments": 1,
        "GET /api/v2/designations": 1,
    }


def test_custom_fields_are_listed_again_when_a_plan_writes_or_waits_for_one(
    world: World, synced: list[dict[str, str]]
) -> None:
    """The fields as last listed do for a run with nothing to do; a value waiting for an
    option the admin then adds goes at the next run, without waiting for a full read."""
    rows = [row | {"gender": ""} for row in synced]
    rows[70]["gender"] = "Agender"
    world.write(rows)
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.plan.changes == []
    assert any("has no option 'Agender'" in p for p in outcome.plan.pending)
    assert calls.made["GET /api/v2/userfields"] == 1
    auth = {"Authorization": f"Zoho-oauthtoken {access_token(world)}"}
    fields = world.http.get(f"{BASE}/api/v2/userfields", headers=auth).json()["list"]
    gender = next(f for f in fields if f["unique_name"] == "gender")
    added = world.http.put(
        f"{BASE}/api/v2/userfields/{gender['id']}",
        headers=auth,
        json={"options": [{"name": "Agender"}]},
    )
    assert added.status_code == 200
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.plan.pending == []
    assert [c.describe(done=False) for c in outcome.plan.changes] == [
        f"Would update {rows[70]['email']}: gender (none) → 'Agender'"
    ]
    assert outcome.report.failed == []
    option = next(o["id"] for o in added.json()["data"]["options"] if o["name"] == "Agender")
    assert cliq_users(world)[rows[70]["employee_id"]]["gender"] == option
    outcome, calls, kind = apply(world)
    assert outcome.plan.changes == [] and "GET /api/v2/userfields" not in calls.made


def test_hrs_changes_are_applied_and_kept_without_reading_everyone_again(
    world: World, synced: list[dict[str, str]]
) -> None:
    rows = synced
    rows[50]["department"] = "Legal" if rows[50]["department"] != "Legal" else "Sales"
    rows[51]["mobile"] = "+1 555 0101"
    rows[52]["status"] = "inactive"
    rows[53]["email"] = "renamed." + rows[53]["email"]
    rows[54]["last_name"] = "Newname"
    world.write(rows)
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.report.failed == []
    assert calls.made["GET /api/v2/users"] == 1
    # Nobody's custom field changes: the fields as last listed do (a listing is 10 a minute,
    # and HR events would wait on it).
    assert "GET /api/v2/userfields" not in calls.made
    _, calls, kind = apply(world)
    assert kind == "incremental"
    assert sum(n for k, n in calls.made.items() if not k.startswith("GET")) == 0
    assert_matches_export(world, rows)


def test_a_hand_edit_of_a_field_modified_after_covers_is_put_back_at_the_next_run(
    world: World, synced: list[dict[str, str]]
) -> None:
    user = cliq_users(world)[synced[60]["employee_id"]]
    admin(world).update_user(user["id"], {"work_location": "Moon base"}, email=user["email_id"])
    outcome, _, kind = apply(world)
    assert kind == "incremental"
    assert [c.kind for c in outcome.plan.changes] == ["update"]
    assert cliq_users(world)[synced[60]["employee_id"]].get("work_location") != "Moon base"


def test_other_hand_edits_wait_for_the_daily_full_read_or_one_asked_for(
    world: World, synced: list[dict[str, str]]
) -> None:
    people = cliq_users(world)
    a, b = people[synced[70]["employee_id"]], people[synced[71]["employee_id"]]
    hand = admin(world)
    hand.update_user(a["id"], {"mobile": "+0 000"}, email=a["email_id"])
    hand.set_active(b["id"], False)
    outcome, _, kind = apply(world)
    assert kind == "incremental" and outcome.plan.changes == []  # not seen yet
    outcome, _, kind = apply(world, full_read=True)  # `--full-read`
    assert kind == "full"
    assert sorted(c.kind for c in outcome.plan.changes) == ["reactivate", "update"]
    hand.set_active(b["id"], False)
    world.clock.advance(23 * HOUR)
    assert apply(world)[2] == "incremental"
    world.clock.advance(1 * HOUR)
    outcome, _, kind = apply(world)
    assert kind == "full" and [c.kind for c in outcome.plan.changes] == ["reactivate"]
    assert_matches_export(world, synced)


def test_a_killed_apply_makes_the_next_read_a_full_one(
    world: World, synced: list[dict[str, str]]
) -> None:
    rows = synced
    for row in rows[80:90]:
        row["mobile"] = "+1 555 0199"
    world.write(rows)
    app = world.app(transport=KillAfterWrites(world.transport, 4))
    with pytest.raises(KeyboardInterrupt):
        app.engine.run_apply()
    app.close()
    assert app.store.bookmark(APPLYING) is True
    outcome, _, kind = apply(world)
    assert kind == "full" and outcome.report.failed == []
    assert len(outcome.plan.changes) == 6  # the four sent before the kill are not sent again
    assert apply(world)[2] == "incremental"
    assert_matches_export(world, rows)


def test_a_failed_write_makes_its_user_read_again_one_by_one(
    world: World, synced: list[dict[str, str]]
) -> None:
    rows = synced
    rows[100]["mobile"] = "+1 555 0142"
    world.write(rows)
    faults = [{"mode": "error_500", "endpoint": "users.update", "count": 8}]
    world.http.post(f"{BASE}/_emulator/faults", json=faults)
    outcome, _, _ = apply(world)
    world.http.post(f"{BASE}/_emulator/faults", json=[])
    assert len(outcome.report.failed) == 1
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.report.failed == []
    assert calls.made["GET /api/v2/users/{id}"] == 1
    assert_matches_export(world, rows)


@pytest.mark.parametrize("variant", ["", "modified-excludes-new", "users-no-status"])
def test_joiners_are_read_back_and_never_invited_twice(world: World, variant: str) -> None:
    if variant:
        world.http.post(f"{BASE}/_emulator/variants", json={"variants": [variant]})
    rows = sample_employees(120)
    world.write(rows[:100])
    converge(world)
    _, _, kind = apply(world)  # where the invitees could not be listed, they are read once
    assert kind == ("full" if variant == "modified-excludes-new" else "incremental")
    world.write(rows)
    outcome, _, kind = apply(world)  # 20 joiners
    assert kind == "incremental" and outcome.plan.counts()["invite"] == 20
    outcome, calls, kind = apply(world)
    assert kind == "incremental" and outcome.plan.changes == []
    assert calls.made["POST /api/v2/users"] == 0
    if variant == "modified-excludes-new":
        assert calls.made["GET /api/v2/users/{id}"] == 20  # not listed as changed: asked
    assert_matches_export(world, rows)
    assert planned(world) == []


def test_an_adoption_is_planned_from_a_full_read(
    world: World, synced: list[dict[str, str]]
) -> None:
    rows = synced
    body = {"users": [{"email_id": "hand.made@zylker.example", "first_name": "Hand"}]}
    admin(world).client.http.call("POST", "/api/v2/users", endpoint="users.add", json=body)
    rows.append({**rows[-1], "employee_id": "E9999", "email": "hand.made@zylker.example"})
    world.write(rows)
    outcome, _, kind = apply(world)
    assert kind == "full"
    assert outcome.plan.counts()["link"] == 1 and outcome.plan.counts().get("invite", 0) == 0


def test_what_hrsync_knows_of_cliq_is_kept_in_its_store(
    world: World, synced: list[dict[str, str]]
) -> None:
    app = world.app()
    seen, users = app.store.bookmark(SEEN), app.store.bookmark(SEEN_USERS)
    app.close()
    assert seen["version"] == 2 and seen["unsure"] == []
    assert users["generation"] == seen["generation"]
    assert len(users["rows"]) == 301  # and the organisation's admin


def test_users_kept_apart_from_their_last_read_make_the_next_read_a_full_one(
    world: World, synced: list[dict[str, str]]
) -> None:
    """A run stopped between saving the users and what points at them leaves a pair that
    does not match: nothing is taken from it."""
    app = world.app()
    users = app.store.bookmark(SEEN_USERS)
    app.store.save_bookmark(SEEN_USERS, users | {"generation": users["generation"] - 1})
    app.close()
    outcome, _, kind = apply(world)
    assert kind == "full" and outcome.plan.changes == []
    assert "do not match its last read" in outcome.plan.cliq_read
    _, _, kind = apply(world)
    assert kind == "incremental"


def test_teams_are_taken_as_last_seen_between_full_reads(world: World) -> None:
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(150)
    world.write(rows)
    converge(world)
    _, calls, kind = apply(world)
    assert kind == "incremental" and calls.made["GET /api/v2/teams"] == 0
    mover = rows[60]
    old = mover["department"]
    new = next(r["department"] for r in rows if r["department"] != old)
    mover["department"] = new
    world.write(rows)
    outcome, calls, _ = apply(world)
    assert sorted(c.kind for c in outcome.plan.changes) == [
        "team_members",
        "team_members",
        "update",
    ]
    assert not [k for k in calls.made if k.startswith("GET /api/v2/teams")]
    outcome, calls, _ = apply(world)
    # users changed since the last read; departments as last listed (nobody moved now)
    assert outcome.plan.changes == [] and sum(calls.made.values()) == 1
    members = {t["name"]: t["members"] for t in world.state()["teams"]}  # type: ignore[union-attr]
    zuid = cliq_users(world)[mover["employee_id"]]["id"]
    assert zuid in members[new] and zuid not in members[old]
    admin(world).remove_team_members(
        next(t["team_id"] for t in world.state()["teams"] if t["name"] == new),  # type: ignore[union-attr]
        [zuid],
    )
    assert apply(world)[0].plan.changes == []  # a hand edit of a team: not seen yet
    outcome, _, kind = apply(world, full_read=True)
    assert kind == "full" and [c.kind for c in outcome.plan.changes] == ["team_members"]


class Ahead:
    """hrsync's host clock, a month ahead of Zoho's (sleeping moves both)."""

    def __init__(self, zoho: Any) -> None:
        self.zoho = zoho

    def now(self) -> float:
        return float(self.zoho.now()) + 30 * 86_400

    def sleep(self, seconds: float) -> None:
        self.zoho.sleep(seconds)


def test_changes_are_asked_for_by_zohos_clock_not_the_hosts(world: World) -> None:
    rows = sample_employees(60)
    world.write(rows)

    def run() -> Any:
        world.clock.advance(300)
        app = build(world.settings, dry_run=False, clock=Ahead(world.clock), client=world.http)
        try:
            outcome = app.engine.run_apply()
            return outcome, app.engine.target.last_read.kind
        finally:
            app.close()

    run()
    user = cliq_users(world)[rows[30]["employee_id"]]
    admin(world).update_user(user["id"], {"work_location": "Moon base"}, email=user["email_id"])
    outcome, kind = run()
    assert kind == "incremental"
    assert [c.kind for c in outcome.plan.changes] == ["update"]  # seen, though the host is ahead
