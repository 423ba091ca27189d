"""``hrsync runs list|show``: what earlier plans and applies did."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from hrsync.cli.output import console, emit_json, fail
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.store import Store

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
    for entry in journal:
        error = f" — {entry.error}" if entry.error else ""
        console.print(f"  [{entry.state}] {entry.summary}{error}", highlight=False)
