"""``hrsync doctor``: a first contact with a real organisation, checked item by item.

Each check reads the least it can (one page of each listing hrsync reads, once) and ends ✓,
⚠ (it works; read the note) or ✗ with its remedy: the configuration, the call budget left,
each service's token and scopes, every Cliq listing in the shape hrsync reads, the drop-downs
and roles the configuration names, the admin behind the token, the People form, the Connect
network, the consent redirect URI, and the readings of Zoho's disputed answers this
organisation plays (``readings``). A host that cannot be reached ends the network checks:
the rest are "not checked". Nothing is written, except with ``probe`` (a test user): one
field set to its current value, to settle which update body Cliq takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hrsync.access.connections import Connections
from hrsync.access.vault import Vault
from hrsync.api.http import ZohoHttp
from hrsync.api.retry import RateLimitRetry, RetryHandler, TransientRetry
from hrsync.clock import Clock
from hrsync.config import Settings, ZohoServiceConfig
from hrsync.doctor.checks import Check, failed
from hrsync.doctor.cliq import CliqChecks
from hrsync.doctor.local import budget_check, configuration_check, redirect_check, stalled_check
from hrsync.doctor.readings import Context, settle
from hrsync.doctor.reads import Reach, Reader, Service
from hrsync.doctor.rest import rest_checks
from hrsync.doctor.sources import connect_network_check, people_form_check
from hrsync.doctor.tokens import scopes_check, token_check
from hrsync.errors import HrsyncError
from hrsync.sources.rest.source import RestSource
from hrsync.sources.scoped import unscoped
from hrsync.sources.zoho_people import PeopleSource
from hrsync.targets.cliq import CliqTarget
from hrsync.targets.connect import ConnectTarget
from hrsync.wiring import App

__all__ = ["Check", "Diagnosis", "Options", "diagnose"]
# Doctor reports a host it cannot reach at once rather than trying it again and again.
RETRIES: tuple[RetryHandler, ...] = (RateLimitRetry(), TransientRetry(retry_unreachable=False))


@dataclass(frozen=True, slots=True)
class Options:
    """What the admin asked of doctor beyond the reads."""

    admin_email: str = ""  # the account that authorised hrsync (default: the org's owner)
    test_user: str = ""  # with probe_writes: whose field is set to its current value
    probe_writes: bool = False


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Doctor's findings, and the reading of each disputed answer it could settle."""

    checks: list[Check]
    readings: dict[str, str | None] = field(default_factory=dict)


def diagnose(
    settings: Settings, build: Callable[[], App], *, clock: Clock, options: Options
) -> Diagnosis:
    """Every finding, in the order an admin would fix them. ``build`` should pass
    ``RETRIES`` on: the first host found unreachable ends every network check."""
    found = [configuration_check(settings, clock=clock)]
    try:
        app = build()
    except HrsyncError as problem:
        return Diagnosis([*found, failed("services", str(problem), "fix the configuration first")])
    try:
        checks, readings = _with_app(app, settings, options)
    finally:
        app.close()
    return Diagnosis([*found, *checks], readings)


def _with_app(
    app: App, settings: Settings, options: Options
) -> tuple[list[Check], dict[str, str | None]]:
    # Before doctor's own calls: what other runs have spent.
    hosts = dict.fromkeys(_api_urls(app, settings))
    found = [budget_check(app.store, url, clock=app.store.clock) for url in hosts]
    reach = Reach()  # one connection failure ends the network checks of every service
    cliq, readings = _cliq_findings(app, settings, options, reach)
    found += cliq
    source = unscoped(app.engine.source)
    if isinstance(source, PeopleSource):
        people = _reader("people", "Zoho People", source.client.http, settings.people, reach)
        form = people_form_check(people, source.client, source.form)
        found += [token_check(people), scopes_check(people), form]
    if isinstance(source, RestSource):
        found += rest_checks(source)
    connect = app.engine.connect
    if isinstance(connect, ConnectTarget):
        network = _reader("connect", "Zoho Connect", connect.client.http, settings.connect, reach)
        reached = connect_network_check(network, connect.client)
        found += [token_check(network), scopes_check(network), reached]
    return [*found, redirect_check(), stalled_check(app.store)], readings


def _reader(
    section: str, title: str, http: ZohoHttp, service: ZohoServiceConfig, reach: Reach
) -> Reader:
    return Reader(Service(section, title, http, service.connection), reach)


def _cliq_findings(
    app: App, settings: Settings, options: Options, reach: Reach
) -> tuple[list[Check], dict[str, str | None]]:
    target = app.engine.target
    assert isinstance(target, CliqTarget)  # wiring builds nothing else
    cliq = _reader("cliq", "Zoho Cliq", target.client.http, settings.cliq, reach)
    listed = CliqChecks(cliq, settings, admin_email=options.admin_email)
    found = listed.run()
    probing = options.test_user if options.probe_writes else ""
    said, readings = settle(Context(cliq, app.store, listed, target, probing))
    return [token_check(cliq), scopes_check(cliq), *found, *said], readings


def _api_urls(app: App, settings: Settings) -> list[str]:
    """The API host of each service in use (a connection holds its own)."""
    used = [settings.cliq]
    if settings.source.kind == "zoho_people":
        used.append(settings.people)
    if settings.connect.configured:
        used.append(settings.connect)
    if not any(s.connection for s in used):
        return [s.api_url for s in used]
    connections = Connections(
        app.store, Vault.open(settings.store.key_file), app.client, app.store.clock
    )
    return [connections.show(s.connection).api_url if s.connection else s.api_url for s in used]
