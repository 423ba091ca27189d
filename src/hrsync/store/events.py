"""HR events: the people a webhook call (or the admin page's "sync now") names, kept in the
store from the moment hrsync answers 202 until a run has settled them, so a restart, a kill
or another worker taking the integration over loses none. Part of the store, kept apart
because only the service uses it.

An event is ``queued`` until a run settles it: ``done`` once that person's changes were
confirmed (or none were needed), ``refused`` when HR has no such person, ``held`` when a guard
held the run (approving it applies them), and queued again with a growing wait when their
change failed, until ``GIVE_UP`` tries have failed (then ``failed``, for an admin to see)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Delete, Engine, RowMapping, delete, func, insert, select, update

from hrsync.clock import Clock
from hrsync.store.tables import HrEvent

RETRY_AFTER = (30.0, 120.0, 600.0, 1800.0, 3600.0)  # seconds before try 2, 3, …; then hourly
GIVE_UP = 8  # tries before an event is left ``failed``
KEEP = 7 * 86400.0  # seconds a settled event is kept, for the admin page and ``explain``
SETTLED = ("done", "refused", "held", "failed")  # the states a run leaves an event in
MOST_DUE = 1000  # events one run takes (the others wait for the next)
EVENTS = HrEvent.__table__


@dataclass(frozen=True)
class EventRecord:
    id: int
    integration: str
    employee_id: str
    received_at: float
    state: str
    attempts: int
    next_try_at: float
    settled_at: float | None
    run_id: int | None
    reason: str
    sender: str


def retry_after(attempts: int) -> float:
    """Seconds to wait before trying again an event that has failed ``attempts`` times."""
    return RETRY_AFTER[min(attempts, len(RETRY_AFTER)) - 1]


class EventQueue:
    """The store's HR events; ``Store`` provides the engine, clock and integration."""

    engine: Engine
    integration: str
    _clock: Clock

    def queue_events(self, employee_ids: Sequence[str], *, sender: str = "webhook") -> list[int]:
        """Keep one event per person named (in the order given), in one transaction; their
        ids, in the order of arrival. Forgets events settled more than ``KEEP`` ago."""
        now = self._clock.now()
        rows = [
            {
                "integration": self.integration,
                "employee_id": employee_id,
                "received_at": now,
                "state": "queued",
                "attempts": 0,
                "next_try_at": now,
                "reason": "",
                "sender": sender,
            }
            for employee_id in employee_ids
        ]
        if not rows:
            return []
        with self.engine.begin() as connection:
            connection.execute(_forget_settled_before(now - KEEP))
            return [
                int(row[0])
                for row in connection.execute(insert(HrEvent).returning(HrEvent.id), rows)
            ]

    def due_event_integrations(self) -> list[str]:
        """Integrations with events due now, the one whose oldest due event came first first."""
        query = (
            select(HrEvent.integration)
            .where(HrEvent.state == "queued", HrEvent.next_try_at <= self._clock.now())
            .group_by(HrEvent.integration)
            .order_by(func.min(HrEvent.id))
        )
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def due_events(self, limit: int = MOST_DUE) -> list[EventRecord]:
        """This integration's events due now, in the order they arrived."""
        query = (
            select(EVENTS)
            .where(
                HrEvent.integration == self.integration,
                HrEvent.state == "queued",
                HrEvent.next_try_at <= self._clock.now(),
            )
            .order_by(HrEvent.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def pushes_waiting(self) -> bool:
        """Whether an event of this integration a push queued is not due yet: pushes are
        still coming in (an event tried again waits for its retry, not for more pushes)."""
        query = (
            select(HrEvent.id)
            .where(
                HrEvent.integration == self.integration,
                HrEvent.state == "queued",
                HrEvent.attempts == 0,
                HrEvent.next_try_at > self._clock.now(),
            )
            .limit(1)
        )
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def next_event_due_later(self) -> float | None:
        """When the next queued event not due yet becomes due (a push's debounce, a retry's
        wait), of any integration (None: every queued event is due already, or none is)."""
        query = select(func.min(HrEvent.next_try_at)).where(
            HrEvent.state == "queued", HrEvent.next_try_at > self._clock.now()
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else float(found)

    def next_event_at(self) -> float | None:
        """When the next queued event of any integration is due (None: none is queued)."""
        query = select(func.min(HrEvent.next_try_at)).where(HrEvent.state == "queued")
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else float(found)

    def settle_events(self, outcomes: Mapping[int, tuple[str, str]], *, run_id: int | None) -> None:
        """What a run made of its events: event id → (state, reason), the state one of
        ``done``, ``refused``, ``held`` or ``retry`` (queued again after a wait that grows with
        each try, or ``failed`` after ``GIVE_UP``). Only events still queued are settled."""
        now = self._clock.now()
        with self.engine.begin() as connection:
            tried = dict(
                connection.execute(
                    select(HrEvent.id, HrEvent.attempts).where(
                        HrEvent.id.in_(list(outcomes)), HrEvent.state == "queued"
                    )
                ).all()
            )
            for event_id, (state, reason) in outcomes.items():
                if event_id not in tried:
                    continue
                attempts = tried[event_id] + 1
                values: dict[str, object] = {"attempts": attempts, "run_id": run_id}
                values["reason"] = reason
                if state == "retry" and attempts < GIVE_UP:
                    values["next_try_at"] = now + retry_after(attempts)
                else:
                    values["state"] = "failed" if state == "retry" else state
                    values["settled_at"] = now
                connection.execute(
                    update(HrEvent)
                    .where(HrEvent.id == event_id, HrEvent.state == "queued")
                    .values(values)
                )

    def events(self, *, limit: int = 50, employee_id: str = "") -> list[EventRecord]:
        """This integration's latest events (of one person, when given), newest first."""
        query = select(EVENTS).where(HrEvent.integration == self.integration)
        if employee_id:
            query = query.where(HrEvent.employee_id == employee_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(HrEvent.id.desc()).limit(limit)).mappings()
            return [_record(row) for row in rows]


def _forget_settled_before(cutoff: float) -> Delete:
    """Events settled before ``cutoff``. Sent with every webhook call, under the store's write
    lock, so it goes by the (state, next_try_at) index to the old events alone, not through
    a week of them: an event is settled only once due, so its next try came before it was
    settled, and one settled before ``cutoff`` was due before it too."""
    return delete(HrEvent).where(
        HrEvent.state.in_(SETTLED), HrEvent.next_try_at < cutoff, HrEvent.settled_at < cutoff
    )


def _record(row: RowMapping) -> EventRecord:
    return EventRecord(**{name: row[name] for name in EventRecord.__dataclass_fields__})
