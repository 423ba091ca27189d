"""``hrsync emulator serve``: a local Zoho (Accounts, Cliq) for tests and trials."""

from __future__ import annotations

from typing import Annotated

import typer

from hrsync.cli.output import console

app = typer.Typer(help="A local Zoho to try hrsync against.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8990,
    clock: Annotated[
        str, typer.Option(help="real, or virtual (moved by POST /_emulator/clock/advance).")
    ] = "real",
) -> None:
    """Serve Zoho Accounts, Cliq and the control API under /_emulator/ on one port."""
    import uvicorn

    from hrsync.clock import RealClock, VirtualClock
    from hrsync.emulator import Emulator
    from hrsync.emulator.asgi import create_app

    if clock not in ("real", "virtual"):
        raise typer.BadParameter("--clock is real or virtual")
    emulator = Emulator(VirtualClock() if clock == "virtual" else RealClock())
    client = emulator.accounts.client
    console.print(
        f"Zoho emulator on http://{host}:{port} ({clock} clock); "
        f"OAuth client {client.client_id} (secret at GET /_emulator/clients)"
    )
    uvicorn.run(create_app(emulator), host=host, port=port, log_level="warning")
