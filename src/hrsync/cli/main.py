"""``hrsync``: keep Zoho Cliq and Zoho Connect in step with your HR system (an export of
any HRMS, or Zoho People)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

import typer

from hrsync import __version__
from hrsync.cli import admin, connections, emulator, explain, integrations, runs, syncing
from hrsync.cli.output import console, fail
from hrsync.errors import HrsyncError

app = typer.Typer(
    help="Keep Zoho Cliq and Zoho Connect in step with your HR system (an export of any "
    "HRMS, or Zoho People).\n\nStart with `hrsync demo`; then `hrsync connections add`, and "
    "`hrsync plan` against your own export or an integration.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
app.add_typer(runs.app, name="runs")
app.add_typer(emulator.app, name="emulator")
app.add_typer(connections.app, name="connections")
app.add_typer(integrations.app, name="integrations")
app.add_typer(admin.app, name="admin")
syncing.register(app)
explain.register(app)


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Configuration file (TOML).", envvar="HRSYNC_CONFIG"),
    ] = Path("hrsync.toml"),
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every API call.")] = False,
) -> None:
    ctx.obj = {"config": config, "json": json_output}
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redact())


SECRET_IN_TEXT = re.compile(
    r"((?:access_token|refresh_token|client_secret|password|code|oauth_token|oauth_verifier"
    r"|token)=)[^&\s\"']+|((?:Zoho-oauthtoken|Bearer|Basic) )\S+",
    re.IGNORECASE,
)


class Redact(logging.Filter):
    """Keep tokens, codes and secrets out of every log line (a URL may carry one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


@app.command()
def version() -> None:
    """Print hrsync's version."""
    console.print(__version__)


@app.command()
def demo(
    size: Annotated[int, typer.Option(help="Employees in the sample HR export.")] = 300,
    workdir: Annotated[Path | None, typer.Option(help="Keep the demo's files here.")] = None,
) -> None:
    """Run the whole lifecycle against a local Zoho emulator: joiners, then movers, leavers,
    a rehire and an email change, with a Cliq team per department, a Connect group per
    designation and a role for managers, ending with a plan that has no changes."""
    from hrsync.cli.demo import run_demo

    run_demo(size=size, workdir=workdir)


def main() -> None:
    try:
        app()
    except HrsyncError as exc:
        fail(str(exc))
