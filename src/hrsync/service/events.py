"""HR events in the service's runs: how often one integration's events run, when a run of
everyone gives way to them, and what a run made of each event (``Store.settle_events``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hrsync.api.ratelimit import ZOHO_LIMITS
from hrsync.store import Store
from hrsync.store.events import MOST_DUE, EventRecord
from hrsync.sync.apply import ApplyReport
from hrsync.sync.plan import Plan
from hrsync.targets.cliq.invite import BATCH as INVITE_BATCH

if TYPE_CHECKING:
    from hrsync.service.scheduler import RunResult

EVENT_ROUNDS = 10  # runs for HR events one look makes per integration, at most
# Seconds between the starts of two runs for HR events of one integration. Each run reads the
# users Cliq changed since the last read (30 such listings a minute); back to back, a stream
# of events spends the minute's listings in seconds and the next run waits out the rest of
# the minute, while the events pile up. Spaced, each run takes the events of its gap, and
# Zoho's update limit, not a listing, sets the pace.
EVENT_GAP = 60.0 / (ZOHO_LIMITS["users.list"].per_minute * 0.8)


# A stream of pushes ([source] debounce_seconds): the first waits at most this many debounces
# for the rest, as the setting says, then a run takes what came.
GATHER_FOR = 6


def gathering(due: list[EventRecord], pushes_waiting: bool, now: float) -> bool:
    """Whether a run for ``due`` events should wait for the pushes still coming in (one of
    them not due yet): while fewer than a run takes are due and the first of them was
    pushed less than ``GATHER_FOR`` debounces ago. Each run then takes a stream's people
    together, not the few of each gap between runs: their invitations go 100 a call, not a
    part-filled call per run, each of which spends one of Zoho's 5 a minute."""
    fresh = [e for e in due if e.attempts == 0]
    if not pushes_waiting or not fresh or len(due) >= MOST_DUE:
        return False
    first = fresh[0]
    debounce = first.next_try_at - first.received_at
    return now < first.received_at + GATHER_FOR * debounce


def whole_calls(due: list[EventRecord], pushes_waiting: bool) -> list[EventRecord]:
    """The events a run takes of ``due`` while pushes still come in: those of the first
    people in whole invitation calls (100 a call), the rest left for the next run with the
    pushes to come, rather than invited in a part-filled call now (full or not, a call is one
    of Zoho's 5 a minute). All of them once the pushes pause, or if fewer than a call's."""
    if not pushes_waiting:
        return due
    people: set[str] = set()
    cut = len(due)
    for n, event in enumerate(due):
        if event.employee_id not in people:
            if len(people) % INVITE_BATCH == 0:
                cut = n  # the first event of a call that might not be filled
            people.add(event.employee_id)
    if len(people) % INVITE_BATCH == 0 or len(people) < INVITE_BATCH:
        return due
    return due[:cut]


class GiveWay:
    """Whether a run of everyone should stop between two changes for the HR events that
    came in: once it has applied for ``AFTER`` seconds, and an event of its integration is
    due (the store is asked at most once a second)."""

    AFTER = 10.0

    def __init__(self, store: Store, started: float) -> None:
        self.store, self.started, self.asked = store, started, 0.0

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.started < self.AFTER or now - self.asked < 1.0:
            return False
        self.asked = now
        return bool(self.store.due_events(limit=1))


def people_outcomes(plan: Plan, report: ApplyReport) -> tuple[tuple[str, str, str], ...]:
    """Of the people a run for HR events named: those refused, and those with a change that
    was not confirmed (to try again), each with why."""
    found = [(employee_id, "refused", why) for employee_id, why in sorted(plan.refused.items())]
    for change in plan.changes:
        if change.key in report.confirmed:
            continue
        why = report.why.get(change.key, "not confirmed")
        people = getattr(change, "employee_ids", None) or [getattr(change, "employee_id", "")]
        found += [
            (employee_id, "retry", f"{change.key}: {why}") for employee_id in people if employee_id
        ]
    return tuple(found)


def settled(events: list[EventRecord], result: RunResult) -> dict[int, tuple[str, str]]:
    """What a run made of each of its events: event id → (state, why) for
    ``Store.settle_events``; nothing for a run that stopped (its events stay queued)."""
    if result.outcome == "stopped":
        return {}
    if result.outcome == "held":
        return {e.id: ("held", f"run {result.run_id} is held: {result.error}") for e in events}
    if result.outcome == "failed":
        return {e.id: ("retry", result.error) for e in events}
    said: dict[str, tuple[str, str]] = {}
    for employee_id, state, why in result.people:  # refused above all, else the first why
        if employee_id not in said or state == "refused":
            said[employee_id] = (state, why)
    return {e.id: said.get(e.employee_id, ("done", "")) for e in events}
