"""HR events live in the store from the 202 on: in the order they arrived, until a run settles
them; a person whose change failed is tried again after a growing wait, then given up and
shown as failed. What a run made of its events, person by person."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sqlalchemy_event

from hrsync.clock import VirtualClock
from hrsync.service.events import settled
from hrsync.service.scheduler import RunResult
from hrsync.store import Store
from hrsync.store.events import GIVE_UP, EventRecord
from hrsync.sync.plan import Plan, TeamMembers, UpdateUser
from hrsync.sync.scope import for_people

NOW = 1_790_000_000.0
KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'hrsync.db'}"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
def hr(store_url: str, clock: VirtualClock) -> Iterator[Store]:
    store = Store(store_url, clock=clock, integration="hr")
    yield store
    store.close()


def states(store: Store) -> dict[str, tuple[str, int]]:
    return {e.employee_id: (e.state, e.attempts) for e in store.events()}


def test_events_wait_in_the_order_they_arrived_for_each_integration(
    hr: Store, store_url: str, clock: VirtualClock
) -> None:
    other = Store(store_url, clock=clock, integration="payroll")
    try:
        first = hr.queue_events(["E3", "E1"])
        clock.advance(1)
        other.queue_events(["P1"])
        later = hr.queue_events(["E2"])
        assert first[0] < first[1] < later[0]
        assert [e.employee_id for e in hr.due_events()] == ["E3", "E1", "E2"]
        assert [e.employee_id for e in other.due_events()] == ["P1"]
        assert hr.due_event_integrations() == ["hr", "payroll"]  # the oldest event first
        assert hr.next_event_at() == NOW
    finally:
        other.close()


def test_a_failed_person_is_tried_again_later_and_then_given_up(
    hr: Store, clock: VirtualClock
) -> None:
    [done, failing, unknown] = hr.queue_events(["E1", "E2", "E9"])
    hr.settle_events(
        {
            done: ("done", ""),
            failing: ("retry", "user:E2:update: Cliq answered 500"),
            unknown: ("refused", "employee E9 is not in the HR source"),
        },
        run_id=7,
    )
    assert states(hr) == {"E1": ("done", 1), "E2": ("queued", 1), "E9": ("refused", 1)}
    assert hr.due_events() == []  # E2 waits before its next try
    waits = []
    for _ in range(GIVE_UP - 1):
        [event] = [e for e in hr.events() if e.state == "queued"]
        waits.append(event.next_try_at - clock.now())
        assert event.reason == "user:E2:update: Cliq answered 500" and event.run_id in (7, 8)
        clock.advance(waits[-1] - 1)
        assert hr.due_events() == []
        clock.advance(1)
        assert [e.id for e in hr.due_events()] == [failing]
        hr.settle_events({failing: ("retry", "user:E2:update: Cliq answered 500")}, run_id=8)
    assert waits == sorted(waits) and waits[0] == 30 and waits[-1] == 3600
    assert states(hr)["E2"] == ("failed", GIVE_UP)
    assert hr.due_events() == [] and hr.next_event_at() is None


def test_only_a_queued_event_is_settled(hr: Store) -> None:
    [event] = hr.queue_events(["E1"])
    hr.settle_events({event: ("done", "")}, run_id=1)
    hr.settle_events({event: ("retry", "a late worker's view")}, run_id=2)
    [kept] = hr.events()
    assert (kept.state, kept.run_id, kept.reason) == ("done", 1, "")


def test_settled_events_are_forgotten_after_a_week_and_queued_ones_never(
    hr: Store, clock: VirtualClock
) -> None:
    [done, waiting] = hr.queue_events(["E1", "E2"])
    hr.settle_events({done: ("done", "")}, run_id=1)
    clock.advance(8 * 86400)
    hr.queue_events(["E3"])
    assert sorted(states(hr)) == ["E2", "E3"]
    assert [e.id for e in hr.due_events()] == [waiting, waiting + 1]


def test_an_event_settled_late_is_kept_a_week_from_its_settling(
    hr: Store, clock: VirtualClock
) -> None:
    [late] = hr.queue_events(["E1"])
    clock.advance(8 * 86400)  # queued all along: another worker held the integration
    hr.settle_events({late: ("done", "")}, run_id=1)
    hr.queue_events(["E2"])
    assert sorted(states(hr)) == ["E1", "E2"]


def test_a_webhook_call_forgets_old_events_by_index_not_by_reading_every_event(
    tmp_path: Path, clock: VirtualClock
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=clock, integration="hr")
    sent: list[tuple[str, Any]] = []

    def keep(_connection: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        sent.append((sql, parameters))

    sqlalchemy_event.listen(store.engine, "before_cursor_execute", keep)
    try:
        store.queue_events(["E1"])
        [(sql, parameters)] = [(s, p) for s, p in sent if s.startswith("DELETE FROM hr_events")]
        with store.engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
    finally:
        store.close()
    assert [row[-1] for row in plan] == [
        "SEARCH hr_events USING INDEX ix_hr_events_state_next (state=? AND next_try_at<?)"
    ]


def event(n: int, employee_id: str) -> EventRecord:
    return EventRecord(n, "hr", employee_id, NOW, "queued", 0, NOW, None, None, "", "webhook")


def test_what_a_run_made_of_each_of_its_events() -> None:
    events = [event(1, "E1"), event(2, "E2"), event(3, "E9"), event(4, "E1")]
    people = (
        ("E9", "refused", "employee E9 is not in the HR source"),
        ("E2", "retry", "user:E2:update: Cliq answered 500"),
        ("E2", "retry", "team:Sales:join: later"),
    )
    ran = RunResult("hr", "partial", 5, people=people)
    assert settled(events, ran) == {
        1: ("done", ""),
        2: ("retry", "user:E2:update: Cliq answered 500"),
        3: ("refused", "employee E9 is not in the HR source"),
        4: ("done", ""),
    }
    assert settled(events, RunResult("hr", "stopped")) == {}  # left queued as they were
    failed = settled(events, RunResult("hr", "failed", error="the store is away"))
    assert set(failed.values()) == {("retry", "the store is away")}
    held = settled(events, RunResult("hr", "held", 9, error="would deactivate 1 of 1"))
    assert set(held.values()) == {("held", "run 9 is held: would deactivate 1 of 1")}


def test_a_run_for_events_makes_each_persons_changes_in_the_order_they_arrived() -> None:
    def update(employee_id: str) -> UpdateUser:
        return UpdateUser(employee_id, f"{employee_id}@example.com", {"mobile": ["1", "2"]})

    joins = TeamMembers("Sales", ["E1", "E3"])
    changes = [update("E1"), update("E2"), joins, update("E3"), update("E4")]
    kept = for_people(Plan(changes=changes), {"E1", "E2", "E3"}, order=["E3", "E2", "E1"])
    assert [c.key for c in kept.changes] == [
        joins.key,  # E3's share of it, and E1's
        "user:E3:update",
        "user:E2:update",
        "user:E1:update",
    ]


def test_runs_for_hr_events_of_one_integration_are_spaced_by_the_listing_limit(
    tmp_path: Path,
) -> None:
    """A stream of events makes one run each ``EVENT_GAP``, not runs back to back that spend
    the minute's listings of changed users in seconds and then wait out the minute."""
    from hrsync.service.events import EVENT_GAP
    from hrsync.service.scheduler import Scheduler

    assert 2.0 <= EVENT_GAP <= 60 / 30 * 1.5  # under 30 listings a minute, with room to spare
    scheduler = Scheduler(tmp_path / "hrsync.toml", tick=30.0)
    assert scheduler._until_next_look() == 30.0
    assert not scheduler._too_soon("hr")  # the first run goes at once
    assert scheduler._too_soon("hr")  # the next waits for the gap
    assert not scheduler._too_soon("payroll")  # another integration's own
    assert EVENT_GAP - 1 < scheduler._until_next_look() <= EVENT_GAP


