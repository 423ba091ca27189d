"""Builds the object graph from settings: the one place that constructs clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import httpx

from hrsync.access.connections import Connections, ConnectionTokenSource
from hrsync.access.services import how_to_grant
from hrsync.access.tokens import ConfigTokenSource
from hrsync.access.vault import Vault
from hrsync.api.auth import TokenAuth, TokenSource
from hrsync.api.cliq import CliqClient
from hrsync.api.connect import ConnectClient
from hrsync.api.http import ZohoHttp
from hrsync.api.people import PeopleClient
from hrsync.api.ratelimit import EndpointLimit, Pacer
from hrsync.api.recording import Recorder
from hrsync.api.rest import ENDPOINT, RestClient, auth_for
from hrsync.api.retry import DEFAULT_HANDLERS, RetryHandler
from hrsync.clock import Clock, RealClock
from hrsync.config import Settings, ZohoServiceConfig, refuse_plain_http
from hrsync.errors import ConfigError, Via
from hrsync.sources.csv_file import CsvSource
from hrsync.sources.rest.source import RestSource, source_key
from hrsync.sources.scim import ScimSource
from hrsync.sources.scoped import ScopedSource
from hrsync.sources.zoho_people import PeopleSource
from hrsync.store import Store
from hrsync.store.scim import ScimStore
from hrsync.sync.engine import Engine, Source
from hrsync.sync.rules import MembershipRules
from hrsync.sync.safety import Thresholds
from hrsync.sync.state import RoleSpec
from hrsync.targets.cliq import CliqTarget
from hrsync.targets.connect import ConnectTarget


@dataclass
class App:
    engine: Engine
    http: ZohoHttp
    store: Store
    client: httpx.Client
    owns_client: bool = True
    services: list[ZohoHttp] = field(default_factory=list)  # every Zoho API client built

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
    transport: httpx.BaseTransport | None = None,
    pacer_margin: float = 0.25,
    integration: str = "default",
    recorder: Recorder | None = None,
    retry_handlers: Sequence[RetryHandler] = DEFAULT_HANDLERS,
) -> App:
    """hrsync's engine and clients for ``settings``; with a ``recorder``, every exchange with
    Zoho is written down (an injected ``client`` must then carry its ``event_hooks()``).
    A ``transport`` (an emulator's, or a test's wrapping one) goes into the client built
    here, which the app then owns; an injected ``client`` brings its own. ``retry_handlers``
    replace the default retries (a notification is not worth waiting out a lock period)."""
    clock = clock or RealClock()
    settings.cliq.check("cliq")
    if settings.source.kind == "zoho_people":
        settings.people.check("people")
    if client is not None and transport is not None:
        raise ValueError("pass a client or a transport for one, not both")
    owns_client = client is None
    if client is None:
        hooks = recorder.event_hooks() if recorder else None
        client = httpx.Client(timeout=settings.cliq.timeout, event_hooks=hooks, transport=transport)
    elif recorder is not None and recorder.record not in client.event_hooks["response"]:
        raise ValueError("an injected client records only if built with recorder.event_hooks()")
    store = Store(settings.store.url, clock=clock, integration=integration)

    services: list[ZohoHttp] = []

    by_keys: dict[tuple[str, ...], TokenSource] = {}
    connections: Connections | None = None

    def token_source(service: ZohoServiceConfig) -> tuple[TokenSource, str]:
        """One token per credentials (Cliq, People and Connect often share one refresh
        token), kept in the store and shared with every process, as a connection's is."""
        nonlocal connections
        if service.connection:
            if connections is None:
                vault = Vault.open(settings.store.key_file)
                connections = Connections(store, vault, client, clock)
            api_url = connections.show(service.connection).api_url
            return ConnectionTokenSource(connections, service.connection), api_url
        key = (
            service.accounts_url,
            service.client_id,
            service.refresh_token.get_secret_value(),
        )
        if key not in by_keys:
            by_keys[key] = ConfigTokenSource(
                store,
                client,
                accounts_url=service.accounts_url,
                client_id=service.client_id,
                client_secret=service.client_secret,
                refresh_token=service.refresh_token,
                clock=clock,
            )
        return by_keys[key], service.api_url

    def zoho(service: ZohoServiceConfig) -> ZohoHttp:
        tokens, api_url = token_source(service)
        section = next(s for s in ("cliq", "people", "connect") if getattr(settings, s) is service)
        made = ZohoHttp(
            client,
            base_url=api_url,
            auth=TokenAuth(tokens),
            pacer=Pacer(clock, margin=pacer_margin, log=store.call_log(api_url)),
            clock=clock,
            dry_run=dry_run,
            retry_handlers=retry_handlers,
            via=via_of(section, service.connection),
        )
        services.append(made)
        return made

    http = zoho(settings.cliq)
    target = CliqTarget(
        CliqClient(http),
        protected_emails=settings.safety.protected_emails,
        memory=store,
        full_read_every=settings.drift.full_read_hours * 3600,
        regrant=partial(how_to_grant, "cliq", settings.cliq.connection),
    )
    src = settings.source
    source: Source
    if src.kind == "zoho_people":
        source = PeopleSource(
            PeopleClient(zoho(settings.people)),
            bookmarks=store,
            clock=clock,
            form=src.form,
            status_map=src.status_map,
            full_every=src.full_read_hours * 3600,
        )
    elif src.kind == "rest":
        source = rest_source(settings, store, client, clock, pacer_margin, retry_handlers)
    elif src.kind == "scim":
        source = ScimSource(ScimStore.on(store), integration, clock=clock, on_delete=src.on_delete)
    else:
        source = CsvSource(
            src.path,
            columns=src.columns,
            status_map=src.status_map,
            date_format=src.date_format,
            delimiter=src.delimiter,
            encoding=src.encoding,
        )
    if settings.scope.restricts:  # the others HR lists are not this integration's
        source = ScopedSource(source, settings.scope)
    safety = settings.safety
    thresholds = Thresholds(
        safety.max_deactivation_share,
        safety.deactivation_floor,
        safety.max_blanking_share,
        safety.max_removal_share,
    )
    rules = settings.rules
    connect = None
    if settings.connect.configured:
        settings.connect.check("connect")
        connect = ConnectTarget(
            ConnectClient(zoho(settings.connect), network_id=settings.connect.network_id)
        )
    elif rules.connect_groups_per or rules.connect_groups:
        raise ConfigError(
            "[rules] names Connect groups but [connect] has no network_id (the scopeID of "
            "your Zoho Connect network)"
        )
    engine = Engine(
        source,
        target,
        store,
        clock=clock,
        thresholds=thresholds,
        custom_fields=settings.custom_fields,
        teams=MembershipRules.from_config(rules.teams_per, rules.team_names, rules.teams),
        connect=connect,
        connect_groups=MembershipRules.from_config(
            rules.connect_groups_per, rules.connect_group_names, rules.connect_groups
        ),
        roles=[
            RoleSpec(
                r.name,
                r.profile_type,
                r.clone_of,
                r.description,
                tuple(tuple(sorted(e.items())) for e in r.permissions),
            )
            for r in settings.roles
        ],
        role_rules=MembershipRules.from_config((), {}, rules.roles),
        department_rules=MembershipRules.from_config((), {}, rules.departments),
        designation_rules=MembershipRules.from_config((), {}, rules.designations),
        invite_days_before=settings.lifecycle.invite_days_before,
        drift_ignore=settings.drift.ignore,
    )
    return App(engine, http, store, client, owns_client, services)


