"""``hrsync emulator serve``: a local Zoho (Accounts, Cliq) for tests and trials; ``hrsync
emulator replay``: where a recorded run's answers differ from the emulator's."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hrsync.cli.output import console, emit_json, errors, fail, mode
from hrsync.emulator.variants import VARIANTS
from hrsync.emulator.variants import parse as parse_variants
from hrsync.urls import is_loopback

if TYPE_CHECKING:
    from hrsync.emulator import Emulator
    from hrsync.emulator.replay import Replay

app = typer.Typer(help="A local Zoho to try hrsync against.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on: a loopback address unless --unsafe-bind.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8990,
    clock: Annotated[
        str, typer.Option(help="real, or virtual (moved by POST /_emulator/clock/advance).")
    ] = "real",
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            help="Play disputed readings of Zoho's API instead of the default ones, e.g. "
            "--variant update-wrapped,throttle-400. Known: " + ", ".join(VARIANTS) + ". "
            "The table, with sources: GET /_emulator/variants.",
        ),
    ] = None,
    unsafe_bind: Annotated[
        bool,
        typer.Option(
            "--unsafe-bind",
            help="Listen on a non-loopback address: anyone who reaches it can reset the "
            "emulator and read its OAuth client secret.",
        ),
    ] = False,
    print_connection: Annotated[
        bool,
        typer.Option(
            "--print-connection",
            help="Print the hrsync.toml lines that reach this emulator ([cliq] with its "
            "client, a refresh token and allow_http) on stdout; everything else to stderr.",
        ),
    ] = False,
) -> None:
    """Serve Zoho Accounts, Cliq and the control API under /_emulator/ on one port."""
    if not (unsafe_bind or is_loopback(host)):
        fail(
            f"--host {host}: the emulator listens on a loopback address only (127.0.0.1, ::1, "
            "localhost), "
            "since its control API and OAuth client secret are open to anyone who reaches it; "
            "add --unsafe-bind to listen there anyway"
        )
    import uvicorn

    from hrsync.clock import RealClock, VirtualClock
    from hrsync.emulator import Emulator
    from hrsync.emulator.asgi import create_app

    if clock not in ("real", "virtual"):
        raise typer.BadParameter("--clock is real or virtual")
    try:
        chosen = parse_variants(variant or ())
    except ValueError as unknown:
        raise typer.BadParameter(str(unknown), param_hint="--variant") from None
    emulator = Emulator(VirtualClock() if clock == "virtual" else RealClock(), variants=chosen)
    client = emulator.accounts.client
    if not is_loopback(host):
        errors.print(f"warning: listening on {host}, beyond this machine", markup=False)
    address = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    base = f"http://{address}:{port}"
    (errors if print_connection else console).print(
        f"Zoho emulator on {base} ({clock} clock"
        + (f"; variants {', '.join(sorted(chosen))}" if chosen else "")
        + "); "
        f"OAuth client {client.client_id} (secret at GET /_emulator/clients)"
    )
    if print_connection:
        _print_connection(emulator, base)
    # The emulator dates its answers by its own clock (virtual or real), not uvicorn's.
    uvicorn.run(create_app(emulator), host=host, port=port, log_level="warning", date_header=False)


def _print_connection(emulator: Emulator, base: str) -> None:
    """Print hrsync.toml's [cliq] for ``base``, with a refresh token granted before serving
    (through the emulator's own consent flow, in-process), so nobody digs out the secret."""
    import httpx

    from hrsync.cli.demo import grant_refresh_token
    from hrsync.emulator.transport import mock_transport

    with httpx.Client(transport=mock_transport(emulator)) as http:
        client_id, secret, refresh = grant_refresh_token(http, base)
    # print(), not the console: exact lines, flushed now, since serving blocks after this
    print(connection_toml(base, client_id=client_id, secret=secret, refresh=refresh), flush=True)


def connection_toml(base: str, *, client_id: str, secret: str, refresh: str) -> str:
    """The hrsync.toml lines that reach the emulator at ``base`` as its pre-registered client."""
    return "\n".join(
        (
            f"# hrsync.toml for the Zoho emulator at {base}, while it runs: its organisation",
            "# and tokens live in memory (after a restart, print these again and delete",
            "# hrsync.db). The HR export is employees.csv beside this file unless [source]",
            '# says otherwise (path = "people.csv", and [source.columns] for other headers).',
            "[cliq]",
            f'api_url = "{base}"',
            f'accounts_url = "{base}"',
            f'client_id = "{client_id}"',
            f'client_secret = "{secret}"',
            f'refresh_token = "{refresh}"',
            "allow_http = true                # plain HTTP, to a loopback address only",
        )
    )


@app.command()
def replay(
    record: Annotated[Path, typer.Argument(help="A file written by --record.")],
    variant: Annotated[
        list[str] | None,
        typer.Option("--variant", help="Replay against the emulator playing these readings."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Send a recorded run's requests to the emulator and report every recorded answer whose
    shape (keys, JSON types, status) the emulator does not give. Exit 1 if any differs."""
    from hrsync.emulator.replay import read_exchanges
    from hrsync.emulator.replay import replay as replay_exchanges

    try:
        chosen = parse_variants(variant or ())
        exchanges = read_exchanges(record.read_text(encoding="utf-8").splitlines())
    except ValueError as problem:
        raise typer.BadParameter(str(problem)) from None
    except OSError as problem:
        fail(f"{record}: {problem.strerror}")
    found = replay_exchanges(exchanges, variants=chosen)
    if json_output or mode.json:
        emit_json(
            {
                "compared": found.compared,
                "skipped": [{"line": n, "route": r, "why": w} for n, r, w in found.skipped],
                "differences": [dataclasses.asdict(d) for d in found.differences],
            }
        )
    else:
        _show_replay(found)
    if found.differences:
        raise typer.Exit(1)


def _show_replay(found: Replay) -> None:
    if not found.differences:
        console.print(
            f"All {found.compared} answers have the emulator's shapes; not replayed: "
            f"{len(found.skipped)} (token requests, throttled answers, ids with no stand-in)."
        )
        return
    table = Table("line", "route", "Zoho gave, the emulator lacks", "types", "status", "extra")
    for d in found.differences:
        status = f"{d.status[0]} vs {d.status[1]}" if d.status else ""
        lines = ["\n".join(d.missing), "\n".join(d.types), status, "\n".join(d.extra)]
        table.add_row(str(d.line), d.route, *lines)
    console.print(table)
    console.print(
        f"{len(found.differences)} of {found.compared} answers differ from the emulator's."
    )
