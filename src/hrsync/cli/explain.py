"""``hrsync explain EMPLOYEE``: what hrsync wants for one person, and why."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hrsync.cli.output import console, emit_json, fail
from hrsync.config import load_settings
from hrsync.sources.scoped import held_outside
from hrsync.wiring import build


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain(
    ctx: typer.Context,
    employee: Annotated[str, typer.Argument(help="An employee id or an email address.")],
) -> None:
    """Show every field, team, group and role hrsync wants for one person in Cliq and Zoho
    Connect, with the HR value or the rule behind each. Reads the HR source only."""
    app = build(load_settings(ctx.obj["config"]), dry_run=True)
    try:
        found, snapshot = app.engine.explain(employee)
    finally:
        app.close()
    if found is None:
        problems = [str(e) for e in snapshot.errors if employee in (e.employee_id, e.where)]
        detail = ("; ".join(problems)) if problems else "no such employee id or email in HR"
        outside = held_outside(snapshot, employee)
        if outside:
            detail = f"{detail}; {outside}" if problems else outside
        elif employee in snapshot.held:
            detail += (
                f"; hrsync leaves them exactly as Cliq has them until {snapshot.held[employee]} "
                "is fixed"
            )
        fail(f"{employee}: {detail}")
    assert found is not None
    if ctx.obj["json"]:
        emit_json(dataclasses.asdict(found))
        return
    console.print(
        f"[bold]{found.email}[/] (employee {found.employee_id}) — {found.source}"
        f"{', ' + found.origin if found.origin else ''}"
    )
    console.print(f"  {found.status}")
    if found.scope:
        console.print(f"  {escape(found.scope)}", highlight=False)
    if found.pushed:
        console.print(f"  last push: {escape(found.pushed)}", highlight=False)
    for problem in found.problems:
        console.print(f"  [yellow]problem:[/] {problem}", highlight=False)
    table = Table("", "Cliq / Connect", "value", "because", box=None, pad_edge=False)
    for line in found.lines:
        table.add_row(*(escape(t) for t in (line.section, line.name, line.value, line.because)))
    console.print(table)
