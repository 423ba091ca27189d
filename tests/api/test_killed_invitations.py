"""A process killed while an invitation batch is in flight: the teams the invitations named
are hrsync's once the next run finds the people in them, so a later move takes them out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import RulesConfig
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
