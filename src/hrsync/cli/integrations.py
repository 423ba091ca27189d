"""``hrsync integrations``: create, list, show, enable, deactivate, activate, delete."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hrsync.access.integration_config import config_from, load_config
from hrsync.access.integrations import IntegrationInfo, Integrations
from hrsync.access.ownership import TOML, TOML_FILE
from hrsync.cli.admin import confirm_admin
from hrsync.cli.connections import opened as connections_opened
from hrsync.cli.output import console, emit_json, fail, mode
from hrsync.config import Settings, load_settings
from hrsync.plural import counted

app = typer.Typer(
    help="Integrations tie a source to a target with rules and a schedule; enabled only "
    "once complete.",
    no_args_is_help=True,
)


@contextmanager
def opened(ctx: typer.Context) -> Iterator[Integrations]:
    with connections_opened(ctx) as connections:
        toml = load_settings(ctx.obj["config"])  # its own integration is one of them
        yield Integrations(connections.store, connections, toml=toml)


def settings_for(
    ctx: typer.Context, integration: str | None, *, any_state: bool = False
) -> tuple[Settings, str]:
    """The settings of ``--integration NAME`` (enabled, unless ``any_state``), or of
    hrsync.toml."""
    base = load_settings(ctx.obj["config"])
    if not integration:
        return base, "default"
    with opened(ctx) as integrations:
        if any_state:
            return integrations.settings(integration, base), integration
        return integrations.runnable(integration, base), integration


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="A TOML file shaped like hrsync.toml (its [store] aside)."),
    ] = None,
    source_file: Annotated[Path | None, typer.Option(help="An HR export (CSV or XLSX).")] = None,
    source_connection: Annotated[
        str, typer.Option(help="A Zoho People connection as the source.")
    ] = "",
    source_scim: Annotated[
        bool,
        typer.Option(
            "--source-scim",
            help="Identity providers and HR scripts push the people over SCIM 2.0 to "
            "`hrsync serve` at /scim/v2/ (then `hrsync integrations scim-token NAME`).",
        ),
    ] = False,
    source_preset: Annotated[
        str,
        typer.Option(
            help="An HR system's API as the source, from a ready configuration (`hrsync "
            "sources presets`: bamboohr, personio, hibob); complete it with --source-var and "
            "the credentials in --from's [source.rest.auth] or HRSYNC_SOURCE__REST__AUTH__*.",
        ),
    ] = "",
    source_var: Annotated[
        list[str] | None,
        typer.Option(help="A value the preset needs, NAME=VALUE (e.g. company=acme)."),
    ] = None,
    target: Annotated[str, typer.Option(help="The Zoho Cliq connection.")] = "",
    connect: Annotated[str, typer.Option(help="A Zoho Connect connection.")] = "",
    network_id: Annotated[str, typer.Option(help="The Connect network's scopeID.")] = "",
    schedule: Annotated[
        str,
        typer.Option(
            help="When it runs: 'every 15 min', 'every day at 02:00 Asia/Kolkata', "
            "'weekdays at 07:30', 'cron: 0 2 * * 1-5 Europe/Berlin' (UTC unless a zone is named)."
        ),
    ] = "",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these people, FIELD=VALUE[,VALUE] (repeatable; every field must match), "
            "e.g. department=Sales,Support, and not FIELD!=VALUE[,VALUE] (any excludes), e.g. "
            "employment_type!=Contractor: the rest are left as Cliq has them "
            "(on_leave=deactivate: a managed person who leaves the scope is deactivated). "
            "Needed to share a Cliq organisation another integration manages, with a scope "
            "disjoint from its.",
        ),
    ] = None,
) -> None:
    """Create an integration as a draft; `show` lists what it still needs, `enable` starts it.
    Refused when another integration (hrsync.toml's own included) manages the same Cliq
    organisation — the same Cliq host and OAuth client — unless their scopes are disjoint."""
    config = config_from(
        source_file=str(source_file.resolve()) if source_file else "",
        source_connection=source_connection,
        source_scim=source_scim,
        source_preset=source_preset,
        source_vars=source_var,
        target=target,
        connect=connect,
        network_id=network_id,
        scope=scope,
        config=load_config(from_file) if from_file else None,
    )
    with opened(ctx) as integrations:
        _show(ctx, integrations.create(name, config, schedule=schedule))


@app.command()
def configure(
    ctx: typer.Context,
    name: str,
    from_file: Annotated[Path, typer.Option("--from", help="A TOML file shaped like hrsync.toml.")],
) -> None:
    """Replace an integration's configuration; if it is now incomplete it goes back to draft."""
    with opened(ctx) as integrations:
        _show(ctx, integrations.configure(name, load_config(from_file)))


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every integration with its status and pending actions."""
    with opened(ctx) as integrations:
        found = integrations.every()
    if ctx.obj["json"]:
        emit_json({"integrations": [dataclasses.asdict(i) for i in found]})
        return
    if not found:
        console.print("No integrations yet: `hrsync integrations create NAME …`")
        return
    table = Table("name", "status", "source", "target", "schedule", "next run", "pending actions")
    for info in found:
        pending = "; ".join(info.pending) or "-"
        table.add_row(
            info.label or info.name, info.status, info.source, info.target,
            info.schedule or "by hand", info.next_run if info.schedule else "-", pending,
        )  # fmt: skip
    console.print(table)


@app.command()
def show(ctx: typer.Context, name: str) -> None:
    """One integration: source, target, schedule, status and pending actions."""
    with opened(ctx) as integrations:
        _show(ctx, integrations.show(name))


def _show(ctx: typer.Context, info: IntegrationInfo) -> None:
    if ctx.obj["json"]:
        emit_json(dataclasses.asdict(info))
        return
    console.print(f"[bold]{info.label or info.name}[/]: {info.status}")
    console.print(f"  source: {info.source}", highlight=False)
    console.print(f"  target: {info.target}", highlight=False)
    if info.schedule:
        console.print(f"  schedule: {info.schedule} (next run: {info.next_run})", highlight=False)
    for action in info.pending:
        console.print(f"  [yellow]pending action:[/] {action}", highlight=False)
    if not info.pending and info.status == "draft":
        console.print(f"  complete: `hrsync integrations enable {info.name}`")


@app.command("run-due")
def run_due(ctx: typer.Context) -> None:
    """Sync every enabled integration whose schedule is due, hrsync.toml's own included (run
    this from cron or a systemd timer every few minutes; each keeps to its own schedule)."""
    from hrsync.cli.syncing import sync_integration

    with opened(ctx) as integrations:
        due = integrations.due()
    runs = []
    for name in due:
        console.print(f"[bold]{TOML_FILE if name == TOML else name}[/]")
        runs.append(sync_integration(ctx, name))
    failed = [str(r["integration"]) for r in runs if not r["ok"]]
    if mode.json:
        emit_json({"runs": runs})
        if failed:
            raise typer.Exit(1)
    elif not due:
        console.print("Nothing is due.")
    if failed:
        fail(f"{counted(len(failed), 'integration')} did not finish cleanly: {', '.join(failed)}")


@app.command()
def enable(ctx: typer.Context, name: str) -> None:
    """Enable an integration whose configuration is complete, unless another integration
    manages its Cliq organisation already with a scope that is not disjoint."""
    with opened(ctx) as integrations:
        _show(ctx, integrations.enable(name))


@app.command()
def deactivate(ctx: typer.Context, name: str) -> None:
    """Stop syncing; the configuration, links and history stay."""
    with opened(ctx) as integrations:
        _show(ctx, integrations.deactivate(name))


@app.command()
def activate(ctx: typer.Context, name: str) -> None:
    """Resume a deactivated integration (if it is still complete)."""
    with opened(ctx) as integrations:
        _show(ctx, integrations.activate(name))


@app.command()
def webhook(
    ctx: typer.Context,
    name: str,
    signed_only: Annotated[
        bool,
        typer.Option(
            "--signed-only", help="Refuse calls that carry the secret as is: signatures only."
        ),
    ] = False,
) -> None:
    """Set the secret HR events must carry to ask `hrsync serve` for a sync of the people they
    name (POST /hooks/people/NAME). A sender carries it as is (header X-Hrsync-Secret or
    ?secret=) or signs with it: X-Hrsync-Timestamp (Unix seconds) and X-Hrsync-Signature,
    "sha256=" and the hex HMAC-SHA256 of the timestamp, a dot and the body. The secret comes
    from HRSYNC_WEBHOOK_SECRET or a hidden prompt; hrsync keeps it sealed by its key."""
    import os

    from hrsync.access.vault import Vault
    from hrsync.service.hooks import set_secret

    with opened(ctx) as integrations:
        integrations.show(name)  # it must exist
    secret = os.environ.get("HRSYNC_WEBHOOK_SECRET", "")
    if not secret:
        secret = typer.prompt(
            "Webhook secret (at least 24 characters)", hide_input=True, confirmation_prompt=True
        )
    if len(secret) < 24:
        fail("the webhook secret must be at least 24 characters")
    store = load_settings(ctx.obj["config"]).store
    set_secret(store.url, Vault.open(store.key_file), name, secret, signed_only=signed_only)
    carried = "" if signed_only else "header X-Hrsync-Secret, or ?secret=; or "
    console.print(
        f"HR events for {name} are taken at POST /hooks/people/{name} with that secret "
        f"({carried}signed: X-Hrsync-Timestamp and X-Hrsync-Signature); the body names the "
        'people: {"employee_ids": [...]} or ?employee_id=ID.',
        highlight=False,
    )


@app.command("scim-token")
def scim_token(ctx: typer.Context, name: str) -> None:
    """Make the bearer token an identity provider (Entra ID, Okta, …) or an HR script sends
    to push people to NAME, a SCIM source, at `hrsync serve`'s /scim/v2/. It is shown once
    and kept only as a hash; making another rotates it: the one before stops working at once
    (which needs the admin passphrase)."""
    from hrsync.access.scim_tokens import make_token
    from hrsync.clock import RealClock
    from hrsync.store.scim import ScimStore

    settings = load_settings(ctx.obj["config"])
    name = TOML if name == TOML_FILE else name
    with opened(ctx) as integrations:
        if integrations.settings(name, settings).source.kind != "scim":
            fail(f'{name} does not take SCIM pushes: its [source] kind is not "scim"')
        scim = ScimStore.on(integrations.store)
        if scim.token_made_at(name) is not None:
            confirm_admin(integrations.store, f"replacing {name}'s SCIM token")
    token = make_token(settings.store.url, name, clock=RealClock())
    if mode.json:
        emit_json({"integration": name, "token": token, "path": "/scim/v2/"})
        return
    shown = TOML_FILE if name == TOML else name
    console.print(
        f"{shown}'s SCIM token (shown once; hrsync keeps only its hash):\n\n  {token}\n\n"
        "Give your identity provider the tenant URL https://YOUR-HRSYNC-HOST/scim/v2/ and this "
        "token as its secret token (Bearer).",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def delete(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete an integration. Irreversible: asks, and needs the admin passphrase."""
    with opened(ctx) as integrations:
        integrations.show(name)
        if not yes and not typer.confirm(
            f"Delete the integration {name!r}? This cannot be undone.", err=mode.json
        ):
            raise typer.Exit(1)
        confirm_admin(integrations.store, f"deleting the integration {name!r}")
        integrations.delete(name)
    if mode.json:
        emit_json({"name": name, "deleted": True})
    else:
        console.print(f"{name}: deleted.")
