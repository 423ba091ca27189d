"""Cliq's API as the public evidence shows it (READINGS #2-#7, #10, #15, #21): the emulator answers
that way, and the client reads it, and the earlier ``data`` shape too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from hrsync.api.cliq import CliqClient
from hrsync.api.http import ZohoHttp
from hrsync.api.ratelimit import Pacer
from hrsync.cli.demo import sample_employees
from hrsync.clock import VirtualClock
from hrsync.config import RulesConfig
from tests.api.test_teams import teams
from tests.conftest import BASE, World
from tests.support import converge, planned


class NoAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = "Zoho-oauthtoken test"
        yield request


def call(world: World, method: str, path: str, **kw: Any) -> httpx.Response:
    app = world.app()
    try:  # an admin's own call, outside any run, with hrsync's token
        return world.http.request(method, BASE + path, auth=app.http.auth, **kw)
    finally:
        app.close()


def test_the_emulator_answers_teams_as_zoho_does(world: World) -> None:
    created = call(world, "POST", "/api/v2/teams", json={"name": "Sales", "description": ""})
    team = created.json()
    assert "data" not in team and isinstance(team["team_id"], str)  # flat, id a string
    listed = call(world, "GET", "/api/v2/teams").json()
    assert list(listed) == ["teams"] and listed["teams"][0]["team_id"] == team["team_id"]
    assert "data" not in call(world, "GET", f"/api/v2/teams/{team['team_id']}").json()
    members = call(world, "GET", f"/api/v2/teams/{team['team_id']}/members").json()
    assert list(members) == ["members"]
    admin = members["members"][0]
    assert {"user_id", "email_id", "display_name", "full_name", "is_moderator", "role"} <= set(
        admin
    )
    path = f"/api/v2/teams/{team['team_id']}/members"
    assert call(world, "DELETE", path, json={"user_ids": [admin["user_id"]]}).status_code == 405
    assert call(world, "DELETE", f"{path}/{admin['user_id']}").status_code == 204
    too_long = call(world, "POST", "/api/v2/teams", json={"name": "x" * 31})
    assert too_long.status_code == 400


def test_the_client_reads_the_teams_shape_and_the_data_shape() -> None:
    teams_shape = {"teams": [{"team_id": "61", "name": "Sales"}]}
    data_shape = {"data": [{"team_id": 61, "name": "Sales"}], "has_more": False}
    for answer, members in (
        (teams_shape, {"members": [{"user_id": "7"}]}),
        (data_shape, {"data": [{"id": 7}], "has_more": False}),
    ):

        def reply(request: httpx.Request, answer: Any = answer, members: Any = members) -> Any:
            body = members if request.url.path.endswith("/members") else answer
            return httpx.Response(200, json=body)

        clock = VirtualClock()
        with httpx.Client(transport=httpx.MockTransport(reply)) as client:
            http = ZohoHttp(
                client, base_url=BASE, auth=NoAuth(), pacer=Pacer(clock, margin=0), clock=clock
            )
            cliq = CliqClient(http)
            assert [(t.team_id, t.name) for t in cliq.iter_teams()] == [("61", "Sales")]
            assert list(cliq.iter_team_members("61")) == ["7"]


def test_a_team_name_cliq_cannot_hold_is_a_pending_action_and_the_rest_syncs(
    world: World,
) -> None:
    world.settings.rules = RulesConfig(
        teams_per=["department"], team_names={"department": "{value} team of the company"}
    )
    rows = sample_employees(60)
    world.write(rows)
    app = world.app(dry_run=True)
    try:
        plan = app.engine.plan()[0]
    finally:
        app.close()
    long_names = {f"{r['department']} team of the company" for r in rows}
    waiting = [p for p in plan.pending if "at most 30 characters" in p]
    assert len(waiting) == len({n for n in long_names if len(n) > 30}) > 0
    converge(world)
    assert set(teams(world)) == {n for n in long_names if len(n) <= 30}
    assert len(world.state()["users"]) == 61  # type: ignore[arg-type]  # everyone invited


def test_members_leave_one_call_each_paced(world: World) -> None:
    world.settings.rules = RulesConfig(teams_per=["department"])
    world.settings.safety.max_removal_share = 1.0
    rows = sample_employees(120)
    world.write(rows)
    converge(world)
    movers = [r for r in rows[40:] if r["department"] == "Engineering"][:25]
    for row in movers:
        row["department"] = "Sales"
    world.write(rows)
    before: Any = world.stats()["calls"]
    converge(world)
    after: Any = world.stats()["calls"]
    found = teams(world)
    ids = {r["employee_id"] for r in movers}
    assert not ids & found["Engineering"] and ids <= found["Sales"]
    assert after["teams"] - before["teams"] >= len(movers)  # one call per member out
    assert world.stats()["lock_periods_total"] == 0
    assert planned(world) == []


def test_ids_as_numbers_and_a_listing_without_status_are_read_without_guessing() -> None:
    from hrsync.targets.cliq import CliqTarget

    people = [{"id": n, "email_id": f"p{n}@x.example", "employee_id": 40 + n} for n in (1, 2, 3)]
    by_status = {"inactive": [people[1]], "pending": [people[2]]}
    asked: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        path, status = request.url.path, request.url.params.get("status", "")
        asked.append(f"{path}?{status}")
        if path == "/api/v2/users":
            return httpx.Response(200, json={"data": by_status.get(status, people)})
        if path == "/api/v2/teams":
            return httpx.Response(200, json={"teams": []})
        if path == "/api/v2/userfields":
            return httpx.Response(200, json={"list": []})
        return httpx.Response(200, json={"data": []})

    clock = VirtualClock()
    with httpx.Client(transport=httpx.MockTransport(reply)) as client:
        http = ZohoHttp(
            client, base_url=BASE, auth=NoAuth(), pacer=Pacer(clock, margin=0), clock=clock
        )
        inventory = CliqTarget(CliqClient(http)).inventory()
    found = {u.zuid: (u.status, u.employee_id) for u in inventory.users}
    assert found == {"1": ("active", "41"), "2": ("inactive", "42"), "3": ("pending", "43")}
    assert {"/api/v2/users?inactive", "/api/v2/users?pending"} <= set(asked)
