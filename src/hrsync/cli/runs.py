"""``hrsync runs list|show``: what earlier plans and applies did."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from hrsync.cli.output import EXIT_HELD, console, emit_json, fail
from hrsync.cli.progress import CallProgress
from hrsync.cli.report import report_apply
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.errors import HrsyncError, SafetyHold
from hrsync.store import RunRecord, Store
from hrsync.sync.runs import HeldRun

app = typer.Typer(help="Earlier runs and their journal.", no_args_is_help=True)


@app.callback()
def _runs(
    ctx: typer.Context,
    integration: Annotated[
        str, typer.Option("--integration", "-i", help="The runs of this integration.")
    ] = "default",
) -> None:
    ctx.obj["integration"] = integration


def _store(ctx: typer.Context) -> Store:
    settings = load_settings(ctx.obj["config"])
    return Store(settings.store.url, clock=RealClock(), integration=ctx.obj["integration"])


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


@app.command("list")
def list_runs(
    ctx: typer.Context, limit: Annotated[int, typer.Option(help="How many runs.")] = 20
) -> None:
    """The latest runs, newest first."""
    store = _store(ctx)
    rows = store.runs(limit)
    if ctx.obj["json"]:
        emit_json({"runs": [dataclasses.asdict(r) for r in rows]})
        return
    table = Table("run", "mode", "status", "started", "changes")
    for r in rows:
        counts = r.summary.get("counts", {})
        table.add_row(
            str(r.id),
            r.mode,
            r.status,
            _when(r.started_at),
            ", ".join(f"{n} {k}" for k, n in counts.items()) or "-",
        )
    console.print(table)


@app.command("show")
def show_run(ctx: typer.Context, run_id: int) -> None:
    """One run: its summary and every journalled change with its state."""
    store = _store(ctx)
    run = store.run(run_id)
    if run is None:
        fail(f"no run {run_id}")
    journal = store.journal(run_id)
    if ctx.obj["json"]:
        emit_json(
            {
                "id": run.id,
                "mode": run.mode,
                "status": run.status,
                "summary": run.summary,
                "journal": [dataclasses.asdict(j) for j in journal],
            }
        )
        return
    console.print(
        f"Run {run.id} ({run.mode}): {run.status}, {_when(run.started_at)} → "
        f"{_when(run.finished_at)}"
    )
    width = max((len(entry.state) for entry in journal), default=0)
    for entry in journal:  # the state as --json names it: confirmed, failed, skipped, …
        error = f" — {entry.error}" if entry.error else ""
        console.print(
            f"  {entry.state:<{width}}  {entry.summary}{error}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for action in run.summary.get("pending") or []:
        console.print(f"  [pending action] {action}", highlight=False, markup=False)


@app.command("approve")
def approve_run(
    ctx: typer.Context,
    run_id: int,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve without asking (for scripts).")
    ] = False,
) -> None:
    """Apply exactly the plan a safety guard held in run RUN_ID.

    hrsync plans again and applies only if the plan is the held one, change for change (its
    fingerprint); if HR or Cliq changed since, nothing is applied and the next run holds
    afresh. The approval is recorded on both runs (`hrsync runs show`)."""
    from hrsync.cli.syncing import build_for  # the sync commands' wiring, imported late

    store = _store(ctx)
    try:
        held = store.run(run_id)
    finally:
        store.close()
    if held is None:
        fail(f"no run {run_id}")
    approval = _approvable(held)
    counts = held.summary.get("counts", {})
    console.print(
        f"Run {held.id} of {held.integration} was held: {held.summary.get('hold', '')}",
        highlight=False,
    )
    console.print(
        "  its plan: " + (", ".join(f"{n} {k}" for k, n in counts.items()) or "no change"),
        highlight=False,
    )
    if not yes:
        if not sys.stdin.isatty():
            fail(f"approving run {run_id} needs --yes when nobody is at the terminal to confirm")
        if not typer.confirm("Apply exactly this plan?", default=False):
            fail("not approved; nothing was applied")
    app_ = build_for(ctx, held.integration, only=held.summary.get("only") or ())
    try:
        with CallProgress(app_.services) as progress:
            outcome = app_.engine.run_apply(progress=progress, approves=approval)
        journal = app_.store.journal(outcome.run_id)
    except SafetyHold as hold:  # not raised on approval; said plainly if it ever is
        fail(f"held: {hold}", code=EXIT_HELD)
    except HrsyncError as problem:
        fail(str(problem))
    finally:
        app_.close()
    console.print(f"Run {outcome.run_id} applied run {held.id}'s held plan.", highlight=False)
    report_apply(outcome, journal)


def _approvable(run: RunRecord) -> HeldRun:
    """The held plan of ``run``, or why it cannot be approved."""
    if "approved_by" in run.summary:
        fail(f"run {run.id} was approved already: run {run.summary['approved_by']} applied it")
    if run.mode != "apply" or run.status != "held":
        kind = "an apply" if run.mode == "apply" else f"a {run.mode}"
        fail(f"run {run.id} is not held (it is {kind} that {run.status}); nothing to approve")
    fingerprint = run.summary.get("fingerprint")
    if not fingerprint:
        fail(
            f"run {run.id} was held before hrsync kept held plans; run `hrsync sync` again and "
            "approve the run it holds"
        )
    return HeldRun(run.id, str(fingerprint), approver=getpass.getuser())
