"""``hrsync sources``: the HR systems whose APIs hrsync reads by a ready configuration."""

from __future__ import annotations

from typing import Annotated

import tomli_w
import typer
from rich.table import Table

from hrsync.cli.output import console, emit_json, mode
from hrsync.sources.rest.presets import names, preset
from hrsync.sources.rest.spec import RestSpec

app = typer.Typer(
    help='HR systems hrsync reads through their own APIs (`[source] kind = "rest"`).',
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
