"""The only writer: carries out a plan, journalling each change before and after.

Apply is a loop: every change is intended in the journal, then each target carries out its
changes in the order its API needs (``steps``), and each change is confirmed, skipped or
failed by the class of what was raised, through one table (``REMEDIES``). The targets know
Zoho: ids, payloads, batching. Apply knows the journal, the report and the order of targets:
Cliq first, Connect in the time Cliq's pacing waits, deactivations last.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hrsync.errors import (
    ApiError,
    AuthError,
    GroupsOwnedByPeople,
    NotFound,
    RateLimited,
    TransientError,
)
from hrsync.sync.plan import Change, Plan
from hrsync.sync.state import Inventory
from hrsync.tense import told

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Remedy:
    state: str  # "failed" or "skipped"
    says: str  # what to do, after the error's own words ("" when they say it all)


# What a failed change means and what to do about it: the first class that matches wins.
REMEDIES: list[tuple[type[BaseException], Remedy]] = [
    (GroupsOwnedByPeople, Remedy("skipped", "")),
    (AuthError, Remedy("failed", "re-authorise hrsync's connection, then run again")),
    (RateLimited, Remedy("failed", "Zoho's rate limit held it back; the next run goes on")),
    (TransientError, Remedy("failed", "")),  # no clear answer: the next run looks and retries
    (NotFound, Remedy("failed", "")),
    (ApiError, Remedy("failed", "")),
]
PEOPLE_OWNS_NOTE = (
    "Cliq refused to change a department or designation (operation_not_allowed): Zoho People "
    "manages them in this organisation. hrsync stopped writing them and will not plan them "
    "again for a week."
)


EMAIL = re.compile(r"[^\s'\"<>(),;:]+@[^\s'\"<>(),;:]+")


def without_addresses(text: str) -> str:
    """``text`` with every email address masked, for a log line above DEBUG."""
    return EMAIL.sub("<email>", text)


def remedy_for(error: BaseException) -> Remedy | None:
    """The table's line for ``error``; None for what apply must not swallow (a bug, a kill)."""
    return next((r for kind, r in REMEDIES if isinstance(error, kind)), None)


class Journal(Protocol):
    def journal_intend(self, run_id: int, entries: Iterable[tuple[str, str, str, str]]) -> None: ...
    def journal_mark(
        self, run_id: int, keys: Sequence[str], state: str, *, error: str = ""
    ) -> None: ...
    def save_link(self, employee_id: str, zuid: str, *, email: str, origin: str) -> None: ...
    def save_links(self, links: Iterable[tuple[str, str, str]], *, origin: str) -> None: ...
    def add_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None: ...
    def add_many_memberships(self, kind: str, groups: Mapping[str, Iterable[str]]) -> None: ...
    def remove_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None: ...
    def move_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None: ...


@dataclass(slots=True)
class Step:
    """Changes carried out together by ``run``: one change, or a batch the target settles
    itself (it then calls ``Ledger.sent`` and ``Ledger.settle`` as its answers come)."""

    changes: list[Change]
    run: Callable[[], None]
    settles_itself: bool = False


class Ledger(Protocol):
    """What a target tells apply while it works."""

    journal: Journal
    done_keys: set[str]

    def sent(self, changes: Sequence[Change]) -> None: ...
    def settle(self, changes: Sequence[Change], error: BaseException | None = None) -> None: ...
    def heard(self, error: BaseException) -> None: ...
    def note(self, text: str) -> None: ...


class Steps(Protocol):
    """A target's work for one plan, in the order its API needs."""

    def steps(self, plan: Plan) -> Iterator[Step]: ...
    def deactivations(self, plan: Plan) -> Iterator[Step]: ...
    def idle(self) -> None: ...


class Target(Protocol):
    def changes(self, inventory: Inventory, plan: Plan, ledger: Ledger) -> Steps: ...
    def set_idle(self, work: Callable[[float], None] | None) -> None: ...


class ConnectSteps(Protocol):
    def steps(self, plan: Plan) -> Iterator[Step]: ...


class ConnectSide(Protocol):
    def ready(self) -> bool: ...
    def groups(self) -> dict[str, str]: ...
    def changes(self, inventory: Inventory, plan: Plan, ledger: Ledger) -> ConnectSteps: ...


class Progress(Protocol):
    def start(self, plan: Plan) -> None: ...
    def advance(self, changes: int, note: str) -> None: ...


class NoProgress:
    def start(self, plan: Plan) -> None:
        return None

    def advance(self, changes: int, note: str) -> None:
        return None


@dataclass
class ApplyReport:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "who: why"
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    groups_by_people: bool = False  # Cliq said Zoho People owns departments and designations
    confirmed: set[str] = field(default_factory=set)  # keys of the changes confirmed
    why: dict[str, str] = field(default_factory=dict)  # change key → why it failed or was skipped
    # The run gave way to HR events between two changes: those not sent yet are left for the
    # run that goes on at once after the events (``Applier.give_way``).
    gave_way: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


