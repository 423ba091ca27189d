"""``hrsync``: keep Zoho Cliq and Zoho Connect in step with your HR system (an export of
any HRMS, or Zoho People)."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from hrsync import __version__
from hrsync.cli.lazy import LazyGroup
from hrsync.cli.output import console, emit_json, fail, mode, set_mode
from hrsync.redaction import mask_secrets

app = typer.Typer(
    help="Keep Zoho Cliq and Zoho Connect in step with your HR system (an export of any "
    "HRMS, or Zoho People).\n\nStart with `hrsync demo`; then `hrsync connections add`, and "
    "`hrsync plan` against your own export or an integration.\n\n"
    "Exit codes: 0 done; 1 error; 2 `plan --detailed-exitcode` found changes; 3 held by a "
    "safety guard (confirm the number to go on); 4 applied everything it could, but pending "
    "actions remain (an admin's task in Zoho, e.g. a missing drop-down option).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    cls=LazyGroup,  # each command's module is imported when it runs (cli/lazy.py)
)


# Commands that read no configuration: a --config naming a missing file does not stop them.
NO_CONFIG = {"version", "demo", "emulator", "sources"}


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Configuration file (TOML).", envvar="HRSYNC_CONFIG"),
    ] = Path("hrsync.toml"),
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Machine-readable output: one JSON object on stdout with schema_version; "
            "progress and messages go to stderr.",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Log every API call; list the people behind each pending action.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the full trace of an error.", envvar="HRSYNC_DEBUG"),
    ] = False,
) -> None:
    ctx.obj = {"config": config, "json": json_output, "verbose": verbose}
    set_mode(json_output=json_output, debug=debug, verbose=verbose)
    given = ctx.get_parameter_source("config")  # typer's own click: compared by name
    named = given is not None and given.name != "DEFAULT"
    if named and not config.exists() and ctx.invoked_subcommand not in NO_CONFIG:
        # Only the default ./hrsync.toml may be absent (the environment may say it all).
        fail(f"{config}: no such configuration file (leave out --config to use ./hrsync.toml)")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redact())


class Redact(logging.Filter):
    """Keep tokens, codes and secrets out of every log line (a URL may carry one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = mask_secrets(text)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


@app.command()
def version() -> None:
    """Print hrsync's version."""
    if mode.json:
        emit_json({"version": __version__})
        return
    console.print(__version__)


@app.command()
def demo(
    size: Annotated[
        int,
        typer.Option(
            min=100,
            help="Employees in the sample HR export (100 or more: the demo's movers, "
            "leavers and rehire are among the first hundred).",
        ),
    ] = 300,
    workdir: Annotated[Path | None, typer.Option(help="Keep the demo's files here.")] = None,
) -> None:
    """Run the whole lifecycle against a local Zoho emulator: joiners, then movers, leavers,
    a rehire and an email change, with a Cliq team per department, a Connect group per
    designation and a role for managers, ending with a plan that has no changes."""
    from hrsync.cli.demo import run_demo

    summary = run_demo(size=size, workdir=workdir)
    if mode.json:
        emit_json({"demo": summary})


def main(argv: list[str] | None = None) -> None:
    """The ``hrsync`` command: an ordinary failure is one line (with --debug, its trace)."""
    try:
        app(args=argv)
    except Exception as problem:  # the one place every failure becomes one line
        from hrsync.failures import describe_failure

        if mode.debug:
            traceback.print_exc(file=sys.stderr)
        fail(describe_failure(problem))
