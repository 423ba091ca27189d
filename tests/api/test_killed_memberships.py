"""Memberships survive kills: the teams a killed run's invitations named are hrsync's once
the next run finds the people in them (so a later move takes them out), and team leaves,
one call each, are recorded as each call returns."""

from __future__ import annotations

import re
from typing import Any, cast

import httpx
import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import RulesConfig
from hrsync.errors import SafetyHold
from hrsync.store import Store
from tests.api.test_teams import teams
from tests.conftest import World
from tests.support import converge, planned


class DiesAfterInviting(httpx.BaseTransport):
    """Cliq carries out the first invitation call; its answer never comes back, because
    the process dies (a kill) the moment it was sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/api/v2/users":
            raise KeyboardInterrupt
        return answer


def test_teams_joined_by_an_invitation_in_flight_are_taken_over(world: World) -> None:
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(12)
    world.write(rows)
    app = world.app(transport=DiesAfterInviting(world.transport))
    with pytest.raises(KeyboardInterrupt):
        app.engine.run_apply()
    app.close()
    state: Any = world.state()
    invited = {u["employee_id"] for u in state["users"] if u.get("employee_id")}
    assert invited  # the call went through: people are in Cliq, in their teams
    converge(world)  # the next run finds them (a full read), and takes their teams over
    assert planned(world) == []
    mover = next(r for r in rows if r["employee_id"] in invited and r["department"] != "Sales")
    old = mover["department"]
    mover["department"] = "Sales"
    world.write(rows)
    converge(world)
    found = teams(world)
    assert mover["employee_id"] in found["Sales"]
    assert mover["employee_id"] not in found[old], "left in the team the invitation joined"
    assert planned(world) == []


def test_team_leaves_keep_their_progress_under_a_kill(world: World) -> None:
    """Members leave a team one call each (Zoho's way): a run killed among them keeps the
    ones done, and the next run has only the rest to do."""
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    movers = [r for r in rows[10:] if r["department"] == "Engineering"][:6]
    for row in movers:
        row["department"] = "Finance"
    world.write(rows)
    app = world.app(transport=OnlyLeaves(world.transport, allowed=3))
    with pytest.raises(Killed):
        app.engine.run_apply()
    app.close()
    found = teams(world)
    gone = [r["employee_id"] for r in movers if r["employee_id"] not in found["Engineering"]]
    assert len(gone) == 3
    managed = Store(world.settings.store.url, clock=world.clock).memberships("team")
    assert not set(gone) & managed["engineering"]  # recorded as each call returned
    converge(world)
    found = teams(world)
    assert not {r["employee_id"] for r in movers} & found["Engineering"]
    assert planned(world) == []


class Killed(BaseException):
    pass


class OnlyLeaves(httpx.BaseTransport):
    """The process dies before its fourth call taking a member out of a team."""

    def __init__(self, inner: httpx.BaseTransport, *, allowed: int) -> None:
        self.inner, self.left = inner, allowed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and "/members/" in request.url.path:
            if self.left == 0:
                raise Killed
            self.left -= 1
        return self.inner.handle_request(request)


def test_the_removal_guard_does_not_hold_a_run_on_hrsyncs_own_unfinished_removals(
    world: World,
) -> None:
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    movers = [r for r in rows[10:] if r["department"] != "Finance"][:20]
    for row in movers:
        row["department"] = "Finance"
    world.write(rows)
    app = world.app()
    with pytest.raises(SafetyHold, match="--confirm-removals 20"):
        app.engine.run_apply()  # HR's news: 20 people leave their teams, past the guard
    app.close()
    app = world.app(transport=OnlyLeaves(world.transport, allowed=3))
    with pytest.raises(Killed):
        app.engine.run_apply(confirmed_removals=20)  # confirmed, then killed mid-way
    app.close()
    app = world.app()
    try:  # the rest is hrsync's own backlog, confirmed already: not held again
        report = app.engine.run_apply().report
    finally:
        app.close()
    assert report is not None and report.failed == []
    found = teams(world)
    assert all(r["employee_id"] in found["Finance"] for r in movers)
    assert planned(world) == []


class DiesWithAnswer(httpx.BaseTransport):
    """Cliq carries out the ``times``-th call of ``method`` to a path ``path`` matches; its
    answer never comes back, because the process dies (a kill) the moment it was sent."""

    def __init__(
        self, inner: httpx.BaseTransport, method: str, path: str, *, times: int = 1
    ) -> None:
        self.inner, self.method, self.path, self.left = inner, method, re.compile(path), times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if request.method == self.method and self.path.fullmatch(request.url.path):
            self.left -= 1
            if self.left == 0:
                raise Killed
        return answer


TEAM_MEMBERS = "/api/v2/teams/[^/]+/members"


def _moved(rows: list[dict[str, str]], people: list[dict[str, str]], to: str) -> None:
    for row in people:
        row["department"] = to


def test_a_team_join_in_flight_at_a_kill_is_hrsyncs_once_cliq_shows_it(world: World) -> None:
    """The join went through, its answer was lost: the next run finds the people in the
    team and records them as hrsync's, so a later move takes them out again."""
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    movers = [r for r in rows[10:] if r["department"] == "Engineering"][:4]
    _moved(rows, movers, "Finance")
    world.write(rows)
    app = world.app(transport=DiesWithAnswer(world.transport, "POST", TEAM_MEMBERS))
    with pytest.raises(Killed):
        app.engine.run_apply()  # the join into Finance is carried out, then the kill
    app.close()
    assert {r["employee_id"] for r in movers} <= teams(world)["Finance"]
    converge(world)
    assert planned(world) == []
    _moved(rows, movers, "Sales")
    world.write(rows)
    converge(world)
    found = teams(world)
    assert not {r["employee_id"] for r in movers} & found["Finance"], "left in Finance"
    assert planned(world) == []


def test_a_team_leave_cut_off_by_a_kill_is_not_kept_as_hrsyncs(world: World) -> None:
    """Cliq took the member out, the kill came before the store heard of it: the next run
    sees Cliq without them and no longer counts that membership as hrsync's."""
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    movers = [r for r in rows[10:] if r["department"] == "Engineering"][:3]
    _moved(rows, movers, "Finance")
    world.write(rows)
    app = world.app(
        transport=DiesWithAnswer(world.transport, "DELETE", f"{TEAM_MEMBERS}/[^/]+", times=2)
    )
    with pytest.raises(Killed):
        app.engine.run_apply()
    app.close()
    converge(world)
    managed = Store(world.settings.store.url, clock=world.clock).memberships("team")
    assert managed["engineering"] == teams(world)["Engineering"]  # hrsync put them all in
    assert not {r["employee_id"] for r in movers} & managed["engineering"]
    assert planned(world) == []


def test_teams_of_an_invitation_in_flight_survive_a_second_kill(world: World) -> None:
    """A killed run's invitations went through; the next run is killed as well, after it
    settled the first one's changes: the teams those invitations joined are still
    hrsync's, so a later move takes the people out."""
    world.settings.rules = RulesConfig(teams_per=["department"])
    rows = sample_employees(12)
    world.write(rows)
    app = world.app(transport=DiesAfterInviting(world.transport))
    with pytest.raises(KeyboardInterrupt):
        app.engine.run_apply()
    app.close()
    invited = {u["employee_id"] for u in cast(Any, world.state())["users"] if u.get("employee_id")}
    app = world.app(transport=DiesWithAnswer(world.transport, "POST", "/api/v2/users"))
    with pytest.raises(Killed):
        app.engine.run_apply()  # the rest are invited, then this run is killed too
    app.close()
    converge(world)
    assert planned(world) == []
    mover = next(r for r in rows if r["employee_id"] in invited and r["department"] != "Sales")
    old = mover["department"]
    mover["department"] = "Sales"
    world.write(rows)
    converge(world)
    found = teams(world)
    assert mover["employee_id"] in found["Sales"]
    assert mover["employee_id"] not in found[old], "left in the team the invitation joined"
    assert planned(world) == []
