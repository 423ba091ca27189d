"""``hrsync config check``: everything a run would refuse, found without calling Zoho.

The configuration itself is validated when it is loaded (unknown keys, types, encodings);
this looks at what it points to: the store, the HR source, the credentials or connections of
each Zoho service in use, and the rules that need a service.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hrsync.access.connections import Connections
from hrsync.access.integrations import (
    CONNECT_SCOPES,
    PEOPLE_SCOPES,
    Integrations,
    cliq_scopes,
    export_of,
    file_pending,
)
from hrsync.access.vault import ENV_KEY, Vault
from hrsync.clock import Clock
from hrsync.config import ConnectServiceConfig, Settings, ZohoServiceConfig, refuse_plain_http
from hrsync.errors import ConfigError, HrsyncError, SourceError
from hrsync.failures import describe_failure
from hrsync.model import CANONICAL_FIELDS
from hrsync.sources.headers import suggest_columns
from hrsync.sources.rest.spec import pending as rest_pending
from hrsync.store import Store
from hrsync.store.urls import shown as url_shown
from hrsync.store.urls import sqlite_file
from hrsync.sync.safety import SOURCE_COLUMNS, lost_columns


@dataclass
class Checkup:
    """What was checked, and what is wrong (an empty ``problems`` means ready to run)."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    suggestion: str = ""  # a [source.columns] block, when the export's columns need one
    notes: list[str] = field(default_factory=list)  # worth knowing; nothing stops a run


def check_settings(settings: Settings, *, clock: Clock, integration: str = "default") -> Checkup:
    """Check the store, the source and each Zoho service the settings use (``integration``:
    whose runs the store remembers, for the columns the export had last run)."""
    result = Checkup()
    store = _open_store(settings, result, clock, integration)
    _check_key(settings, result)
    before = len(result.problems)
    _check_source(settings, result)
    if settings.source.kind in ("csv", "xlsx") and len(result.problems) == before:
        _check_columns(settings, store, result)
    if settings.source.kind == "scim":
        _check_pushed(store, result)
    for section, service, scopes in _services(settings):
        _check_service(section, service, scopes, settings=settings, store=store, result=result)
    if store is not None:
        store.close()
    return result


def _open_store(
    settings: Settings, result: Checkup, clock: Clock, integration: str
) -> Store | None:
    """The store, if it exists: a check makes nothing (the first run makes the store)."""
    shown = url_shown(settings.store.url)
    database = sqlite_file(settings.store.url)
    if database is not None and not database.exists():
        result.checked.append(f"store {shown} (not made yet: the first run makes it)")
        result.notes += unignored(database)
        return None
    result.checked.append(f"store {shown}")
    if database is not None:
        result.notes += unignored(database)
    try:
        return Store(settings.store.url, clock=clock, integration=integration)
    except Exception as problem:  # any failure to open it is the finding
        result.problems.append(describe_failure(problem))
        return None


def _check_source(settings: Settings, result: Checkup) -> None:
    source = settings.source
    if source.kind == "rest":
        spec = source.spec
        result.checked.append(f"{spec.title or 'REST'} source {spec.base_url}")
        result.problems += rest_pending(spec, source.preset)
        base = spec.filled(spec.base_url)
        try:
            refuse_plain_http(base, allow_http=spec.allow_http, what="[source.rest] base_url")
        except ConfigError as problem:
            result.problems.append(str(problem))
    if source.kind in ("csv", "xlsx"):
        result.checked.append(f"{source.kind} file {source.path}")
        try:
            missing = file_pending(settings)
        except (OSError, UnicodeError) as problem:
            missing = [f"{source.path}: cannot be read: {problem}"]
        result.problems += missing
        if missing and source.path.exists():
            _suggest(settings, result)


def _check_columns(settings: Settings, store: Store | None, result: Checkup) -> None:
    """The fields a plan would hold for, found as the engine finds them: a column the export
    had last run, or one [source.columns] maps, that the export lacks."""
    export = export_of(settings)
    try:
        headers, _ = export.peek(limit=0)
    except SourceError as problem:
        result.problems.append(str(problem))
        return
    present, unmapped = export.header_columns(headers)
    seen = store.bookmark(SOURCE_COLUMNS) if store is not None else None
    lost = lost_columns(present, unmapped, seen)
    if lost:
        result.problems.append(
            f"the HR export has no column for {', '.join(lost)} (it had one last run, or "
            "[source.columns] maps one): plan would hold until they are mapped under "
            "[source.columns], or confirmed gone with --confirm-missing-columns "
            f"{','.join(lost)}"
        )
    _suggest(settings, result, wanted=set(CANONICAL_FIELDS) - present)


