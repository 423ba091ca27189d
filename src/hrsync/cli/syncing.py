"""``hrsync plan``, ``hrsync apply`` and ``hrsync sync``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn

from hrsync.api.http import ZohoHttp
from hrsync.cli.integrations import settings_for
from hrsync.cli.output import console, emit_json, fail
from hrsync.errors import HrsyncError, SafetyHold
from hrsync.owner_only import write_owner_only
from hrsync.sync.engine import Outcome
from hrsync.sync.plan import Plan
from hrsync.wiring import App, build


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("apply")(apply)
    app.command("sync")(sync)


INTEGRATION = typer.Option(
    "--integration", "-i", help="Run this integration instead of hrsync.toml's own settings."
)


CONFIRM_DEACTIVATIONS = typer.Option(
    help="Allow a run that deactivates more users than the safety share: give the number."
)
CONFIRM_BLANKING = typer.Option(
    help="Allow a run that empties fields of more people than the safety share: the number."
)
CONFIRM_REMOVALS = typer.Option(
    help="Allow a run that takes more memberships away than the safety share: the number."
)
CONFIRM_MISSING_COLUMNS = typer.Option(
    help="Allow a run whose export lost these columns (canonical names, comma-separated); "
    "their fields are left as Cliq has them."
)


def _app(ctx: typer.Context, *, dry_run: bool) -> App:
    settings, name = settings_for(ctx, ctx.obj.get("integration"))
    return build(settings, dry_run=dry_run, integration=name)


def plan(
    ctx: typer.Context,
    integration: Annotated[str | None, INTEGRATION] = None,
    out: Annotated[
        Path | None, typer.Option(help="Save the plan (JSON) for `apply --plan`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 when nothing would change, 2 when something would."
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show what would change in Cliq. Reads only: not one write is sent."""
    ctx.obj["integration"] = integration
    app = _app(ctx, dry_run=True)
    try:
        outcome = app.engine.run_plan()
    finally:
        app.close()
    data = outcome.plan.to_json() | {"run_id": outcome.run_id}
    if out:
        write_owner_only(out, json.dumps(data, indent=2))
    if json_output or ctx.obj["json"]:
        emit_json(data)
    else:
        show_plan(outcome.plan, app.http)
        if out:
            console.print(f"Plan saved to {out}; apply it with `hrsync apply --plan {out}`.")
    if detailed_exitcode and outcome.plan.changes:
        raise typer.Exit(2)


def show_plan(plan: Plan, http: ZohoHttp, *, limit: int | None = None) -> None:
    """Every change (or the first ``limit``), the skipped rows, notes, and the cost."""
    drift = set(plan.drift)
    for change in plan.changes[:limit]:
        why = " (drift: changed in Cliq by hand)" if change.key in drift else ""
        console.print(f"  {change.describe(done=False)}{why}", highlight=False)
    if limit is not None and len(plan.changes) > limit:
        console.print(f"  … and {len(plan.changes) - limit} more changes", highlight=False)
    for error in plan.errors:
        console.print(f"  [yellow]skipped[/] {error}", highlight=False)
    for note in plan.notes:
        console.print(f"  [dim]note: {note}[/]", highlight=False)
    for action in plan.pending:
        console.print(f"  [bold yellow]pending action:[/] {action}", highlight=False)
    if not plan.changes:
        console.print("No changes. Cliq matches HR.")
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(plan.counts().items()))
    calls = plan.api_calls()
    minutes = http.pacer.estimate(calls) / 60
    console.print(
        f"Plan: {counts}. About {sum(calls.values())} API calls, "
        f"at least {minutes:.1f} min at Zoho's rate limits."
    )


