"""``hrsync doctor``: check a first contact with Zoho, one line per finding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hrsync.cli.integrations import settings_for
from hrsync.cli.output import EXIT_ERROR, console, emit_json, fail, mode
from hrsync.cli.syncing import RECORD, recorded
from hrsync.clock import RealClock
from hrsync.doctor import RETRIES, Check, Options, diagnose
from hrsync.plural import counted
from hrsync.wiring import App, build

STYLES = {"ok": "green", "note": "yellow", "fail": "bold red", "skip": "dim"}


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor(
    ctx: typer.Context,
    integration: Annotated[
        str | None,
        typer.Option(
            "--integration", "-i", help="Check this integration (any state) instead of hrsync.toml."
        ),
    ] = None,
    admin: Annotated[
        str,
        typer.Option(
            help="The Cliq account that authorised hrsync (default: the organisation's owner)."
        ),
    ] = "",
    probe_writes: Annotated[
        bool,
        typer.Option(
            "--probe-writes",
            help="Make the one harmless write (needs --test-user) that settles which update "
            "body Cliq takes.",
        ),
    ] = False,
    test_user: Annotated[
        str,
        typer.Option(help="With --probe-writes: the Cliq user whose first name is set to itself."),
    ] = "",
    json_output: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    record: Annotated[Path | None, RECORD] = None,
) -> None:
    """Check a first contact with Zoho before the first sync: the configuration, the call
    budget left, each service's token and granted scopes, every Cliq listing hrsync reads
    (users with fields=all, departments, designations, teams, user fields, roles) in the
    shape hrsync reads, the drop-down options and role permissions the configuration needs,
    the admin role behind the token, the People form's fields, the Connect network, the
    consent redirect URI, and which reading of Zoho's disputed answers this organisation
    plays (remembered where hrsync acts on it).

    Each check ends ✓, ⚠ (works; read the note) or ✗ with its remedy, or – (not checked:
    an earlier failure kept it from being made); exit 0 when each is ✓ or ⚠, else 1. Reads
    only: nothing is written unless --probe-writes.
    """
    if probe_writes and not test_user:
        fail("--probe-writes needs --test-user EMAIL: the Cliq user whose field is set to itself")
    settings, name = settings_for(ctx, integration, any_state=True)  # doctor comes first

    def wired() -> App:
        # Built by the same wiring as `hrsync plan`, dry unless probing: the HTTP layer then
        # refuses every write before it is sent.
        recorder = ctx.obj.get("recorder")
        return build(
            settings,
            dry_run=not probe_writes,
            integration=name,
            recorder=recorder,
            retry_handlers=RETRIES,
        )

    options = Options(admin_email=admin, test_user=test_user, probe_writes=probe_writes)
    with recorded(ctx, record):
        found = diagnose(settings, wired, clock=RealClock(), options=options)
    checks = found.checks
    ok = all(check.ok for check in checks)
    if json_output or mode.json:
        emit_json(
            {
                "ok": ok,
                "checks": [check.to_json() for check in checks],
                "readings": found.readings,
            }
        )
    else:
        show(checks)
    if not ok:
        raise typer.Exit(EXIT_ERROR)


def show(checks: list[Check]) -> None:
    table = Table("check", "result", "detail", "remedy", show_lines=False)
    for check in checks:
        style = STYLES[check.level]
        table.add_row(
            escape(check.name),
            f"[{style}]{check.mark}[/]",
            escape(check.detail),
            escape(check.remedy),
        )
    console.print(table)
    failures = sum(check.level == "fail" for check in checks)
    skipped = sum(check.level == "skip" for check in checks)
    if failures or skipped:
        unmade = f"; {skipped} not checked" if skipped else ""
        console.print(f"[bold red]{counted(failures, 'check')} failed[/]{unmade}: see each remedy.")
    else:
        console.print("[green]Ready:[/] every check passed.")
