"""What a run produced and how the store keeps it: the outcome of a plan or an apply, a
held run as an admin approves it, a run's summary, and the statuses ``Engine`` gives runs
besides succeeded, partial, held, refused, stopped and failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from hrsync.model import SourceSnapshot
from hrsync.sync.apply import ApplyReport
from hrsync.sync.plan import Plan

YIELDED = "yielded"  # the status of a run that gave way to HR events
GAVE_WAY = "left for the run that goes on after the HR events that came in meanwhile"


@dataclass
class Outcome:
    """What a plan or an apply produced."""

    plan: Plan
    run_id: int
    snapshot: SourceSnapshot
    report: ApplyReport | None = None
    resumed: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HeldRun:
    """A run a guard held, as an admin approves it: its plan, by fingerprint."""

    run_id: int
    fingerprint: str
    approver: str = ""  # who approved it (the login, or the web page's admin)


def stale_plan(approves: HeldRun | None) -> str:
    """Why a saved or held plan was not applied: HR or Cliq changed since."""
    if approves is None:
        return (
            "the saved plan no longer matches HR and Cliq (something changed since it was "
            "made); nothing was applied. Run `hrsync plan --out FILE` again"
        )
    return (
        f"run {approves.run_id}'s held plan no longer matches HR and Cliq (something changed "
        "since it was held); nothing was applied. The next run plans afresh, and holds again "
        "if a guard still trips: approve that one"
    )


def run_summary(plan: Plan, fingerprint: str) -> dict[str, object]:
    """What the store keeps of a run's plan."""
    return {
        "counts": plan.counts(),
        "api_calls": plan.api_calls(),
        "errors": [str(e) for e in plan.errors],
        "pending": plan.pending,
        "stalled": plan.stalled,
        "fingerprint": fingerprint,
    }