def test_a_stream_of_events_wakes_the_scheduler_once_a_gap_not_at_every_call(
    tmp_path: Path,
) -> None:
    from hrsync.service.events import EVENT_GAP
    from hrsync.service.scheduler import Scheduler

    scheduler = Scheduler(tmp_path / "hrsync.toml", tick=30.0)
    scheduler.nudge("hr")
    assert scheduler.wake.is_set()  # no run yet: at once
    scheduler.wake.clear()
    assert not scheduler._too_soon("hr")  # a run for hr's events begins now
    scheduler._waiting_until = time.monotonic() + 30.0  # the loop waits a tick
    scheduler.nudge("hr")
    assert scheduler.wake.is_set()  # woken once, to wait for the gap instead
    scheduler.wake.clear()
    scheduler._waiting_until = time.monotonic() + scheduler._until_next_look()
    assert scheduler._until_next_look() <= EVENT_GAP
    for _ in range(20):  # the rest of the stream within the gap
        scheduler.nudge("hr")
    assert not scheduler.wake.is_set()


def pushed(n: int, at: float, *, debounce: float = 1.0, attempts: int = 0) -> EventRecord:
    """An event a SCIM push queued at ``at``, due a debounce later."""
    return EventRecord(n, "hr", f"E{n}", at, "queued", attempts, at + debounce, None, None, "",
                       "scim")  # fmt: skip