def _suggest(settings: Settings, result: Checkup, *, wanted: set[str] | None = None) -> None:
    """A [source.columns] block from the export's headers, when it maps fields the
    configuration leaves without a column (``wanted``: those fields; all when None)."""
    try:
        headers, rows = export_of(settings).peek()
    except SourceError:
        return
    suggestion = suggest_columns(headers, rows)
    found = {m.field for m in suggestion.mapped if m.header != settings.source.columns.get(m.field)}
    if wanted is not None:
        found &= wanted
    if not found:
        return
    result.suggestion = suggestion.toml()
    fields = ", ".join(f for f in CANONICAL_FIELDS if f in found)
    result.checked.append(
        f"the export seems to have columns for {fields} under other names: see the "
        f"suggested [source.columns] (`hrsync sources suggest {settings.source.path}`)"
    )


def _check_key(settings: Settings, result: Checkup) -> None:
    """Where the key that seals connection secrets comes from (nothing is made here)."""
    if os.environ.get(ENV_KEY):
        result.checked.append(f"secret key from {ENV_KEY}")
        return
    key_file = settings.store.key_file
    if not key_file.exists():
        result.checked.append(f"key file {key_file} (made when the first secret is sealed)")
    else:
        result.checked.append(f"key file {key_file}")
        home = settings.store.key_home
        if home is not None:
            result.notes.append(
                f"{key_file} is read where an older hrsync made it; hrsync now keeps the key "
                f"beside the store: move it to {home} when convenient"
            )
    result.notes += unignored(key_file)


def unignored(path: Path) -> list[str]:
    """A note when ``path`` lies in a git work tree that does not ignore it."""
    folder = path.parent.resolve()
    if not any((p / ".git").exists() for p in (folder, *folder.parents)):
        return []
    try:
        asked = subprocess.run(
            ["git", "-C", str(folder), "check-ignore", "-q", path.name],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if asked.returncode != 1:  # 0: ignored; 128: not a work tree after all, or no git
        return []
    return [
        f"{path} is inside a git work tree that does not ignore it: add {path.name} to its "
        ".gitignore (the store and the key that opens its secrets are never committed)"
    ]


def _check_pushed(store: Store | None, result: Checkup) -> None:
    """hrsync.toml's own SCIM source: whether anyone can push to it yet, and who has."""
    from hrsync.access.ownership import TOML
    from hrsync.store.scim import ScimStore

    scim = ScimStore.on(store) if store is not None else None
    pushed = len(scim.users(TOML)) if scim is not None else 0
    result.checked.append(f"SCIM source: {pushed} users pushed so far")
    if scim is None or scim.token_made_at(TOML) is None:
        result.problems.append(
            "the SCIM source has no token yet, so nobody can push to it: "
            "`hrsync integrations scim-token hrsync.toml`"
        )


def _services(settings: Settings) -> list[tuple[str, ZohoServiceConfig, tuple[str, ...]]]:
    used: list[tuple[str, ZohoServiceConfig, tuple[str, ...]]] = [
        ("cliq", settings.cliq, cliq_scopes(settings))
    ]
    if settings.source.kind == "zoho_people":
        used.append(("people", settings.people, PEOPLE_SCOPES))
    rules = settings.rules
    if settings.connect.configured or rules.connect_groups_per or rules.connect_groups:
        used.append(("connect", settings.connect, CONNECT_SCOPES))
    return used


def _check_service(
    section: str,
    service: ZohoServiceConfig,
    scopes: tuple[str, ...],
    *,
    settings: Settings,
    store: Store | None,
    result: Checkup,
) -> None:
    how = f"connection {service.connection}" if service.connection else "keys in the file"
    result.checked.append(f"[{section}] {_host(service, settings, store)} via {how}")
    if isinstance(service, ConnectServiceConfig) and not service.configured:
        result.problems.append("[connect] has no network_id (the Connect network's scopeID)")
    try:
        service.check(section)
    except ConfigError as problem:
        result.problems.append(str(problem))
        return
    if service.connection and store is None and sqlite_file(settings.store.url):
        # the store is not made yet, so neither is any connection
        result.problems.append(
            f"[{section}] no connection named {service.connection!r} (connections: none yet)"
        )
    if service.connection and store is not None:
        result.problems += _connection_problems(section, service, scopes, settings, store)


def _host(service: ZohoServiceConfig, settings: Settings, store: Store | None) -> str:
    """The API host the service is really called at: a connection holds its own."""
    if not service.connection:
        return service.api_url
    if store is None:
        return "(no such connection yet)"
    try:
        with httpx.Client(transport=httpx.MockTransport(_no_calls)) as offline:
            vault = Vault.open(settings.store.key_file)
            return Connections(store, vault, offline, store.clock).show(service.connection).api_url
    except HrsyncError:
        return "(no such connection)"


def _connection_problems(
    section: str,
    service: ZohoServiceConfig,
    scopes: tuple[str, ...],
    settings: Settings,
    store: Store,
) -> list[str]:
    try:
        vault = Vault.open(settings.store.key_file)
    except HrsyncError as problem:
        return [str(problem)]
    with httpx.Client(transport=httpx.MockTransport(_no_calls)) as offline:
        connections = Connections(store, vault, offline, store.clock)
        return Integrations(store, connections).connection_pending(section, service, scopes)


def _no_calls(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"config check must not call out, yet asked for {request.url}")