def apply(
    ctx: typer.Context,
    integration: Annotated[str | None, INTEGRATION] = None,
    plan_file: Annotated[
        Path | None,
        typer.Option("--plan", help="Apply this saved plan exactly, if it still matches."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    confirm_deactivations: Annotated[int | None, CONFIRM_DEACTIVATIONS] = None,
    confirm_blanking: Annotated[int | None, CONFIRM_BLANKING] = None,
    confirm_removals: Annotated[int | None, CONFIRM_REMOVALS] = None,
    confirm_missing_columns: Annotated[str | None, CONFIRM_MISSING_COLUMNS] = None,
) -> None:
    """Make Cliq match HR: invite, update, deactivate, reactivate (asks first unless --yes)."""
    ctx.obj["integration"] = integration
    expected = None
    if plan_file is not None:
        try:
            expected = json.loads(plan_file.read_text(encoding="utf-8"))["fingerprint"]
        except (OSError, ValueError, KeyError) as exc:
            fail(f"{plan_file}: not a saved hrsync plan ({exc})")
    if not yes and expected is None:
        preview = _app(ctx, dry_run=True)
        try:
            planned, _, _ = preview.engine.plan()
            show_plan(planned, preview.http)
        finally:
            preview.close()
        if not planned.changes:
            return
        if not typer.confirm("Apply these changes?"):
            raise typer.Exit(1)
        expected = planned.fingerprint()
    confirm = Confirmed(
        confirm_deactivations, confirm_blanking, confirm_removals, _names(confirm_missing_columns)
    )
    _run_apply(ctx, expected=expected, confirm=confirm)


def sync(
    ctx: typer.Context,
    integration: Annotated[str | None, INTEGRATION] = None,
    confirm_deactivations: Annotated[int | None, CONFIRM_DEACTIVATIONS] = None,
    confirm_blanking: Annotated[int | None, CONFIRM_BLANKING] = None,
    confirm_removals: Annotated[int | None, CONFIRM_REMOVALS] = None,
    confirm_missing_columns: Annotated[str | None, CONFIRM_MISSING_COLUMNS] = None,
) -> None:
    """Plan and apply in one go, without asking (for schedulers)."""
    ctx.obj["integration"] = integration
    confirm = Confirmed(
        confirm_deactivations, confirm_blanking, confirm_removals, _names(confirm_missing_columns)
    )
    _run_apply(ctx, expected=None, confirm=confirm)


@dataclass(frozen=True)
class Confirmed:
    """The numbers an admin confirmed for the guards that would otherwise hold the run."""

    deactivations: int | None = None
    blanking: int | None = None
    removals: int | None = None
    columns: tuple[str, ...] = ()


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


def _run_apply(ctx: typer.Context, *, expected: str | None, confirm: Confirmed) -> None:
    app = _app(ctx, dry_run=False)
    try:
        with CallProgress(app.services) as progress:
            outcome = app.engine.run_apply(
                expected=expected,
                confirmed_deactivations=confirm.deactivations,
                confirmed_blanking=confirm.blanking,
                confirmed_removals=confirm.removals,
                confirmed_columns=confirm.columns,
                progress=progress,
            )
    except SafetyHold as hold:
        fail(f"held: {hold}", code=3)
    finally:
        app.close()
    report_apply(ctx, outcome)


def sync_integration(ctx: typer.Context, name: str) -> bool:
    """One scheduled run of an integration; True when it finished without a failure."""
    ctx.obj["integration"] = name
    try:
        app = _app(ctx, dry_run=False)
    except HrsyncError as problem:
        console.print(f"  [red]not run:[/] {problem}", highlight=False)
        return False
    try:
        outcome = app.engine.run_apply()
    except HrsyncError as problem:
        console.print(f"  [red]stopped:[/] {problem}", highlight=False)
        return False
    finally:
        app.close()
    report = outcome.report
    assert report is not None
    console.print(
        f"  run {outcome.run_id}: {len(report.done)} applied, {len(report.failed)} failed, "
        f"{len(outcome.plan.errors)} records skipped"
    )
    return not report.failed


def report_apply(ctx: typer.Context, outcome: Outcome) -> None:
    report = outcome.report
    assert report is not None
    if ctx.obj["json"]:
        emit_json(
            {
                "run_id": outcome.run_id,
                "done": report.done,
                "failed": report.failed,
                "skipped": report.skipped,
                "errors": [str(e) for e in outcome.plan.errors],
                "notes": report.notes,
                "pending": outcome.plan.pending,
            }
        )
        return
    for line in report.failed:
        console.print(f"  [red]failed[/] {line}", highlight=False)
    for error in outcome.plan.errors:
        console.print(f"  [yellow]skipped[/] {error}", highlight=False)
    for note in (*outcome.plan.notes, *report.notes):
        console.print(f"  [bold]note:[/] {note}", highlight=False)
    for action in outcome.plan.pending:
        console.print(f"  [bold yellow]pending action:[/] {action}", highlight=False)
    skipped = f", {len(report.skipped)} left to Zoho People" if report.skipped else ""
    console.print(
        f"Run {outcome.run_id}: {len(report.done)} changes applied, "
        f"{len(report.failed)} failed{skipped}, {len(outcome.plan.errors)} records skipped."
    )
    if report.failed or outcome.plan.errors:
        raise typer.Exit(1)


class CallProgress:
    """A progress bar of changes with API calls made, calls left and a rate-limit ETA."""

    def __init__(self, services: Sequence[ZohoHttp]) -> None:
        self.services = list(services)  # Cliq, and People or Connect when used
        self.baseline: Counter[str] = Counter()
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} changes"),
            TextColumn("{task.fields[calls]}"),
            console=console,
            transient=False,
        )
        self.task: Any = None
        self.planned: dict[str, int] = {}

    def __enter__(self) -> CallProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def _calls(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for service in self.services:
            total.update(service.calls)
        return total

    def start(self, plan: Plan) -> None:
        self.planned = plan.api_calls()
        self.baseline = self._calls()  # reading both sides is done by now
        self.task = self.bar.add_task("Applying", total=len(plan.changes), calls="")
        self._refresh()

    def advance(self, changes: int, note: str) -> None:
        if self.task is None:
            return
        self.bar.advance(self.task, changes)
        self._refresh()

    def _refresh(self) -> None:
        calls = self._calls() - self.baseline
        made = sum(calls.values())
        left = {e: max(0, n - calls.get(e, 0)) for e, n in self.planned.items()}
        eta = self.services[0].pacer.estimate(left)
        self.bar.update(
            self.task, calls=f"{made} calls made, {sum(left.values())} left, ETA {eta / 60:.1f} min"
        )