def rest_source(
    settings: Settings,
    store: Store,
    client: httpx.Client,
    clock: Clock,
    pacer_margin: float,
    retry_handlers: Sequence[RetryHandler] = DEFAULT_HANDLERS,
) -> RestSource:
    """The ``rest`` source of ``settings``: its API's calls paced at the documented limit,
    counted in the store's call log with every other process reading the same API."""
    spec = settings.source.spec
    missing = spec.missing()
    if missing:
        raise ConfigError(
            f"[source.rest] is missing {', '.join(missing)}"
            + (f" (preset {settings.source.preset!r})" if settings.source.preset else "")
        )
    base = spec.base_url
    auth: httpx.Auth | None
    if spec.connection:  # a stored connection holds the credentials (and may give the URL)
        connections = Connections(store, Vault.open(settings.store.key_file), client, clock)
        auth, base_of_connection = connections.auth(spec.connection)
        base = base or base_of_connection
    else:
        auth = None
    base = spec.filled(base)
    refuse_plain_http(base, allow_http=spec.allow_http, what="[source.rest] base_url")
    if auth is None:
        auth = auth_for(spec.auth, client, base_url=base, clock=clock)
    limit = EndpointLimit(spec.rate_limit.per_minute, spec.rate_limit.lock_seconds)
    http = ZohoHttp(
        client,
        base_url=base,
        auth=auth or httpx.Auth(),
        pacer=Pacer(clock, limits={ENDPOINT: limit}, margin=pacer_margin, log=store.call_log(base)),
        clock=clock,
        retry_handlers=retry_handlers,
    )
    return RestSource(
        RestClient(http, spec),
        spec,
        bookmarks=store,
        clock=clock,
        status_map=settings.source.status_map,
        date_format=settings.source.date_format,
        key=source_key(settings.source.preset),
    )


TITLES = {"cliq": "Zoho Cliq", "people": "Zoho People", "connect": "Zoho Connect"}


def via_of(section: str, connection: str) -> Via:
    """Whose credentials calls to a Zoho service go out with, and where its hosts are set."""
    title = TITLES[section]
    if connection:
        return Via(
            f"{title} through connection {connection}",
            f"the hosts of connection {connection} (`hrsync connections show {connection}`)",
        )
    return Via(
        f"{title} with the keys in hrsync.toml",
        f"[{section}] api_url and accounts_url in hrsync.toml",
    )
