"""``hrsync sources``: the HR systems whose APIs hrsync reads by a ready configuration, and a
column mapping suggested for an HR export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import tomli_w
import typer
from rich.markup import escape
from rich.table import Table

from hrsync.cli.output import console, emit_json, fail, mode
from hrsync.errors import SourceError
from hrsync.sources.csv_file import CsvSource
from hrsync.sources.headers import Suggestion, suggest_columns
from hrsync.sources.rest.presets import names, preset
from hrsync.sources.rest.spec import RestSpec

app = typer.Typer(
    help='HR systems hrsync reads through their own APIs (`[source] kind = "rest"`), and a '
    "[source.columns] mapping for an HR export.",
    no_args_is_help=True,
)


@app.callback()
def _sources() -> None:
    """HR systems hrsync reads through their own APIs."""


@app.command()
def presets(
    show: Annotated[
        str, typer.Option(help="Print this preset's [source.rest] keys, to copy and adapt.")
    ] = "",
) -> None:
    """The ready configurations: `[source] kind = "rest"` with `preset = "NAME"` reads that
    HR system's API; `[source.rest]` keys in hrsync.toml complete or override the preset's
    (the credentials, `vars` such as the company's domain). With --show NAME, the preset's
    keys as TOML: a start for an HR system that has no preset."""
    if show:
        keys = preset(show)
        if mode.json:
            emit_json({"preset": show, "source.rest": keys})
            return
        # As it is, unwrapped: TOML to copy into hrsync.toml.
        typer.echo(f"# [source.rest] of preset {show}")
        typer.echo(tomli_w.dumps({"source": {"rest": keys}}), nl=False)
        return
    found = {name: RestSpec.model_validate(preset(name)) for name in names()}
    if mode.json:
        emit_json(
            {
                "presets": [
                    {
                        "name": name,
                        "title": spec.title,
                        "about": spec.about,
                        "auth": spec.auth.type,
                        "incremental": spec.since is not None,
                        "needs": [k for k in spec.missing() if k.startswith("vars.")],
                        "per_minute": spec.rate_limit.per_minute,
                    }
                    for name, spec in found.items()
                ]
            }
        )
        return
    table = Table("preset", "HR system", "auth", "reads", "needs", "calls/min")
    for name, spec in found.items():
        reads = "changes; weekly in full" if spec.since else "in full"
        needs = ", ".join(k for k in spec.missing() if k.startswith("vars."))
        table.add_row(
            name, spec.title, spec.auth.type, reads, needs or "-", str(spec.rate_limit.per_minute)
        )
    console.print(table)
    console.print(
        'Use one: \\[source] kind = "rest", preset = "NAME" in hrsync.toml, or '
        "`hrsync integrations create NAME --source-preset NAME --source-var KEY=VALUE`.",
        highlight=False,
    )


@app.command()
def suggest(
    file: Annotated[Path, typer.Argument(help="An HR export, CSV or XLSX.")],
    delimiter: Annotated[str, typer.Option(help="The CSV's delimiter.")] = ",",
    encoding: Annotated[str, typer.Option(help="The CSV's encoding.")] = "utf-8-sig",
) -> None:
    """Propose a [source.columns] mapping from the headers FILE has, knowing the headers of
    BambooHR, Personio, HiBob, Keka, greytHR, Zoho People and Workday exports, with "did you
    mean" for near misses; print it as TOML to paste into hrsync.toml, and what it could not
    map."""
    try:
        headers, rows = CsvSource(file, delimiter=delimiter, encoding=encoding).peek()
    except SourceError as problem:
        fail(str(problem))
    suggestion = suggest_columns(headers, rows)
    if mode.json:
        emit_json({"file": str(file), "headers": headers} | suggestion.as_json())
        return
    typer.echo(f"# {file}: {len(headers)} columns; paste into hrsync.toml")
    typer.echo(suggestion.toml(), nl=False)
    print_leftovers(suggestion)


def print_leftovers(suggestion: Suggestion) -> None:
    """What a suggestion could not map, and what to check in what it did."""
    if suggestion.unmapped:
        console.print(
            f"not mapped (no field takes them): {escape(', '.join(suggestion.unmapped))}",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    wanted = [f for f in suggestion.missing if f in ("employee_id", "email")]
    if wanted:
        console.print(
            f"[red]no column found for {', '.join(wanted)}[/]: hrsync needs it; name the "
            "header under \\[source.columns] yourself",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    others = [f for f in suggestion.missing if f not in wanted]
    if others:
        console.print(
            f"no column for {', '.join(others)}: those fields are not synced",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    for note in suggestion.notes:
        console.print(f"[yellow]check:[/] {escape(note)}", highlight=False, soft_wrap=True)
