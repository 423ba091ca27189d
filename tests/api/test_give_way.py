"""A long run of everyone gives way to HR events: between two changes it stops, leaving the
changes it never sent for the run that goes on after the events, which plans them again
from what hrsync knows of Cliq, without reading anyone again and without doing anything
twice. A run for HR events syncs the known people in the order the events came, and refuses
one HR does not have alone."""

from __future__ import annotations

import datetime as dt

import httpx

from hrsync.cli.demo import sample_employees
from hrsync.sync.runs import YIELDED
from tests.conftest import World
from tests.support import cliq_users, converge


class Updates(httpx.BaseTransport):
    """Counts the user updates (PUT /api/v2/users/…) and reads (GET /api/v2/users…)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.updated, self.read = inner, [], 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "PUT" and path.startswith("/api/v2/users/"):
            self.updated.append(path.rsplit("/", 1)[1])
        if request.method == "GET" and path.startswith("/api/v2/users"):
            self.read += 1
        return self.inner.handle_request(request)


def test_a_run_gives_way_between_two_changes_and_the_next_one_does_the_rest_once(
    world: World,
) -> None:
    rows = sample_employees(40)
    world.write(rows)
    converge(world)
    for n, row in enumerate(rows[:12]):
        row["mobile"] = f"+1 555 01{n:02d}"
    world.write(rows)

    asked = []

    def after_five() -> bool:
        asked.append(1)
        return len(asked) > 5

    spy = Updates(world.transport)
    app = world.app(transport=spy)
    app.engine.give_way = after_five
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.report is not None and outcome.report.gave_way
    made = len(spy.updated)
    assert 0 < made < 12  # it stopped between two changes
    run = app.engine.store.run(outcome.run_id)
    assert run is not None and run.status == YIELDED
    journal = app.engine.store.journal(outcome.run_id)
    assert {e.state for e in journal} == {"confirmed", "skipped"}  # nothing left open
    left = [e for e in journal if e.state == "skipped"]
    assert len(left) == 12 - made and all("HR events" in e.error for e in left)

    spy = Updates(world.transport)
    app = world.app(transport=spy)
    rest = app.engine.run_apply()
    app.close()
    assert len(spy.updated) == 12 - made and spy.read == 1  # the rest, once; one read
    assert rest.report is not None and rest.report.ok and not rest.report.gave_way
    assert "changed since the last read" in rest.plan.cliq_read  # not a full read
    users = cliq_users(world)
    assert [users[r["employee_id"]].get("mobile") for r in rows[:12]] == [
        r["mobile"] for r in rows[:12]
    ]


def test_a_run_for_hr_events_goes_in_their_order_and_refuses_an_unknown_person_alone(
    world: World,
) -> None:
    rows = sample_employees(30)
    world.write(rows)
    converge(world)
    named = [rows[20]["employee_id"], "E99999", rows[3]["employee_id"], rows[11]["employee_id"]]
    for row in rows:
        row["mobile"] = "+1 555 0199"  # everyone changed; only those named are synced
    world.write(rows)
    spy = Updates(world.transport)
    app = world.app(transport=spy)
    app.engine.only = frozenset(named)
    app.engine.events = tuple(named)
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.plan.refused == {
        "E99999": "employee E99999 is not in the HR source, and hrsync manages no Cliq user "
        "for them"
    }
    users = cliq_users(world)
    zuids = [users[e]["id"] for e in named if e != "E99999"]
    assert spy.updated == zuids  # in the order the events came
    run = app.engine.store.run(outcome.run_id)
    assert run is not None and run.status == "succeeded"
    assert run.summary["refused"] == outcome.plan.refused


class Calls(httpx.BaseTransport):
    """The calls a run sends, as (method, first part of the path after /api/v2/)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.sent = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path.split("/api/v2/")[-1].split("/")[0]))
        return self.inner.handle_request(request)


def event_run(world: World, employee_id: str) -> list[tuple[str, str]]:
    calls = Calls(world.transport)
    app = world.app(transport=calls)
    app.engine.only = frozenset({employee_id})
    app.engine.events = (employee_id,)
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.report is not None and outcome.report.ok
    return calls.sent


def test_a_run_for_an_hr_event_lists_departments_only_when_it_writes_one(world: World) -> None:
    rows = sample_employees(30)
    world.write(rows)
    converge(world)
    event_run(world, rows[0]["employee_id"])  # the listing after the sync that made them
    rows[7]["mobile"] = "+1 555 0707"
    world.write(rows)
    assert event_run(world, rows[7]["employee_id"]) == [("GET", "users"), ("PUT", "users")]
    rows[8]["department"] = "Legal"  # a mover into a new department: listed, then made
    rows[9]["department"] = rows[2]["department"]  # one into a department Cliq has
    world.write(rows)
    moved = event_run(world, rows[8]["employee_id"])
    assert moved[:3] == [("GET", "users"), ("GET", "departments"), ("GET", "designations")]
    assert ("POST", "departments") in moved
    moved = event_run(world, rows[9]["employee_id"])
    assert ("GET", "departments") in moved  # made by the last run: listed again for its id
    users = cliq_users(world)
    assert users[rows[8]["employee_id"]]["department"]["name"] == "Legal"
    assert users[rows[9]["employee_id"]]["department"]["name"] == rows[2]["department"]
    assert users[rows[7]["employee_id"]]["mobile"] == "+1 555 0707"


def test_an_hr_event_for_someone_who_starts_later_is_not_refused(world: World) -> None:
    rows = sample_employees(10)
    world.write(rows)
    converge(world)
    today = dt.datetime.fromtimestamp(world.clock.now(), dt.UTC).date()
    joiner = sample_employees(11)[10] | {"hire_date": (today + dt.timedelta(days=9)).isoformat()}
    world.write([*rows, joiner])
    app = world.app()
    app.engine.only = frozenset({joiner["employee_id"]})
    app.engine.events = (joiner["employee_id"],)
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.plan.refused == {} and outcome.plan.changes == []  # invited when due
    assert joiner["employee_id"] not in cliq_users(world)
