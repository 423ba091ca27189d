"""``hrsync admin``: the passphrase that guards sensitive actions, and re-authenticating."""

from __future__ import annotations

import os
import sys

import typer

from hrsync.access import admin as guard
from hrsync.cli.output import console, emit_json, fail, mode
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.errors import HrsyncError
from hrsync.store import Store

app = typer.Typer(help="The admin passphrase that guards deletions and credential changes.")


def _store(ctx: typer.Context) -> Store:
    return Store(load_settings(ctx.obj["config"]).store.url, clock=RealClock())


@app.command()
def passphrase(ctx: typer.Context) -> None:
    """Set the admin passphrase (or change it, giving the current one)."""
    store = _store(ctx)
    try:
        current = None
        if guard.has_passphrase(store):
            current = typer.prompt("Current passphrase", hide_input=True, err=mode.json)
        new = typer.prompt(
            "New passphrase (12 characters or more)",
            hide_input=True,
            confirmation_prompt=True,
            err=mode.json,
        )
        guard.set_passphrase(store, new, current=current)
    except HrsyncError as problem:
        fail(str(problem))
    finally:
        store.close()
    _done("The admin passphrase is set.")


@app.command()
def reauth(ctx: typer.Context) -> None:
    """Re-authenticate: sensitive actions are allowed for the next five minutes."""
    store = _store(ctx)
    try:
        confirm_admin(store, "re-authenticating", force=True)
    finally:
        store.close()
    _done("Re-authenticated for five minutes.")


def _done(message: str) -> None:
    if mode.json:
        emit_json({"ok": True, "message": message})
    else:
        console.print(message)


def confirm_admin(store: Store, action: str, *, force: bool = False) -> None:
    """Let ``action`` go if the admin re-authenticated lately; otherwise ask for the
    passphrase (or take it from HRSYNC_ADMIN_PASSPHRASE), or refuse."""
    try:
        if not force:
            try:
                guard.require_recent(store, action)
                return
            except guard.ReauthenticationNeeded:
                pass
        given = os.environ.get(guard.ENV_PASSPHRASE, "")
        if not given and sys.stdin.isatty():
            given = typer.prompt(f"Admin passphrase for {action}", hide_input=True, err=mode.json)
        if not given:
            guard.require_recent(store, action)  # raises with the explanation
        guard.reauthenticate(store, given)
    except HrsyncError as problem:
        fail(str(problem))
