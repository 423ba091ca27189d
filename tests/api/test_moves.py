"""Movers go by the department's and designation's member calls, 100 to a call (seed 000),
not one user update each; where Zoho People owns the groups, hrsync stops and says so."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from hrsync.cli.demo import sample_employees
from tests.conftest import BASE, World
from tests.support import assert_matches_export, cliq_users, converge, planned


class Spy(httpx.BaseTransport):
    """Counts the writes that reach the emulator, by method and the path's kind."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.writes: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method != "GET" and path.startswith("/api/"):
            kind = "/".join(p if not p.isdigit() else "{id}" for p in path.split("/"))
            self.writes[f"{request.method} {kind}"] += 1
        return self.inner.handle_request(request)


def test_movers_go_a_hundred_to_a_member_call(world: World) -> None:
    rows = sample_employees(400)
    world.write(rows)
    converge(world)
    for row in rows[40:190]:  # 150 movers to one department and designation
        row["department"], row["designation"] = "Support", "Support Specialist"
    rows[200]["department"] = "Finance" if rows[200]["department"] != "Finance" else "Sales"
    rows[201]["mobile"], rows[201]["department"] = "+1 555 9999", "Legal"
    world.write(rows)
    app = world.app(dry_run=True)
    plan, _, _ = app.engine.plan()
    app.close()
    calls = plan.api_calls()
    assert calls["users.update"] == 1  # only the mover whose mobile changed too
    creates = plan.counts()["create_department"]
    assert creates == 1  # Legal
    assert calls["departments"] == 2 + 1 + 1 + creates  # Support ×150, Finance/Sales, Legal
    spy = Spy(world.transport)
    converge(world, transport=spy)
    assert spy.writes["PUT /api/v2/users/{id}"] == 1
    moves = {k: v for k, v in spy.writes.items() if k.endswith("/members")}
    assert moves == {
        "POST /api/v2/departments/{id}/members": 2 + 1 + 1,
        "POST /api/v2/designations/{id}/members": 2,
    }
    assert_matches_export(world, rows)
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0


def test_member_calls_refused_because_people_owns_the_groups_stop_and_are_said(
    world: World,
) -> None:
    rows = sample_employees(60)
    world.write(rows)
    converge(world)
    for row in rows[40:45]:
        row["department"] = "Finance" if row["department"] != "Finance" else "Sales"
    rows[44]["mobile"] = "+1 555 0000"
    world.write(rows)
    app = world.app()
    listed = app.engine.target.inventory

    def then_people_takes_over(**how: Any) -> Any:
        inventory = listed(**how)
        world.http.post(f"{BASE}/_emulator/config", json={"people_managed": True})
        return inventory

    app.engine.target.inventory = then_people_takes_over  # type: ignore[method-assign]
    outcome = app.engine.run_apply()
    app.close()
    report = outcome.report
    assert report is not None and report.groups_by_people and report.failed == []
    assert [n for n in report.notes if "Zoho People manages them" in n]
    assert len(report.skipped) == 4  # the pure movers; the fifth still gets its mobile
    assert cliq_users(world)[rows[44]["employee_id"]]["mobile"] == "+1 555 0000"