def test_a_stream_of_pushes_is_gathered_into_one_run_for_at_most_six_debounces() -> None:
    """As ``[source] debounce_seconds`` says: while pushes still come in, the run waits for
    them, but the first push waits at most 6 debounces; a run's worth goes at once."""
    from hrsync.service.events import GATHER_FOR, gathering
    from hrsync.store.events import MOST_DUE

    due = [pushed(1, NOW), pushed(2, NOW + 0.5)]
    assert gathering(due, True, NOW + 1.0)  # more pushes are on their way
    assert not gathering(due, False, NOW + 1.0)  # the stream paused for a debounce: go
    assert gathering(due, True, NOW + GATHER_FOR - 0.1)
    assert not gathering(due, True, NOW + GATHER_FOR)  # the first has waited long enough
    full = [pushed(n, NOW + n / 1000) for n in range(MOST_DUE)]
    assert not gathering(full, True, NOW + 1.0)  # a run takes no more than these anyway
    assert not gathering([pushed(1, NOW, debounce=0.0)], True, NOW)  # no debounce, no wait
    # An event tried again is no push: it does not wait for the stream, nor make others wait.
    retried = pushed(1, NOW - 100, debounce=130.0, attempts=1)
    assert not gathering([retried], True, NOW + 31)
    assert gathering([retried, pushed(2, NOW)], True, NOW + 1.0)


def test_pushes_waiting_are_those_whose_debounce_goes_on(
    store_url: str, clock: VirtualClock
) -> None:
    from hrsync.store.scim import ScimStore

    scim = ScimStore(store_url, clock=clock)
    hr = Store(store_url, clock=clock, integration="hr")
    try:
        assert not hr.pushes_waiting()
        with scim.writing() as connection:
            scim.queue_event(connection, "hr", "E1", wait=1.0)
        hr.queue_events(["E2"], sender="webhook")  # due at once: no push waiting
        assert hr.pushes_waiting()
        assert [e.employee_id for e in hr.due_events()] == ["E2"]
        clock.advance(1.0)
        assert not hr.pushes_waiting() and len(hr.due_events()) == 2
    finally:
        hr.close()
        scim.close()


def test_while_pushes_come_in_a_run_takes_its_people_in_whole_invitation_calls() -> None:
    from hrsync.service.events import whole_calls

    due = [pushed(n, NOW) for n in range(250)]
    assert whole_calls(due, False) == due  # the pushes paused: everyone now
    assert whole_calls(due, True) == due[:200]  # two full calls; 50 wait for the next run
    assert whole_calls(due[:60], True) == due[:60]  # fewer than a call's: they go as they are
    assert whole_calls(due[:200], True) == due[:200]
    # People, not events: a person pushed twice (created, then their manager set) is one.
    again = [*due[:150], replace(due[3], id=1000), *due[150:]]
    assert [e.id for e in whole_calls(again, True)] == [e.id for e in again[:201]]
