"""``hrsync serve``: run the integrations by themselves, on their schedules."""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hrsync.cli.output import console, errors, fail
from hrsync.logcontext import fields
from hrsync.redaction import mask_secrets
from hrsync.service.exposure import Exposure, proxy_networks

# What a log line may carry beyond its message (set with ``extra=``).
FIELDS = ("integration", "run", "change")


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the run's context."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        line.update({k: v for k, v in fields().items() if k in FIELDS and v})
        line.update({k: getattr(record, k) for k in FIELDS if getattr(record, k, None)})
        if record.exc_info:
            line["error"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(line)


def _server_class() -> type:
    import uvicorn

    class Service(uvicorn.Server):
        """uvicorn's server, except that SIGTERM or Ctrl-C ends it with exit code 0 once the
        run in progress has stopped (uvicorn would raise the signal again after shutdown)."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            handled = (signal.SIGINT, signal.SIGTERM)
            originals = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in originals.items():
                    signal.signal(sig, handler)

    return Service


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on: a loopback address (this machine only) unless "
            "--tls-cert/--tls-key, --behind-proxy or --unsafe-bind say how it is reached."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the admin page, webhooks and probes.")] = 8080,
    tls_cert: Annotated[
        Path | None,
        typer.Option(help="TLS certificate chain (PEM): serve HTTPS, from any address."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="The certificate's private key (PEM).")
    ] = None,
    behind_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--behind-proxy",
            help="The address (or network) of the reverse proxy that terminates TLS in front "
            "of hrsync, repeatable: only it (and this machine) may call, and its "
            "X-Forwarded-Proto and X-Forwarded-For are believed.",
        ),
    ] = None,
    unsafe_bind: Annotated[
        bool,
        typer.Option(
            "--unsafe-bind",
            help="Serve plain HTTP beyond this machine anyway: anyone on the way reads the "
            "passphrase and webhook secrets.",
        ),
    ] = False,
    check_every: Annotated[
        float,
        typer.Option(min=1, help="Seconds between two looks at which integrations are due."),
    ] = 30.0,
    log_format: Annotated[
        str, typer.Option(help="text, or json: one JSON object a line, with run context.")
    ] = "text",
    lease: Annotated[
        float,
        typer.Option(
            min=3,
            help="Seconds a worker's claim on an integration lasts unless renewed (it is, "
            "while the run goes on): a dead worker's integrations are taken over after this.",
        ),
    ] = 60.0,
    schedule_minute: Annotated[
        float, typer.Option(min=0.1, hidden=True, help="Seconds a schedule's minute lasts.")
    ] = 60.0,
    proof_window: Annotated[
        float,
        typer.Option(min=0.0, hidden=True, help="Seconds a passphrase given stays good."),
    ] = 300.0,
) -> None:
    """Run every enabled integration on its schedule, one run at a time each, until stopped
    (no cron needed). hrsync.toml's own integration is one of them once the file is complete
    — a Cliq organisation ([cliq] connection, or its keys) and an HR source that can be read —
    and no enabled integration manages that organisation: it runs every 15 min, or as
    [sync] schedule says ("" by hand), and is listed as hrsync.toml. Serves the admin page,
    the HR webhooks, /healthz, /readyz and Prometheus /metrics, on this machine only unless
    told how it is reached safely (TLS, a reverse proxy). SIGTERM or Ctrl-C ends the run in
    progress before its next call to Zoho; the next start re-plans what it did not confirm.
    Several services may share one PostgreSQL store: each integration then runs in one of
    them at a time, under a lease."""
    import uvicorn

    from hrsync.service.app import create_service

    exposure = _exposure(host, tls_cert, tls_key, behind_proxy or [], unsafe_bind)
    if log_format not in ("text", "json"):
        raise typer.BadParameter("text or json", param_hint="--log-format")
    if log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLines())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
    if exposure.warning():
        errors.print(exposure.warning(), markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"hrsync serves on {exposure.address(port)}{exposure.reached()} (the admin page; "
        f"/healthz, /readyz, /metrics); integrations are checked every {check_every:g} s. "
        "Stop with Ctrl-C or SIGTERM.",
        highlight=False,
    )
    service = create_service(
        ctx.obj["config"], tick=check_every, lease=lease, minute=schedule_minute, proof=proof_window
    )
    _say_what_runs(ctx.obj["config"])  # the store is made by now
    Service = _server_class()
    settings = uvicorn.Config(
        exposure.wrap(service),
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=15,
        **exposure.server_options(),
    )
    Service(settings).run()


def _say_what_runs(config: Path) -> None:
    """Say at start whether hrsync.toml's own integration runs (and if not, why), and
    plainly when nothing is enabled: the service would run nothing. A store that cannot be
    opened is /readyz's to say (and the log's)."""
    from hrsync.config import load_settings
    from hrsync.service.app import NOTHING_ENABLED
    from hrsync.service.scheduler import integrations_of
    from hrsync.store import integrations as rows

    try:
        with integrations_of(load_settings(config)) as integrations:
            toml = integrations.toml_info()
            enabled = rows.enabled(integrations.store)
    except Exception:  # said by /readyz, with the details in the log
        return
    if toml is not None and toml.status == "enabled":
        when = toml.schedule or "by hand only (HR events, `hrsync sync`)"
        console.print(
            f"hrsync.toml's own integration runs {when}; it is listed as hrsync.toml, its "
            "runs under `hrsync runs list`.",
            highlight=False,
        )
    elif toml is not None:
        said = "; ".join(toml.pending)
        note = f"hrsync.toml's own integration does not run: {said}"
        errors.print(f"Note: {note}.", markup=False, highlight=False, soft_wrap=True)
    elif not enabled:
        errors.print(f"Note: {NOTHING_ENABLED}.", markup=False, highlight=False, soft_wrap=True)


def _exposure(
    host: str, cert: Path | None, key: Path | None, proxies: list[str], unsafe: bool
) -> Exposure:
    """How the service is reached, as the options say; refused in one line when unsafe."""
    if (cert is None) != (key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together", param_hint="--tls-key")
    try:
        proxy_networks(proxies)
    except ValueError as problem:
        raise typer.BadParameter(str(problem), param_hint="--behind-proxy") from None
    tls = (cert, key) if cert is not None and key is not None else None
    exposure = Exposure(host, tls=tls, proxies=tuple(proxies), unsafe=unsafe)
    if exposure.refusal():
        fail(exposure.refusal())
    return exposure
