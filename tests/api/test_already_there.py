"""A change Zoho says is done already is done only once its object is found.

"Already exists" answers (designations, departments, teams, roles) are looked up by name and
their ids used; one that cannot be found fails with that said. A listing of one page
(designations), a teams listing that refuses ``limit`` or lists only the teams the caller
joined, and team ids as numbers: each converges, or stops loudly — never a change counted
as done that had no effect.
"""

from __future__ import annotations

from typing import Any

import httpx

from hrsync.cli.demo import sample_employees
from hrsync.config import RoleConfig, RulesConfig
from tests.api.test_emulator_variants import bearer, play
from tests.conftest import BASE, World
from tests.support import cliq_users, converge, planned


def hand_made_designations(world: World, names: list[str]) -> None:
    """Designations an admin made in Cliq by hand, paced as Zoho's limit allows."""
    auth = bearer(world)
    for n, name in enumerate(names):
        if n and n % 25 == 0:
            world.clock.advance(61)
        answer = world.http.post(f"{BASE}/api/v2/designations", json={"name": name}, headers=auth)
        assert answer.status_code == 200, answer.text
    world.clock.advance(61)


def designation_of(world: World, employee_id: str) -> str:
    user = cliq_users(world)[employee_id]
    return str(user.get("designation", {}).get("name", ""))


def test_a_designation_beyond_a_one_page_listing_is_found_by_name_and_used(
    world: World,
) -> None:
    play(world, "designations-unpaged")
    hand_made_designations(world, [f"Grade {n:03d}" for n in range(1, 121)])
    rows = sample_employees(12)
    rows[5]["designation"] = "Grade 117"  # made by hand, beyond the one page listed
    world.write(rows)
    # The listing ended on a whole page: the plan looks the missing one up by name.
    assert not [c for c in planned(world) if "designation 'Grade 117'" in c]
    app = world.app()
    try:
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert report is not None and report.failed == []
    assert designation_of(world, "E00006") == "Grade 117"
    created = [d for d in world.state()["designations"] if d["name"] == "Grade 117"]  # type: ignore[index]
    assert len(created) == 1  # found, not made again
    assert planned(world) == []  # remembered: no create planned run after run

    rows[6]["designation"] = "Grade 118"  # a mover to another one the listing leaves out
    world.write(rows)
    converge(world)
    assert designation_of(world, "E00007") == "Grade 118"
    assert planned(world) == []


def test_designations_made_by_hrsync_beyond_one_page_are_not_planned_again(
    world: World,
) -> None:
    play(world, "designations-unpaged")
    rows = sample_employees(130)
    for n, row in enumerate(rows):
        row["designation"] = f"Title {n:03d}"
    world.write(rows)
    converge(world)
    assert planned(world) == []
    rows[3]["designation"] = "Title 125"
    world.write(rows)
    converge(world)
    assert designation_of(world, "E00004") == "Title 125"
    assert planned(world) == []


def test_a_mover_to_a_designation_with_no_id_fails_and_is_not_counted_done(
    world: World,
) -> None:
    rows = sample_employees(10)
    world.write(rows)
    converge(world)
    rows[4]["designation"] = "Staff Engineer"
    world.write(rows)
    # Cliq answers the creation with an id nobody can use: the move must not pass for done.
    refuse = RefuseCreate("/api/v2/designations", world.transport)
    app = world.app(transport=refuse)
    try:
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert report is not None
    assert [f for f in report.failed if "designation 'Staff Engineer'" in f], report.failed
    assert not [d for d in report.done if "E00005" in d], report.done
    assert designation_of(world, "E00005") != "Staff Engineer"
    converge(world)  # the next run, Cliq answering as usual, makes it
    assert designation_of(world, "E00005") == "Staff Engineer"
    assert planned(world) == []


class RefuseCreate(httpx.BaseTransport):
    """Cliq says the object exists already and it cannot be found by name anywhere."""

    def __init__(self, path: str, inner: httpx.BaseTransport) -> None:
        self.path, self.inner = path, inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == self.path:
            code = self.path.rsplit("/", 1)[-1].removesuffix("s") + "_already_exist"
            return httpx.Response(400, json={"code": code, "message": "exists"})
        return self.inner.handle_request(request)


