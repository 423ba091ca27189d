"""``hrsync doctor``: a first contact with a real organisation, checked item by item.

Each check reads the least it can (one page of each listing hrsync reads, once) and ends ✓,
⚠ (it works; read the note) or ✗ with its remedy: the configuration, the call budget left,
each service's token and scopes, every Cliq listing in the shape hrsync reads, the drop-downs
and roles the configuration names, the admin behind the token, the People form, the Connect
network, the consent redirect URI. Nothing is written, except with ``probe`` (a test user):
one field set to its current value, to settle which update body Cliq takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hrsync.access.connections import Connections
from hrsync.access.vault import Vault
from hrsync.clock import Clock
from hrsync.config import Settings
from hrsync.doctor.checks import Check, failed
from hrsync.doctor.cliq import CliqChecks, probe_update_body
from hrsync.doctor.local import (
    budget_check,
    configuration_check,
    redirect_check,
    update_body_check,
)
from hrsync.doctor.reads import Reader, Service
from hrsync.doctor.sources import connect_network_check, people_form_check
from hrsync.doctor.tokens import scopes_check, token_check
from hrsync.errors import HrsyncError
from hrsync.sources.zoho_people import PeopleSource
from hrsync.targets.cliq import CliqTarget
from hrsync.targets.connect import ConnectTarget
from hrsync.wiring import App

__all__ = ["Check", "Options", "diagnose"]


@dataclass(frozen=True, slots=True)
class Options:
    """What the admin asked of doctor beyond the reads."""

    admin_email: str = ""  # the account that authorised hrsync (default: the org's owner)
    test_user: str = ""  # with probe_writes: whose field is set to its current value
    probe_writes: bool = False


def diagnose(
    settings: Settings, build: Callable[[], App], *, clock: Clock, options: Options
) -> list[Check]:
    """Every finding, in the order an admin would fix them."""
    found = [configuration_check(settings, clock=clock)]
    try:
        app = build()
    except HrsyncError as problem:
        return [*found, failed("services", str(problem), "fix the configuration first")]
    try:
        found += _with_app(app, settings, options)
    finally:
        app.close()
    return found


def _with_app(app: App, settings: Settings, options: Options) -> list[Check]:
    # Before doctor's own calls: what other runs have spent.
    hosts = dict.fromkeys(_api_urls(app, settings))
    found = [budget_check(app.store, url, clock=app.store.clock) for url in hosts]
    found += _cliq_findings(app, settings, options)
    source = app.engine.source
    if isinstance(source, PeopleSource):
        http = source.client.http
        people = Reader(Service("people", "Zoho People", http, settings.people.connection))
        form = people_form_check(people, source.client, source.form)
        found += [token_check(people), scopes_check(people), form]
    connect = app.engine.connect
    if isinstance(connect, ConnectTarget):
        http = connect.client.http
        network = Reader(Service("connect", "Zoho Connect", http, settings.connect.connection))
        reached = connect_network_check(network, connect.client)
        found += [token_check(network), scopes_check(network), reached]
    return [*found, redirect_check()]


def _cliq_findings(app: App, settings: Settings, options: Options) -> list[Check]:
    target = app.engine.target
    assert isinstance(target, CliqTarget)  # wiring builds nothing else
    cliq = Reader(Service("cliq", "Zoho Cliq", target.client.http, settings.cliq.connection))
    found = CliqChecks(cliq, settings, admin_email=options.admin_email).run()
    if options.probe_writes:
        found.append(probe_update_body(cliq, target, options.test_user))
    else:
        found.append(update_body_check(app.store))
    return [token_check(cliq), scopes_check(cliq), *found]


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
