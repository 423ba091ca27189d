"""The resident scheduler of ``hrsync serve``: every enabled integration runs when its
schedule says, one run at a time, and a stop (SIGTERM) ends the run before its next call to
Zoho. The journal has every change the run intended; the next run re-plans what was not
confirmed, as after any interrupted run.

Several services may share one store (PostgreSQL): each run is made under a lease on its
integration (``service.claims``), and whether it is still due is asked again once the lease
is held, so each scheduled run is made once, by one worker. Integrations whose latest run did
not finish go first, without waiting for their schedule."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hrsync.access.connections import Connections
from hrsync.access.integrations import Integrations
from hrsync.access.vault import Vault
from hrsync.api.http import ZohoHttp
from hrsync.clock import RealClock
from hrsync.config import Settings, load_settings
from hrsync.errors import HrsyncError, SafetyHold
from hrsync.logcontext import bound
from hrsync.service.claims import Hold, LeaseGate, LeaseLost, LeaseWatch, held
from hrsync.service.events import (
    EVENT_GAP,
    EVENT_ROUNDS,
    GiveWay,
    gathering,
    people_outcomes,
    settled,
    whole_calls,
)
from hrsync.service.progress import LiveProgress
from hrsync.service.record_events import is_record_event, resolve_records
from hrsync.service.stopping import StopGate, StoppableClock, Stopping
from hrsync.store import Store
from hrsync.store.db import this_process
from hrsync.store.events import EventRecord
from hrsync.sync.apply import ApplyReport
from hrsync.sync.pending import pending_actions
from hrsync.sync.plan import Plan
from hrsync.sync.runs import YIELDED, HeldRun
from hrsync.wiring import build

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """One scheduled run, as the service saw it end."""

    integration: str
    outcome: str  # succeeded | partial | yielded (gave way to HR events) | held | failed | stopped
    run_id: int | None = None
    applied: int = 0
    failed: int = 0
    error: str = ""
    calls: tuple[tuple[str, int], ...] = ()  # API calls by endpoint group
    throttled: tuple[tuple[str, int], ...] = ()  # answers that began a lock period, by group
    waited: tuple[tuple[str, float], ...] = ()  # seconds paced before calls, by group
    kinds: tuple[tuple[str, str, int], ...] = ()  # changes by kind and state
    pending: tuple[str, ...] = ()  # the pending actions the run left (an admin's tasks)
    stalled: int = 0  # changes held as stalled: made 3 times, each "done", Cliq still differs
    # Of a run for HR events: (employee id, "refused" | "retry", why) of each person named
    # that HR cannot sync or whose change was not confirmed; the others are done.
    people: tuple[tuple[str, str, str], ...] = ()


class Scheduler:
    """Checks every ``tick`` seconds which integrations are due, and runs them in turn."""

    def __init__(
        self,
        config: Path,
        *,
        tick: float = 30.0,
        on_result: Callable[[RunResult], None] = lambda result: None,
        on_due: Callable[[int], None] = lambda waiting: None,
        on_start: Callable[[list[ZohoHttp]], None] = lambda services: None,
        lease: float = 60.0,
        minute: float = 60.0,
    ) -> None:
        self.config = config
        self.tick = tick
        self.lease = lease  # seconds a claim on an integration lasts unless renewed
        self.minute = minute  # seconds a schedule's minute lasts (shorter only in tests)
        self.worker = this_process()
        self.hold: Hold | None = None  # the lease of the run in progress
        self._looked = False  # whether the first look for unfinished runs was made
        self.on_result = on_result
        self.on_due = on_due
        self.on_start = on_start  # a run begins, with its clients (whose calls count live)
        self.stop_event = threading.Event()
        self.wake = threading.Event()  # an HR event was queued, or a held run approved
        self.approvals: list[tuple[str, HeldRun, frozenset[str]]] = []  # held plans to apply
        self.requested: list[str] = []  # integrations an admin asked to run now
        self._queue_lock = threading.Lock()
        self.running: str = ""  # the integration running now
        self.progress: LiveProgress | None = None  # how far its run has come
        self.checked_at: float | None = None  # when the schedules were last read
        self._event_runs: dict[str, float] = {}  # integration → its last run for HR events
        self._look_again: float | None = None  # when events held back by the gap are due
        self._waiting_until = 0.0  # when the loop's wait ends (0: it is not waiting)
        self._http = httpx.Client(timeout=30)  # the looks' client, for the scheduler's life
        self._thread: threading.Thread | None = None
        # Leases other workers let run out wake the loop at once, whatever ``tick`` says.
        self.watch = LeaseWatch(
            lambda: load_settings(self.config).store.url,
            self.wake,
            owner=self.worker,
            seconds=lease,
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hrsync-scheduler", daemon=True)
        self._thread.start()
        threading.Thread(
            target=self.watch.run, args=(self.stop_event,), name="hrsync-lease-watch", daemon=True
        ).start()

    def enqueue(
        self, integration: str, employee_ids: Iterable[str], *, sender: str = "page"
    ) -> list[int]:
        """Sync these people of ``integration`` as soon as the run in progress ends: kept in
        the store (one event per person) before this returns; the events' ids."""
        store = Store(
            load_settings(self.config).store.url, clock=RealClock(), integration=integration
        )
        try:
            queued = store.queue_events(list(employee_ids), sender=sender)
        finally:
            store.close()
        self.nudge()
        return queued

    def nudge(self, integration: str = "") -> None:
        """Look at the queued events now, not at the next tick; while ``integration``'s gap
        between two runs for events goes on, once the gap ends (a stream of events does not
        wake the scheduler at every call for nothing)."""
        due = self._event_runs.get(integration, -EVENT_GAP) + EVENT_GAP if integration else 0.0
        if time.monotonic() < due:
            with self._queue_lock:
                self._look_again = due if self._look_again is None else min(self._look_again, due)
                if 0.0 < self._waiting_until <= due:
                    return  # the scheduler waits, and looks by then anyway
        self.wake.set()

    def approve(self, integration: str, held: HeldRun, *, only: Iterable[str] = ()) -> None:
        """Apply ``held``'s plan (of ``only`` these people, as it was held) as soon as the run
        in progress ends; nothing is applied if the plan changed since."""
        with self._queue_lock:
            self.approvals.append((integration, held, frozenset(only)))
        self.wake.set()

    def run_now(self, integration: str) -> None:
        """Run ``integration`` as soon as the run in progress ends, whatever its schedule
        says (under its lease, as every run: one run of an integration at a time)."""
        with self._queue_lock:
            if integration not in self.requested:
                self.requested.append(integration)
        self.wake.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the run in progress to end before its next call; True once it has."""
        self.stop_event.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.run_queued()
                self.run_interrupted()
                self.run_due()
            except Stopping:
                break
            except Exception:  # a bug must not end the service: said, and tried next tick
                log.exception("checking the schedules failed")
            with self._queue_lock:
                wait = self._until_next_look()
                self._waiting_until = time.monotonic() + wait
            self.wake.wait(wait)
            self._waiting_until = 0.0  # looking, or running: a nudge wakes the next wait
            self.wake.clear()
        self._http.close()

    def _until_next_look(self) -> float:
        """Seconds to wait for a wake before the next look: a tick, or less when HR events
        wait for their integration's next run to be due (``EVENT_GAP``)."""
        if self._look_again is None:
            return self.tick
        return max(0.0, min(self.tick, self._look_again - time.monotonic()))

    def run_queued(self) -> None:
        """Approved held runs, then the HR events due (kept in the store: those this or any
        process took, and those an earlier run left to try again), the people of one
        integration in one run, in the order their events arrived."""
        with self._queue_lock:
            approved, self.approvals = self.approvals, []
        if approved:
            base = load_settings(self.config)
            with integrations_of(base, self._http) as integrations:
                for name, plan, only in approved:
                    if self.stop_event.is_set():
                        break
                    ran = self._run_held(integrations, name, base, only=only, approves=plan)
                    if ran is None:  # another worker runs it now: the approval waits a tick
                        with self._queue_lock:
                            self.approvals.append((name, plan, only))
        self._run_requested()
        base = load_settings(self.config)
        self._look_again = None
        with integrations_of(base, self._http) as integrations:
            try:
                self._event_rounds(integrations, base)
            finally:
                self._look_when_due(integrations.store)

    def _run_requested(self) -> None:
        """The runs an admin asked for ("Run now"); one another worker is making waits for
        the next look, and is made then (the admin asked after that run began)."""
        with self._queue_lock:
            asked, self.requested = self.requested, []
        if not asked:
            return
        base = load_settings(self.config)
        with integrations_of(base, self._http) as integrations:
            for name in asked:
                if self.stop_event.is_set():
                    break
                ran = self._run_held(integrations, name, base)
                ran = self._go_on(integrations, name, base, ran)
                if ran is None:
                    with self._queue_lock:
                        if name not in self.requested:
                            self.requested.append(name)

    def _event_rounds(self, integrations: Integrations, base: Settings) -> None:
        for _ in range(EVENT_ROUNDS):  # those that came in meanwhile, or beyond one run's
            went = False
            for name in integrations.store.due_event_integrations():
                if self.stop_event.is_set():
                    return
                if self._too_soon(name):
                    continue
                went = self._run_events(integrations, name, base) or went
            if not went:
                return

    def _look_when_due(self, store: Store) -> None:
        """Events not due yet (a push waits its debounce, a failed change its retry) are
        looked at once due, not at the next tick."""
        at = store.next_event_due_later()
        if at is None:
            return
        later = time.monotonic() + max(0.0, at - time.time()) + 0.05
        with self._queue_lock:
            self._look_again = later if self._look_again is None else min(self._look_again, later)

    def _too_soon(self, name: str) -> bool:
        """Whether ``name``'s last run for HR events began less than ``EVENT_GAP`` ago: the
        events wait for the gap to pass (and the next look is set for then)."""
        now = time.monotonic()
        due = self._event_runs.get(name, -EVENT_GAP) + EVENT_GAP
        if now >= due:
            self._event_runs[name] = now
            return False
        self._look_again = due if self._look_again is None else min(self._look_again, due)
        return True

    def _run_events(self, integrations: Integrations, name: str, base: Settings) -> bool:
        """One run of ``name`` for its events due, under this worker's lease (read once the
        lease is held, so no two workers take the same events); what it made of each event
        is kept. A run that stopped leaves its events queued as they were. Whether it
        settled any event."""
        leases = integrations.store.leases(owner=self.worker, seconds=self.lease)
        with held(leases, name) as hold:
            if hold is None:  # another worker runs it now: the events wait for it or a tick
                return False
            events = Store(base.store.url, clock=RealClock(), integration=name)
            try:
                due = events.due_events()
                records = [e for e in due if is_record_event(e)]
                if records:  # records HR's webhook named that hrsync has not read yet
                    self.hold = hold
                    try:
                        self._read_records(name, base, events, records)
                    finally:
                        self.hold = None
                    due = events.due_events()
                if not due:
                    return bool(records)
                pushes_waiting = events.pushes_waiting()
                if gathering(due, pushes_waiting, events.clock.now()):
                    # pushes still come in: looked at again after a gap (``_too_soon``)
                    again = time.monotonic() + EVENT_GAP
                    self._look_again = min(self._look_again or again, again)
                    return False
                due = whole_calls(due, pushes_waiting)
                self.hold = hold
                try:
                    result = self.run_one(name, base, events=tuple(e.employee_id for e in due))
                finally:
                    self.hold = None
                outcomes = settled(due, result)
                events.settle_events(outcomes, run_id=result.run_id)
                return bool(outcomes)
            finally:
                events.close()

    def _read_records(
        self, name: str, base: Settings, events: Store, records: list[EventRecord]
    ) -> None:
        """Read ``name``'s HR once and turn its record events into events for the people
        the records are (``service/record_events.py``)."""
        from hrsync.sources.rest.source import employee_ids, source_key

        try:
            with integrations_of(base, self._http) as integrations:
                settings = integrations.runnable(name, base)
        except HrsyncError as problem:
            events.settle_events({e.id: ("retry", str(problem)) for e in records}, run_id=None)
            return
        if settings.source.kind != "rest":
            why = "the integration no longer reads an HR system's API"
            events.settle_events({e.id: ("refused", why) for e in records}, run_id=None)
            return
        app = build(
            settings,
            dry_run=False,
            integration=name,
            clock=StoppableClock(self.stop_event, self._lease_lost),
            transport=StopGate(
                LeaseGate(httpx.HTTPTransport(), self._lease_valid), self.stop_event
            ),
        )
        key = source_key(settings.source.preset)
        try:
            resolve_records(
                events,
                records,
                read=app.engine.source.read,
                employee_ids=lambda ids: employee_ids(events, key, ids),
            )
        finally:
            app.close()

    def run_interrupted(self) -> list[RunResult]:
        """Run the integrations whose latest run did not finish, without waiting for their
        schedule: at start, those whose process died or that left changes unconfirmed;
        afterwards, those of a worker that died (once its lease has expired)."""
        base = load_settings(self.config)
        first, self._looked = not self._looked, True
        reasons = ("died", "unconfirmed") if first else ("died",)
        results = []
        with integrations_of(base, self._http) as integrations:

            def unfinished(name: str) -> bool:
                why = integrations.store.interrupted(name)
                if why in reasons:  # asked once the lease is held: this worker resumes it
                    log.info(
                        "the last run of %s did not finish (%s): it runs again now",
                        name,
                        why,
                        extra={"integration": name},
                    )
                return why in reasons

            for name in integrations.interrupted(unconfirmed=first):
                if self.stop_event.is_set():
                    break
                result = self._run_held(integrations, name, base, wanted=unfinished)
                result = self._go_on(integrations, name, base, result)
                if result is not None:
                    results.append(result)
        return results

    def run_due(self) -> list[RunResult]:
        """Run every integration that is due now, oldest schedule first."""
        base = load_settings(self.config)
        results = []
        with integrations_of(base, self._http) as integrations:
            due = integrations.due(minute=self.minute)

            def due_now(name: str) -> bool:
                return integrations.is_due(name, minute=self.minute)

            self.checked_at = time.time()
            for n, name in enumerate(due):
                self.on_due(len(due) - n)
                if self.stop_event.is_set():
                    break
                result = self._run_held(integrations, name, base, wanted=due_now)
                result = self._go_on(integrations, name, base, result)
                if result is not None:
                    results.append(result)
        self.on_due(0)
        return results

    def _go_on(
        self, integrations: Integrations, name: str, base: Settings, result: RunResult | None
    ) -> RunResult | None:
        """After a run that gave way to HR events: the events, then the rest of the run."""
        while result is not None and result.outcome == YIELDED and not self.stop_event.is_set():
            self.run_queued()
            result = self._run_held(integrations, name, base)
        return result

    def _run_held(
        self,
        integrations: Integrations,
        name: str,
        base: Settings,
        *,
        wanted: Callable[[str], bool] = lambda name: True,
        only: frozenset[str] = frozenset(),
        approves: HeldRun | None = None,
    ) -> RunResult | None:
        """``name``'s run under this worker's lease on it; None when another worker holds
        the lease, or the run is no longer ``wanted`` once the lease is held (another worker
        has just made it)."""
        leases = integrations.store.leases(owner=self.worker, seconds=self.lease)
        with held(leases, name) as hold:
            if hold is None or not wanted(name):
                return None
            self.hold = hold
            try:
                return self.run_one(name, base, only=only, approves=approves)
            finally:
                self.hold = None

    def run_one(
        self,
        name: str,
        base: Settings,
        *,
        only: frozenset[str] = frozenset(),
        approves: HeldRun | None = None,
        events: tuple[str, ...] = (),
    ) -> RunResult:
        """One run of ``name`` (of ``only`` these people, or of the people HR ``events``
        named, in their order, when given), its outcome whatever happens (a bug is logged,
        not raised)."""
        self.running = name
        if events:
            only = frozenset(events)
        who = f" for {len(only)} people" if only else ""
        log.info("run of %s%s starts", name, who, extra={"integration": name})
        try:
            with bound(integration=name):
                result = self._run(name, base, only, approves, events)
        except LeaseLost as lost:
            result = RunResult(name, "stopped", error=str(lost))
        except Stopping:
            result = RunResult(name, "stopped", error="the service stopped before it finished")
            self.on_result(result)
            raise
        except Exception as exc:
            log.exception("run of %s failed", name, extra={"integration": name})
            result = RunResult(name, "failed", error=str(exc) or type(exc).__name__)
        finally:
            self.running = ""
            self.progress = None
        log.info(
            "run of %s: %s", name, result.outcome, extra={"integration": name, "run": result.run_id}
        )
        self.on_result(result)
        return result

    def _run(
        self,
        name: str,
        base: Settings,
        only: frozenset[str],
        approves: HeldRun | None,
        events: tuple[str, ...] = (),
    ) -> RunResult:
        try:
            with integrations_of(base, self._http) as integrations:
                settings = integrations.runnable(name, base)
        except HrsyncError as problem:
            return RunResult(name, "failed", error=str(problem))
        app = build(
            settings,
            dry_run=False,
            integration=name,
            clock=StoppableClock(self.stop_event, self._lease_lost),
            transport=StopGate(
                LeaseGate(httpx.HTTPTransport(), self._lease_valid), self.stop_event
            ),
        )
        self.on_start(app.services)
        app.engine.only = only
        app.engine.events = events
        if not only and approves is None:  # a run of everyone gives way to HR events
            app.engine.give_way = GiveWay(app.engine.store, time.monotonic())
        try:
            self.progress = LiveProgress(name, app.services, RealClock())
            outcome = app.engine.run_apply(approves=approves, progress=self.progress)
        except SafetyHold as hold:
            return RunResult(name, "held", hold.run_id, error=str(hold), **_traffic(app.services))
        except HrsyncError as problem:
            return RunResult(name, "failed", error=str(problem), **_traffic(app.services))
        finally:
            app.close()
        report = outcome.report
        assert report is not None
        status = "succeeded" if report.ok and not outcome.plan.errors else "partial"
        if report.gave_way:
            status = YIELDED
        return RunResult(
            name,
            status,
            outcome.run_id,
            len(report.done),
            len(report.failed),
            kinds=_kinds(outcome.plan, report),
            **_traffic(app.services),
            pending=tuple(action.action for action in pending_actions(outcome.plan)[0]),
            stalled=len(outcome.plan.stalled),
            people=people_outcomes(outcome.plan, report) if events else (),
        )

    def _lease_valid(self) -> bool:
        return self.hold is None or self.hold.valid()

    def _lease_lost(self) -> bool:
        return self.hold is not None and self.hold.lost.is_set()


