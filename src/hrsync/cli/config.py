"""``hrsync config check``: is this configuration ready to run? Zoho is not called."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from hrsync.checkup import check_settings
from hrsync.cli.integrations import opened
from hrsync.cli.output import console, emit_json, fail, mode
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.plural import counted

app = typer.Typer(help="Check a configuration before it runs.", no_args_is_help=True)


@app.callback()
def _config() -> None:
    """Check a configuration before it runs."""


@app.command()
def check(
    ctx: typer.Context,
    integration: Annotated[
        str, typer.Option("--integration", "-i", help="Check this integration's configuration.")
    ] = "",
) -> None:
    """Validate the configuration (unknown keys, values), then what it points to: the store,
    the HR export, and the keys or connections of each Zoho service. Sends nothing to Zoho."""
    path = ctx.obj["config"]
    settings = load_settings(path)  # refuses unknown keys and bad values, naming the nearest
    if integration:
        with opened(ctx) as integrations:
            settings = integrations.settings(integration, settings)
        path = f"integration {integration}"
    result = check_settings(settings, clock=RealClock(), integration=integration or "default")
    if mode.json:
        emit_json({"config": str(path), "ok": not result.problems} | vars(result))
        raise typer.Exit(1 if result.problems else 0)
    for item in result.checked:
        console.print(f"  checked {escape(item)}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"  [bold]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    for problem in result.problems:
        console.print(f"  [red]problem:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    if result.suggestion:
        console.print("  suggested, to paste into the configuration:", highlight=False)
        typer.echo("".join(f"    {line}\n" for line in result.suggestion.splitlines()), nl=False)
    if result.problems:
        fail(f"{path}: {counted(len(result.problems), 'problem')}; fix them and check again")
    console.print(f"{escape(str(path))}: ready to run.", highlight=False, soft_wrap=True)
