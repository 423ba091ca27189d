"""What a plan would do and what an apply did, for people and for ``--json``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from rich.markup import escape

from hrsync.api.http import ZohoHttp
from hrsync.cli.output import EXIT_ERROR, EXIT_PENDING, console, emit_json, mode
from hrsync.model import RecordError
from hrsync.plural import counted
from hrsync.store.records import JournalRecord
from hrsync.sync.pending import PendingAction, pending_actions
from hrsync.sync.plan import Plan
from hrsync.sync.runs import Outcome


def show_plan(plan: Plan, http: ZohoHttp, *, limit: int | None = None) -> None:
    """Every change (or the first ``limit``), the skipped rows, notes, and the cost."""
    drift = set(plan.drift)
    for change in plan.changes[:limit]:
        why = " (drift: changed in Cliq by hand)" if change.key in drift else ""
        console.print(f"  {escape(change.describe(done=False))}{why}", highlight=False)
    if limit is not None and len(plan.changes) > limit:
        more = counted(len(plan.changes) - limit, "more change")
        console.print(f"  … and {more}", highlight=False)
    actions, errors = pending_actions(plan)
    show_problems(errors, plan.notes, actions)
    if not plan.changes:
        console.print("No changes. Cliq matches HR.")
    else:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(plan.counts().items()))
        calls = plan.api_calls()
        minutes = http.pacer.estimate(calls) / 60
        console.print(
            f"Plan: {counts}. About {sum(calls.values())} API calls, "
            f"at least {minutes:.1f} min at Zoho's rate limits."
        )
    if plan.cliq_read:
        console.print(f"[dim]{escape(plan.cliq_read)}[/]", highlight=False, soft_wrap=True)


def show_problems(
    errors: list[RecordError], notes: list[str], actions: list[PendingAction]
) -> None:
    """Skipped records one by one; pending actions one line per cause (--verbose: who)."""
    for error in errors:
        console.print(f"  [yellow]skipped[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    for note in notes:
        console.print(f"  [dim]note: {escape(note)}[/]", highlight=False, soft_wrap=True)
    for action in actions:
        console.print(
            f"  [bold yellow]pending action:[/] {escape(action.action)}",
            highlight=False,
            soft_wrap=True,
        )
        if mode.verbose and action.people:
            console.print(
                f"    waiting: {escape(', '.join(action.people))}", highlight=False, soft_wrap=True
            )


def report_apply(outcome: Outcome, journal: Sequence[JournalRecord] = ()) -> None:
    """The run's result; exits 1 on failures or broken records, 4 when only pending actions
    are left (everything else was applied). ``journal``: each change's state."""
    report = outcome.report
    assert report is not None
    actions, errors = pending_actions(outcome.plan)
    code = EXIT_ERROR if report.failed or errors else EXIT_PENDING if actions else 0
    if mode.json:
        emit_json(
            {
                "run_id": outcome.run_id,
                "changes": applied_changes(outcome.plan, journal),
                "done": report.done,
                "failed": report.failed,
                "skipped": report.skipped,
                "errors": [str(e) for e in errors],
                "notes": [*outcome.plan.notes, *report.notes],
                "pending": [a.action for a in actions],
                "waiting": {a.action: a.people for a in actions if a.people},
                "exit_code": code,
            }
        )
    else:
        _show_report(outcome, errors, actions)
    if code:
        raise typer.Exit(code)


def applied_changes(plan: Plan, journal: Sequence[JournalRecord]) -> list[dict[str, Any]]:
    """Each change as ``--json plan`` gives it, with its state in the run's journal
    (confirmed, failed, skipped, …; ``runs show`` says the same) and why it failed."""
    entries = {entry.change_key: entry for entry in journal}
    changes = []
    for change in plan.changes:
        entry = entries.get(change.key)
        state = entry.state if entry else "not sent"
        changes.append(
            change.to_dict()
            | {
                "summary": change.describe(done=state == "confirmed"),
                "state": state,
                "error": entry.error if entry else "",
            }
        )
    return changes


def report_nothing(plan: Plan) -> None:
    """``apply`` with nothing to do (the plan was shown already)."""
    if mode.json:
        actions, errors = pending_actions(plan)
        emit_json(
            {
                "run_id": None,
                "changes": [],
                "done": [],
                "failed": [],
                "skipped": [],
                "errors": [str(e) for e in errors],
                "notes": plan.notes,
                "pending": [a.action for a in actions],
                "waiting": {a.action: a.people for a in actions if a.people},
                "exit_code": 0,
            }
        )


def _show_report(outcome: Outcome, errors: list[RecordError], actions: list[PendingAction]) -> None:
    report = outcome.report
    assert report is not None
    for line in report.failed:
        console.print(f"  [red]{escape(line)}[/]", highlight=False)
    show_problems(errors, [], actions)
    for note in (*outcome.plan.notes, *report.notes):
        console.print(f"  [bold]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    skipped = f", {len(report.skipped)} left to Zoho People" if report.skipped else ""
    pending = f", {counted(len(actions), 'pending action')}" if actions else ""
    console.print(
        f"Run {outcome.run_id}: {counted(len(report.done), 'change')} applied, "
        f"{len(report.failed)} failed{skipped}, {counted(len(errors), 'record')} skipped{pending}."
    )
