"""Record events: an HR system's webhook named a record hrsync has not read yet (a joiner),
so its employee id is not known (``service/vendor_hooks.py``). Before a run for HR events,
the scheduler reads HR once (changed since the last read) and turns each record event into
an event for the employee the record turned out to be; a record HR's answer does not hold
yet is tried again, with the event queue's growing waits, until it gives up."""

from __future__ import annotations

import logging
from collections.abc import Callable

from hrsync.errors import HrsyncError
from hrsync.store import Store
from hrsync.store.events import EventRecord

log = logging.getLogger(__name__)
RECORD = ":record"  # the end of a record event's sender ("bamboohr:record")


def is_record_event(event: EventRecord) -> bool:
    return event.sender.endswith(RECORD)


def resolve_records(
    store: Store,
    events: list[EventRecord],
    *,
    read: Callable[[], object],
    employee_ids: Callable[[list[str]], dict[str, str]],
) -> int:
    """Read HR once (``read``), then queue an event for each record's employee
    (``employee_ids`` maps record ids as the read kept them) and settle the record events:
    ``done`` once mapped, ``retry`` when HR's answer does not hold the record yet or the read
    failed. How many people were queued."""
    try:
        read()
    except HrsyncError as problem:
        why = f"reading HR for the records named failed: {problem}"
        store.settle_events({e.id: ("retry", why) for e in events}, run_id=None)
        log.warning("%s", why, extra={"integration": store.integration})
        return 0
    found = employee_ids([e.employee_id for e in events])
    people = list(dict.fromkeys(found[e.employee_id] for e in events if e.employee_id in found))
    by_vendor: dict[str, list[str]] = {}
    for event in events:
        if event.employee_id in found:
            by_vendor.setdefault(event.sender.removesuffix(RECORD), []).append(
                found[event.employee_id]
            )
    for sender, named in by_vendor.items():  # queued before the record events are settled
        store.queue_events(list(dict.fromkeys(named)), sender=sender)
    store.settle_events(
        {
            e.id: (
                ("done", f"record {e.employee_id} is employee {found[e.employee_id]}")
                if e.employee_id in found
                else ("retry", f"HR's answer holds no record {e.employee_id} yet")
            )
            for e in events
        },
        run_id=None,
    )
    log.info(
        "%d of %d records named by HR's webhook read and queued",
        len([e for e in events if e.employee_id in found]),
        len(events),
        extra={"integration": store.integration},
    )
    return len(people)
