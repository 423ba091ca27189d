"""``hrsync plan``, ``hrsync apply`` and ``hrsync sync``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hrsync.access.integrations import IntegrationProblem
from hrsync.access.ownership import TOML
from hrsync.api.recording import recording
from hrsync.api.retry import FAIL_FAST_HANDLERS
from hrsync.cli.integrations import opened, settings_for
from hrsync.cli.output import EXIT_CHANGES, EXIT_HELD, console, emit_json, fail, mode
from hrsync.cli.progress import CallProgress
from hrsync.cli.report import report_apply, report_nothing, show_plan
from hrsync.errors import HrsyncError, SafetyHold
from hrsync.owner_only import write_owner_only
from hrsync.plural import counted
from hrsync.sync.engine import ASKED
from hrsync.sync.pending import pending_actions
from hrsync.wiring import App, build

__all__ = ["CallProgress", "register", "show_plan", "sync_integration"]


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


RECORD = typer.Option(
    "--record",
    help="Write every exchange with Zoho to this file (one JSON line each; tokens, secrets, "
    "emails, names and phone numbers redacted), for `hrsync emulator replay`.",
)


def build_for(ctx: typer.Context, integration: str, *, only: Iterable[str] = ()) -> App:
    """An applying app for ``integration`` ("default": hrsync.toml's own settings)."""
    ctx.obj["integration"] = None if integration == "default" else integration
    ctx.obj["only"] = list(only)
    return _app(ctx, dry_run=False)


def _app(ctx: typer.Context, *, dry_run: bool) -> App:
    settings, name = settings_for(ctx, ctx.obj.get("integration"))
    if not dry_run and name == TOML and (settings.cliq.connection or settings.cliq.client_id):
        with opened(ctx) as integrations:  # one owner per organisation, the command line too
            rivals = integrations.rivals(TOML, settings)
        if rivals:
            raise IntegrationProblem("; ".join(rivals))
    recorder = ctx.obj.get("recorder")
    app = build(
        settings,
        dry_run=dry_run,
        integration=name,
        recorder=recorder,
        retry_handlers=FAIL_FAST_HANDLERS,
    )
    app.engine.only = frozenset(ctx.obj.get("only") or ())
    return app


@contextmanager
def recorded(ctx: typer.Context, path: Path | None) -> Iterator[None]:
    """Record the command's exchanges with Zoho to ``path``, if one is given."""
    if path is None:
        yield
        return
    with recording(path) as recorder:
        ctx.obj["recorder"] = recorder
        try:
            yield
        finally:
            ctx.obj["recorder"] = None


EMPLOYEE = typer.Option(
    "--employee",
    "-e",
    help="Only this person (an employee id; repeat for more): their profile, status, teams, "
    "groups and role, and the departments or teams they need. Everyone else is left as is.",
)
FULL_READ = typer.Option(
    "--full-read",
    help="Read all of Cliq's users now, not only those Cliq lists as changed: finds hand "
    "edits at once rather than at the next scheduled full read ([drift] full_read_hours).",
)


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
    record: Annotated[Path | None, RECORD] = None,
    full_read: Annotated[bool, FULL_READ] = False,
    employee: Annotated[list[str] | None, EMPLOYEE] = None,
) -> None:
    """Show what would change in Cliq. Reads only: not one write is sent."""
    ctx.obj["integration"] = integration
    ctx.obj["only"] = employee
    with recorded(ctx, record):
        app = _app(ctx, dry_run=True)
        try:
            outcome = app.engine.run_plan(full_read=full_read)
        finally:
            app.close()
    data = outcome.plan.to_json() | {"run_id": outcome.run_id}
    if out:
        write_owner_only(out, json.dumps(data, indent=2))
    if json_output or mode.json:
        emit_json(data)
    else:
        show_plan(outcome.plan, app.http)
        if out:
            console.print(f"Plan saved to {out}; apply it with `hrsync apply --plan {out}`.")
    if detailed_exitcode and outcome.plan.changes:
        raise typer.Exit(EXIT_CHANGES)


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
    record: Annotated[Path | None, RECORD] = None,
    full_read: Annotated[bool, FULL_READ] = False,
    employee: Annotated[list[str] | None, EMPLOYEE] = None,
) -> None:
    """Make Cliq match HR: invite, update, deactivate, reactivate (asks first unless --yes)."""
    ctx.obj["integration"] = integration
    ctx.obj["only"] = employee
    confirm = Confirmed(
        confirm_deactivations,
        confirm_blanking,
        confirm_removals,
        _names(confirm_missing_columns),
        full_read,
    )
    with recorded(ctx, record):
        _apply(ctx, plan_file, yes=yes, confirm=confirm)


