"""Builds the object graph from settings: the one place that constructs clients."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from hrsync.api.auth import OAuthTokenSource
from hrsync.api.cliq import CliqClient
from hrsync.api.http import ZohoHttp
from hrsync.api.ratelimit import Pacer
from hrsync.clock import Clock, RealClock
from hrsync.config import Settings
from hrsync.sources.csv_file import CsvSource
from hrsync.store import Store
from hrsync.sync.engine import Engine
from hrsync.sync.safety import Thresholds
from hrsync.targets.cliq import CliqTarget


@dataclass
class App:
    engine: Engine
    http: ZohoHttp
    store: Store
    client: httpx.Client
    owns_client: bool = True

    def close(self) -> None:
        if self.owns_client:  # an injected client belongs to whoever injected it
            self.client.close()
        self.store.close()


def build(
    settings: Settings,
    *,
    dry_run: bool,
    clock: Clock | None = None,
    client: httpx.Client | None = None,
    pacer_margin: float = 0.25,
) -> App:
    clock = clock or RealClock()
    settings.cliq.check("cliq")
    owns_client = client is None
    client = client or httpx.Client(timeout=settings.cliq.timeout)
    store = Store(settings.store.url, clock=clock)
    auth = OAuthTokenSource(
        client,
        accounts_url=settings.cliq.accounts_url,
        client_id=settings.cliq.client_id,
        client_secret=settings.cliq.client_secret,
        refresh_token=settings.cliq.refresh_token,
        clock=clock,
    )
    http = ZohoHttp(
        client,
        base_url=settings.cliq.api_url,
        auth=auth,
        pacer=Pacer(clock, margin=pacer_margin, log=store.call_log(settings.cliq.api_url)),
        clock=clock,
        dry_run=dry_run,
    )
    target = CliqTarget(CliqClient(http), protected_emails=settings.safety.protected_emails)
    src = settings.source
    source = CsvSource(
        src.path,
        columns=src.columns,
        status_map=src.status_map,
        date_format=src.date_format,
        delimiter=src.delimiter,
        encoding=src.encoding,
    )
    thresholds = Thresholds(
        settings.safety.max_deactivation_share, settings.safety.deactivation_floor
    )
    engine = Engine(source, target, store, clock=clock, thresholds=thresholds)
    return App(engine, http, store, client, owns_client)