class CreatedMeanwhile(httpx.BaseTransport):
    """Someone makes the object in Cliq just before hrsync does (by the same admin)."""

    def __init__(self, path: str, inner: httpx.BaseTransport, body: dict[str, Any]) -> None:
        self.path, self.inner, self.body, self.done = path, inner, body, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == self.path and not self.done:
            self.done = True
            early = httpx.Request("POST", request.url, headers=request.headers, json=self.body)
            assert self.inner.handle_request(early).status_code in (200, 204)
        return self.inner.handle_request(request)


def test_a_team_made_meanwhile_is_found_and_used(world: World) -> None:
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(40)
    world.write(rows)
    spy = CreatedMeanwhile("/api/v2/teams", world.transport, {"name": "Sales"})
    app = world.app(transport=spy)
    try:
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert spy.done and report is not None and report.failed == []
    state: Any = world.state()
    sales = [t for t in state["teams"] if t["name"] == "Sales"]
    assert len(sales) == 1
    users = cliq_users(world)
    wanted = {users[r["employee_id"]]["id"] for r in rows if r["department"] == "Sales"}
    assert wanted <= set(sales[0]["members"])
    assert planned(world) == []


def test_a_role_made_meanwhile_is_found_and_used(world: World) -> None:
    world.settings.roles = [RoleConfig(name="Auditors", clone_of="Members")]
    world.write(sample_employees(5))
    members = next(r for r in world.state()["roles"] if r["name"] == "Members")  # type: ignore[union-attr]
    body = {"name": "Auditors", "profile_type": "Members", "clone_id": members["id"]}
    spy = CreatedMeanwhile("/api/v2/profiles", world.transport, body)
    app = world.app(transport=spy)
    try:
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert spy.done and report is not None and report.failed == []
    roles = [r for r in world.state()["roles"] if r["name"] == "Auditors"]  # type: ignore[union-attr]
    assert len(roles) == 1


def test_a_team_the_admin_has_not_joined_fails_loudly_when_only_joined_teams_list(
    world: World,
) -> None:
    play(world, "teams-joined-only")
    world.settings.rules = RulesConfig(teams_per=["department"])
    auth = bearer(world)
    made = world.http.post(f"{BASE}/api/v2/teams", json={"name": "Sales"}, headers=auth).json()
    admin = world.state()["admin_id"]
    gone = world.http.delete(f"{BASE}/api/v2/teams/{made['team_id']}/members/{admin}", headers=auth)
    assert gone.status_code == 204
    world.write(sample_employees(40))
    app = world.app()
    try:
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert report is not None
    said = [f for f in report.failed if "team 'Sales'" in f and "already exists" in f]
    assert said and "joined" in said[0], report.failed
    assert not [d for d in report.done if "team 'Sales'" in d]


def test_teams_converge_when_cliq_refuses_limit_and_answers_numeric_ids(world: World) -> None:
    play(world, "teams-strict-params", "team-ids-numeric")
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    mover = rows[45]
    mover["department"] = "Sales" if mover["department"] != "Sales" else "Finance"
    world.write(rows)
    converge(world)
    state: Any = world.state()
    team = next(t for t in state["teams"] if t["name"] == mover["department"])
    assert cliq_users(world)[mover["employee_id"]]["id"] in team["members"]
    assert planned(world) == []
    refused = world.http.get(f"{BASE}/api/v2/teams", params={"limit": 5}, headers=bearer(world))
    assert refused.status_code == 400 and "'limit'" in refused.json()["message"]


def test_a_designation_cliq_says_exists_is_found_by_name_when_the_plan_missed_it(
    world: World,
) -> None:
    rows = sample_employees(6)
    rows[2]["designation"] = "Principal"
    world.write(rows)
    spy = CreatedMeanwhile("/api/v2/designations", world.transport, {"name": "Principal"})
    app = world.app(transport=spy)
    try:
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert spy.done and report is not None and report.failed == []
    assert designation_of(world, "E00003") == "Principal"
    made = [d for d in world.state()["designations"] if d["name"] == "Principal"]  # type: ignore[index]
    assert len(made) == 1
    assert planned(world) == []