@contextmanager
def integrations_of(base: Settings, client: httpx.Client | None = None) -> Iterator[Integrations]:
    """The integrations in ``base``'s store, and hrsync.toml's own (``base`` is the file's
    settings), opened for one look; on ``client`` when given (the scheduler keeps one for its
    life: a new client costs a TLS context, tens of milliseconds of CPU, at every look)."""
    store = Store(base.store.url, clock=RealClock())
    own = client is None
    http = httpx.Client(timeout=30) if client is None else client
    try:
        vault = Vault.open(base.store.key_file)
        yield Integrations(store, Connections(store, vault, http, RealClock()), toml=base)
    finally:
        if own:
            http.close()
        store.close()


def _traffic(services: list[ZohoHttp]) -> dict[str, Any]:
    """The run's calls, throttled answers and pacing waits, by endpoint group."""
    calls: Counter[str] = Counter()
    throttled: Counter[str] = Counter()
    waited: Counter[str] = Counter()
    for http in services:
        calls.update(http.calls)
        throttled.update(http.pacer.throttled)
        waited.update(http.pacer.waited)
    return {
        "calls": tuple(sorted(calls.items())),
        "throttled": tuple(sorted(throttled.items())),
        "waited": tuple(sorted(waited.items())),
    }


def _kinds(plan: Plan, report: ApplyReport) -> tuple[tuple[str, str, int], ...]:
    """How many changes of each kind were confirmed, and how many were not."""
    counted = Counter(
        (c.kind, "confirmed" if c.key in report.confirmed else "unconfirmed") for c in plan.changes
    )
    return tuple((kind, state, n) for (kind, state), n in sorted(counted.items()))