class Applier:
    """Carries out one plan against its targets within one run; the ``Ledger`` they report to."""

    def __init__(
        self,
        target: Target,
        journal: Journal,
        run_id: int,
        *,
        inventory: Inventory,
        progress: Progress | None = None,
        connect: ConnectSide | None = None,
        give_way: Callable[[], bool] = lambda: False,
    ) -> None:
        self.target = target
        # Asked between two Cliq changes: True when HR events wait and this run should stop
        # there, leaving the rest to a run that goes on after them (the service's scheduled
        # runs; nothing is in flight between two changes, so nothing is left unconfirmed).
        self.give_way = give_way
        self.journal = journal
        self.run_id = run_id
        self.inventory = inventory
        self.connect = connect
        self.progress = progress or NoProgress()
        self.done_keys: set[str] = set()
        self.report = ApplyReport()
        # Connect work needs nothing from Cliq: it fills the time Cliq's pacing waits.
        self.background: deque[Step] = deque()
        self.cliq: Steps | None = None

    def apply(self, plan: Plan, encoded: list[str] | None = None) -> ApplyReport:
        """``encoded``: the plan's changes as ``Plan.encoded`` text, when the caller has them
        already (for the fingerprint): the journal keeps the same text, and the list is
        emptied once it has (a large plan's texts are not held through the whole apply)."""
        self.progress.start(plan)
        texts = plan.encoded() if encoded is None else encoded
        self.journal.journal_intend(
            self.run_id,
            (
                (c.key, c.kind, c.describe(done=False), text)
                for c, text in zip(plan.changes, texts, strict=True)
            ),
        )
        texts.clear()
        cliq = self.cliq = self.target.changes(self.inventory, plan, self)
        if self.connect is not None:
            self.background.extend(self.connect.changes(self.inventory, plan, self).steps(plan))
        self.target.set_idle(self._idle)
        try:
            try:
                for step in cliq.steps(plan):
                    if self.give_way():
                        self.report.gave_way = True
                        break
                    self._run(step)
            finally:
                self.target.set_idle(None)
            if not self.report.gave_way:
                while self.background:
                    self._run(self.background.popleft())
                for step in cliq.deactivations(plan):
                    self._run(step)
        finally:
            # The targets' changes report to this ledger: let go of them, so the run's state
            # is freed when the run ends, not when the cycle collector next comes round.
            self.cliq = None
            self.background.clear()
        self.report.confirmed = set(self.done_keys)
        return self.report

    def _run(self, step: Step) -> None:
        """Intend → the target executes → confirmed, skipped or failed by what it raised."""
        if not step.settles_itself:
            self.sent(step.changes)
        try:
            step.run()
        except Exception as error:
            if remedy_for(error) is None:
                raise
            self.settle([c for c in step.changes if c.key not in self.done_keys], error)
            return
        if not step.settles_itself:
            self.settle(step.changes)

    def _idle(self, seconds: float) -> None:
        """Cliq's pacing is about to wait ``seconds``: the Cliq target's own work that can go
        now (roles of joiners), then Connect work."""
        if self.cliq is not None:
            self.cliq.idle()
        while self.background and self.connect is not None and self.connect.ready():
            self._run(self.background.popleft())

    # the ledger ------------------------------------------------------------------------------
    def sent(self, changes: Sequence[Change]) -> None:
        if changes:
            self.journal.journal_mark(self.run_id, [c.key for c in changes], "sent")

    def settle(self, changes: Sequence[Change], error: BaseException | None = None) -> None:
        if not changes:
            return
        if error is None:
            self._confirmed(changes)
            return
        remedy = remedy_for(error) or Remedy("failed", "")
        why = f"{error}; {remedy.says}" if remedy.says else str(error)
        self.heard(error)
        keys = [c.key for c in changes]
        self.journal.journal_mark(self.run_id, keys, remedy.state, error=why)
        listed = self.report.skipped if remedy.state == "skipped" else self.report.failed
        for change in changes:
            listed.append(told(change.describe(done=False), remedy.state, why))
            self.report.why[change.key] = why
            if remedy.state == "failed":
                log.error(
                    "%s failed: %s",
                    change.key,
                    without_addresses(why),
                    extra={"run": self.run_id, "change": change.key},
                )
                log.debug("%s: %s", change.describe(done=False), why)
        self.progress.advance(len(changes), f"{remedy.state}: {why}")

    def heard(self, error: BaseException) -> None:
        """What an answer says about the whole run, beyond the change it refused."""
        if isinstance(error, GroupsOwnedByPeople) and not self.report.groups_by_people:
            self.report.groups_by_people = True
            self.note(PEOPLE_OWNS_NOTE)

    def note(self, text: str) -> None:
        self.report.notes.append(text)

    def _confirmed(self, changes: Sequence[Change]) -> None:
        self.journal.journal_mark(self.run_id, [c.key for c in changes], "confirmed")
        self.done_keys.update(c.key for c in changes)
        for change in changes:
            said = change.describe(done=True)
            self.report.done.append(said)
            log.info("%s", change.for_log(), extra={"run": self.run_id, "change": change.key})
            log.debug("%s", said)  # with emails and values: only when asked for
        self.progress.advance(len(changes), changes[-1].describe(done=True))