def _apply(ctx: typer.Context, plan_file: Path | None, *, yes: bool, confirm: Confirmed) -> None:
    expected = None if plan_file is None else saved_fingerprint(plan_file)
    if not yes and expected is None:
        preview = _app(ctx, dry_run=True)
        try:
            planned, _, _ = preview.engine.plan(full_read=ASKED if confirm.full_read else "")
            show_plan(planned, preview.http)
        finally:
            preview.close()
        if not planned.changes:
            report_nothing(planned)
            return
        if not _agreed():
            raise typer.Exit(1)
        expected = planned.fingerprint()
    _run_apply(ctx, expected=expected, confirm=confirm)


def _agreed() -> bool:
    """The admin's answer to "Apply these changes?"; with nobody to ask, how to go on."""
    try:
        return typer.confirm("Apply these changes?", err=mode.json)
    except typer.Abort:
        if sys.stdin.isatty():
            raise  # Ctrl-C at the prompt
        fail(
            "nobody to ask whether to apply these changes (no terminal): run `hrsync apply "
            "--yes`, or save the plan with `hrsync plan --out FILE` and apply exactly it with "
            "`hrsync apply --plan FILE`"
        )


def saved_fingerprint(plan_file: Path) -> str:
    """The fingerprint of a plan saved by ``plan --out``; anything else is refused."""
    try:
        saved = json.loads(plan_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError) as exc:
        fail(f"{plan_file}: not a saved hrsync plan ({exc}); make one with `hrsync plan --out`")
    fingerprint = saved.get("fingerprint") if isinstance(saved, dict) else None
    if not isinstance(fingerprint, str) or not fingerprint:
        fail(
            f"{plan_file}: not a saved hrsync plan (no fingerprint); make one with "
            "`hrsync plan --out`"
        )
    return fingerprint


def sync(
    ctx: typer.Context,
    integration: Annotated[str | None, INTEGRATION] = None,
    confirm_deactivations: Annotated[int | None, CONFIRM_DEACTIVATIONS] = None,
    confirm_blanking: Annotated[int | None, CONFIRM_BLANKING] = None,
    confirm_removals: Annotated[int | None, CONFIRM_REMOVALS] = None,
    confirm_missing_columns: Annotated[str | None, CONFIRM_MISSING_COLUMNS] = None,
    record: Annotated[Path | None, RECORD] = None,
    full_read: Annotated[bool, FULL_READ] = False,
    employee: Annotated[list[str] | None, EMPLOYEE] = None,
) -> None:
    """Plan and apply in one go, without asking (for schedulers); `--employee ID` syncs one
    person now."""
    ctx.obj["integration"] = integration
    ctx.obj["only"] = employee
    confirm = Confirmed(
        confirm_deactivations,
        confirm_blanking,
        confirm_removals,
        _names(confirm_missing_columns),
        full_read,
    )
    with recorded(ctx, record):
        _run_apply(ctx, expected=None, confirm=confirm)


@dataclass(frozen=True)
class Confirmed:
    """The numbers an admin confirmed for the guards that would otherwise hold the run."""

    deactivations: int | None = None
    blanking: int | None = None
    removals: int | None = None
    columns: tuple[str, ...] = ()
    full_read: bool = False  # not a guard: all of Cliq's users are read, as asked


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
                full_read=confirm.full_read,
            )
        journal = app.store.journal(outcome.run_id)
    except SafetyHold as hold:
        fail(held_message(hold), code=EXIT_HELD)
    finally:
        app.close()
    report_apply(outcome, journal)


def held_message(hold: SafetyHold) -> str:
    """What a guard held, and both ways on: confirm the number, or approve the held plan."""
    if hold.run_id is None:
        return f"held: {hold}"
    return (
        f"held (run {hold.run_id}): {hold}; or apply exactly this plan with "
        f"`hrsync runs approve {hold.run_id}`"
    )


def sync_integration(ctx: typer.Context, name: str) -> dict[str, object]:
    """One scheduled run of an integration: what it did, and ``ok`` when nothing failed."""
    ctx.obj["integration"] = name
    try:
        app = _app(ctx, dry_run=False)
    except HrsyncError as problem:
        console.print(f"  [red]not run:[/] {escape(str(problem))}", highlight=False)
        return {"integration": name, "ok": False, "error": str(problem)}
    try:
        with CallProgress(app.services) as progress:
            outcome = app.engine.run_apply(progress=progress)
    except HrsyncError as problem:
        console.print(f"  [red]stopped:[/] {escape(str(problem))}", highlight=False)
        return {"integration": name, "ok": False, "error": str(problem)}
    finally:
        app.close()
    report = outcome.report
    assert report is not None
    actions, errors = pending_actions(outcome.plan)
    console.print(
        f"  run {outcome.run_id}: {len(report.done)} applied, {len(report.failed)} failed, "
        f"{counted(len(errors), 'record')} skipped, {counted(len(actions), 'pending action')}"
    )
    return {
        "integration": name,
        "ok": not report.failed,
        "run_id": outcome.run_id,
        "applied": len(report.done),
        "failed": len(report.failed),
        "records_skipped": len(errors),
        "pending": [a.action for a in actions],
    }
