"""Integrations: a source tied to a target, with its rules and schedule, as Zoho's admin
consoles know them. An integration is created as a draft, enabled only once its configuration
is complete (until then its **pending actions** say what is missing), can be deactivated and
activated again, and deleted (irreversible: confirmation and a recent re-authentication).

An integration's configuration has the shape of ``hrsync.toml`` without ``[store]``
(``access/integration_config.py``). The plain ``hrsync.toml`` is the one-integration
shortcut: its own integration, ``default`` in the store and ``hrsync.toml`` when shown, runs
in ``hrsync serve`` like any other once the file names a Cliq organisation and is complete.
One integration manages each Cliq organisation, unless their scopes are disjoint
(``access/ownership.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hrsync.access.admin import require_recent
from hrsync.access.connections import ConnectionProblem, Connections
from hrsync.access.integration_config import validate, without_schedule
from hrsync.access.ownership import (
    RESERVED,
    TOML,
    TOML_FILE,
    organisation_of,
    overlap,
    refusal,
)
from hrsync.access.services import covered
from hrsync.config import Settings, ZohoServiceConfig, describe_problems
from hrsync.errors import ConfigError, HrsyncError, SourceError
from hrsync.model import CANONICAL_FIELDS
from hrsync.schedule import next_run_shown, parse_schedule
from hrsync.sources.csv_file import REQUIRED, CsvSource
from hrsync.sources.rest.spec import pending as rest_pending
from hrsync.sources.scoped import describe_scope
from hrsync.store import Store
from hrsync.store import integrations as rows
from hrsync.store.integrations import StoredIntegration

STATES = ("draft", "enabled", "deactivated")
# Scopes each part of a sync needs (a held "….ALL" covers any operation of the same module).
CLIQ_SCOPES = ("ZohoCliq.Users.ALL", "ZohoCliq.Departments.ALL", "ZohoCliq.Designations.ALL")
TEAM_SCOPES = ("ZohoCliq.Teams.ALL",)
ROLE_SCOPES = ("ZohoCliq.Organisation.ALL",)
PEOPLE_SCOPES = ("ZOHOPEOPLE.forms.READ",)
CONNECT_SCOPES = ("zohopulse.grouplist.CREATE", "zohopulse.grouplist.DELETE")


class IntegrationProblem(HrsyncError):
    """An integration is missing, incomplete, or not in a state that allows the action."""


@dataclass
class IntegrationInfo:
    name: str
    status: str
    schedule: str
    source: str
    target: str
    pending: list[str] = field(default_factory=list)
    label: str = ""  # how it is shown when not by its name: "hrsync.toml" for the file's own
    next_run: str = ""  # "2026-03-30 02:00 CEST (Europe/Berlin)", "by hand", "not while draft"


class Integrations:
    """The stored integrations and, given ``toml`` (hrsync.toml's settings), the file's own
    integration, ``default`` in the store: it runs when the file names a Cliq organisation
    and is complete, and no enabled integration manages that organisation already."""

    def __init__(
        self, store: Store, connections: Connections, *, toml: Settings | None = None
    ) -> None:
        self.store = store
        self.connections = connections
        self.toml = toml

    # --- lifecycle ------------------------------------------------------------------------
    def create(self, name: str, config: dict[str, Any], *, schedule: str = "") -> IntegrationInfo:
        """A draft; refused when another integration manages its Cliq organisation already
        (unless their scopes are disjoint). A ``[sync] schedule`` in ``config`` is its
        schedule when ``schedule`` is not given."""
        config, written = without_schedule(config)
        schedule = schedule or written or ""
        if name.strip().lower() in RESERVED:
            raise IntegrationProblem(
                f"the name {name!r} is hrsync.toml's own integration: choose another"
            )
        validate(name, config)
        parse_schedule(schedule)
        rivals = self.rivals(name, Settings(**config))
        if rivals:
            raise IntegrationProblem(rivals[0])
        text, now = json.dumps(config), self.store.clock.now()
        if not rows.add(self.store, name=name, config=text, schedule=schedule, now=now):
            raise IntegrationProblem(f"an integration named {name!r} already exists")
        return self.show(name)

    def configure(self, name: str, config: dict[str, Any]) -> IntegrationInfo:
        """Replace the configuration (and the schedule, when it has a ``[sync] schedule``).
        An enabled integration that is now incomplete, or now shares its Cliq organisation
        with another, goes back to draft, so it never runs half-configured."""
        config, written = without_schedule(config)
        validate(name, config)
        row = self._stored(name)
        rows.save_config(self.store, row.id, json.dumps(config), now=self.store.clock.now())
        if written is not None:
            self.reschedule(name, written)
        info = self.show(name)
        if info.pending and info.status == "enabled":
            self._set_status(name, "draft")
            info.status = "draft"  # its pending actions as just read: no second read of Cliq
        return info

    def reschedule(self, name: str, schedule: str) -> IntegrationInfo:
        """Run ``name`` on ``schedule`` from now on ("" by hand)."""
        self._stored(name)
        parse_schedule(schedule)  # refused with the form to write, if not one
        rows.set_schedule(self.store, name, schedule.strip(), now=self.store.clock.now())
        return self.show(name, ask_zoho=False)

    def enable(self, name: str) -> IntegrationInfo:
        """Only a complete configuration is enabled, and only while no other integration
        manages its Cliq organisation; otherwise its pending actions say why."""
        self._stored(name)
        info = self.show(name)
        if info.pending:
            raise IntegrationProblem(
                f"{name} cannot be enabled yet; pending actions: " + "; ".join(info.pending)
            )
        self._set_status(name, "enabled")
        return self.show(name, ask_zoho=False)  # just checked: no second read of Cliq

    def deactivate(self, name: str) -> IntegrationInfo:
        """Stop syncing; keep the configuration, links and history."""
        self._stored(name)
        self._set_status(name, "deactivated")
        return self.show(name, ask_zoho=False)

    def activate(self, name: str) -> IntegrationInfo:
        row = self._stored(name)
        if row.status == "draft":
            raise IntegrationProblem(f"{name} was never enabled: `hrsync integrations enable`")
        return self.enable(name)

    def delete(self, name: str, *, proven: bool = False) -> None:
        """Irreversible: the admin must have re-authenticated within the last minutes (or
        ``proven`` so by the caller, as the admin page checks its session's own proof)."""
        self._stored(name)
        if not proven:
            require_recent(self.store, f"deleting the integration {name!r}")
        rows.remove(self.store, name)

    def _set_status(self, name: str, status: str) -> None:
        rows.set_status(self.store, name, status, now=self.store.clock.now())

    # --- reading --------------------------------------------------------------------------
    def _stored(self, name: str) -> StoredIntegration:
        """``name``'s row, for an action on it; hrsync.toml's own is changed in the file."""
        if name == TOML and rows.find(self.store, name) is None:
            raise IntegrationProblem(
                "hrsync.toml's own integration is changed in hrsync.toml itself: [sync] "
                'schedule = "" stops its schedule; without [cliq] it is no integration'
            )
        return self._row(name)

    def _row(self, name: str) -> StoredIntegration:
        row = rows.find(self.store, name)
        if row is None:
            known = ", ".join(self.names()) or "none yet"
            raise IntegrationProblem(f"no integration named {name!r} (integrations: {known})")
        return row

    def names(self) -> list[str]:
        return rows.names(self.store)

    def config(self, name: str) -> dict[str, Any]:
        """The integration's configuration as stored (secrets included: not for showing)."""
        found: dict[str, Any] = json.loads(self._row(name).config)
        return found

    def settings(self, name: str, base: Settings) -> Settings:
        """The integration's configuration, with hrsync's own store around it (``base``
        itself for hrsync.toml's own)."""
        if name == TOML and rows.find(self.store, name) is None:
            return base
        row = self._row(name)
        data = json.loads(row.config) | {"store": base.store.model_dump()}
        try:
            return Settings(**data)
        except ValidationError as exc:
            raise ConfigError(f"integration {name}: {describe_problems(exc)}") from None

    def due(self, *, minute: float = 60.0) -> list[str]:
        """Enabled integrations whose schedule says a run is due now (``minute``: seconds a
        schedule's minute lasts; shorter only in tests)."""
        now = self.store.clock.now()
        return sorted(n for n, when in self._enabled() if self._due(n, when, now, minute))

    def is_due(self, name: str, *, minute: float = 60.0) -> bool:
        """Whether ``name`` is enabled and due now: asked again once a worker holds its lease,
        so a run another worker has just made is not made twice."""
        schedule = dict(self._enabled()).get(name)
        if schedule is None:
            return False
        return self._due(name, schedule, self.store.clock.now(), minute)

    def next_run(self, name: str) -> float | None:
        """When ``name``'s schedule next runs it (now or earlier: due at the next check);
        None when it runs by hand or is not enabled."""
        schedule = parse_schedule(dict(self._enabled()).get(name) or "")
        if schedule is None:
            return None
        now = self.store.clock.now()
        return schedule.next_run(self.store.last_started("apply", name), now)

    def _next_shown(self, name: str, status: str, schedule: str) -> str:
        """When the next run is due, as the schedule's own clock reads it, with its zone."""
        if status != "enabled":
            return f"not while {status}"
        last = self.store.last_started("apply", name)
        return next_run_shown(schedule, last, self.store.clock.now())

    def _due(self, name: str, schedule: str, now: float, minute: float) -> bool:
        parsed = parse_schedule(schedule)
        if parsed is None:
            return False
        return parsed.due(self.store.last_started("apply", name), now, minute=minute)

    def _enabled(self) -> list[tuple[str, str]]:
        """(name, schedule) of what runs: the enabled integrations, and hrsync.toml's own
        when it runs."""
        found = [(row.name, row.schedule) for row in rows.enabled(self.store)]
        if self.toml is not None and self.toml_runs():
            found.append((TOML, self.toml.sync.schedule))
        return found

    def interrupted(self, *, unconfirmed: bool = True) -> list[str]:
        """Enabled integrations whose latest run did not finish because its process died
        (and, with ``unconfirmed``, those whose latest run left changes unconfirmed)."""
        wanted = ("died", "unconfirmed") if unconfirmed else ("died",)
        return sorted(n for n, _ in self._enabled() if self.store.interrupted(n) in wanted)

    def runnable(self, name: str, base: Settings) -> Settings:
        """The settings of an enabled integration; otherwise why it cannot run."""
        if name == TOML and rows.find(self.store, name) is None:
            return self._toml_runnable(base)
        row = self._row(name)
        if row.status == "deactivated":
            raise IntegrationProblem(
                f"{name} is deactivated: nothing is synced until `hrsync integrations activate "
                f"{name}`"
            )
        if row.status == "draft":
            raise IntegrationProblem(
                f"{name} is not enabled yet: `hrsync integrations show {name}` lists what is "
                "missing, then `hrsync integrations enable`"
            )
        return self.settings(name, base)

    def show(self, name: str, *, ask_zoho: bool = True) -> IntegrationInfo:
        """The integration; its pending actions read Cliq's user fields once, unless not
        ``ask_zoho`` (a page shown again and again must not spend Zoho's limits)."""
        if name == TOML and rows.find(self.store, name) is None:
            return self._toml_shown()
        row = self._row(name)
        try:
            settings = Settings(**json.loads(row.config))
        except ValidationError as exc:
            raise ConfigError(f"integration {name}: {describe_problems(exc)}") from None
        pending = self.pending(settings) if ask_zoho else self.pending_locally(settings)
        pending += self.rivals(name, settings, enabled=row.status == "enabled")
        source, target = _ends(settings)
        return IntegrationInfo(
            row.name, row.status, row.schedule, source + self._pushed(name, settings), target,
            pending, next_run=self._next_shown(row.name, row.status, row.schedule),
        )  # fmt: skip

    def _pushed(self, name: str, settings: Settings) -> str:
        """For a SCIM source: whether it has its token, and how many users were pushed."""
        if settings.source.kind != "scim":
            return ""
        from hrsync.store.scim import ScimStore

        scim = ScimStore.on(self.store)
        made = scim.token_made_at(name)
        shown = TOML_FILE if name == TOML else name
        token = (
            f"no token yet: `hrsync integrations scim-token {shown}`"
            if made is None
            else "token made "
            + dt.datetime.fromtimestamp(made, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        )
        return f" ({token}; {len(scim.users(name))} users pushed)"

    def every(self, *, ask_zoho: bool = True) -> list[IntegrationInfo]:
        """hrsync.toml's own integration (when the file names a Cliq organisation), then
        every stored one."""
        toml = [self.toml_info()] if self.toml is not None else []
        stored = [self.show(n, ask_zoho=ask_zoho) for n in self.names()]
        return [info for info in toml if info is not None] + stored

    # --- one owner per organisation ----------------------------------------------------------
    def rivals(self, name: str, settings: Settings, *, enabled: bool = False) -> list[str]:
        """Why ``name`` may not manage the Cliq organisation of ``settings``: each enabled
        integration that manages it already, with a scope that is not disjoint, and
        hrsync.toml's own while it runs, unless ``name`` is ``enabled`` (the file's own
        integration gives way to an enabled one, never the other way round)."""
        organisation = organisation_of(settings, self.connections)
        if organisation is None:
            return []
        owners = [
            (row.name, self._parsed(row)) for row in rows.enabled(self.store) if row.name != name
        ]
        if name != TOML and not enabled and self.toml is not None and self.toml_runs(alone=True):
            owners.insert(0, (TOML, self.toml))
        return [
            refusal(name, owner, organisation)
            for owner, theirs in owners
            if theirs is not None
            and organisation_of(theirs, self.connections) == organisation
            and overlap(settings, theirs)
        ]

    def _parsed(self, row: StoredIntegration) -> Settings | None:
        try:
            return Settings(**json.loads(row.config))
        except (ValidationError, ValueError):  # a broken one runs nothing, manages nothing
            return None

    # --- hrsync.toml's own integration -------------------------------------------------------
    def toml_info(self) -> IntegrationInfo | None:
        """hrsync.toml's own integration, listed as hrsync.toml: enabled when complete and
        no enabled integration manages its organisation, a draft (with why) otherwise;
        None when the file names no Cliq organisation (it is then no integration)."""
        toml = self.toml
        if toml is None or organisation_of(toml, self.connections) is None:
            return None
        pending = self._toml_pending() + self.rivals(TOML, toml)
        status = "draft" if pending else "enabled"
        source, target = _ends(toml)
        return IntegrationInfo(
            TOML, status, toml.sync.schedule, source + self._pushed(TOML, toml), target, pending,
            label=TOML_FILE, next_run=self._next_shown(TOML, status, toml.sync.schedule),
        )  # fmt: skip

    def toml_runs(self, *, alone: bool = False) -> bool:
        """Whether hrsync.toml's own integration runs (or, ``alone``, would run, were no
        enabled integration managing its organisation)."""
        toml = self.toml
        if toml is None or organisation_of(toml, self.connections) is None:
            return False
        return not self._toml_pending() and (alone or not self.rivals(TOML, toml))

    def _toml_pending(self) -> list[str]:
        assert self.toml is not None
        return self.pending_locally(self.toml, keys=True)

    def _toml_shown(self) -> IntegrationInfo:
        info = self.toml_info()
        if info is None:
            raise IntegrationProblem(
                "hrsync.toml names no Cliq organisation ([cliq] connection, or its keys), so "
                "it is no integration"
            )
        return info

    def _toml_runnable(self, base: Settings) -> Settings:
        if self.toml is None:  # asked without the file's view: the caller's settings
            return base
        info = self._toml_shown()
        if info.pending:
            raise IntegrationProblem(
                "hrsync.toml's own integration cannot run: " + "; ".join(info.pending)
            )
        return base

    # --- what is missing ------------------------------------------------------------------
    def pending(self, settings: Settings) -> list[str]:
        """What blocks enabling; reads Cliq's user fields once when all else is complete."""
        pending = self.pending_locally(settings)
        cliq = settings.cliq
        if cliq.connection and not self.connection_pending("cliq", cliq, cliq_scopes(settings)):
            pending += self._custom_field_pending(settings)
        return pending

    def pending_locally(self, settings: Settings, *, keys: bool = False) -> list[str]:
        """What blocks enabling, found without calling Zoho; with ``keys``, a service may
        be reached by the keys in the file (hrsync.toml's) instead of a connection."""
        pending: list[str] = []
        source = settings.source
        if source.kind in ("csv", "xlsx"):
            pending += file_pending(settings)
        elif source.kind == "zoho_people":
            pending += self._service_pending("people", settings.people, PEOPLE_SCOPES, keys)
        elif source.kind == "rest":
            pending += self._rest_pending(settings)
        rules = settings.rules
        pending += self._service_pending("cliq", settings.cliq, cliq_scopes(settings), keys)
        if rules.connect_groups_per or rules.connect_groups:
            if not settings.connect.network_id:
                pending.append("[connect] has no network_id (the Connect network's scopeID)")
            pending += self._service_pending("connect", settings.connect, CONNECT_SCOPES, keys)
        return pending

    def _rest_pending(self, settings: Settings) -> list[str]:
        """What a rest source still needs: keys of [source.rest], and its credentials."""
        spec = settings.source.spec
        found = rest_pending(spec, settings.source.preset)
        if spec.connection:
            try:
                self.connections.show(spec.connection)
            except ConnectionProblem as problem:
                found.append(f"[source.rest] {problem}")
        return found

    def _service_pending(
        self, section: str, service: ZohoServiceConfig, scopes: tuple[str, ...], keys: bool
    ) -> list[str]:
        if service.connection or not keys:
            return self.connection_pending(section, service, scopes)
        try:
            service.check(section)
        except ConfigError as problem:
            return [str(problem)]
        return []

    def connection_pending(
        self, section: str, service: ZohoServiceConfig, scopes: tuple[str, ...]
    ) -> list[str]:
        if not service.connection:
            return [
                f"[{section}] names no connection (`hrsync connections add`, then "
                f'connection = "NAME")'
            ]
        try:
            info = self.connections.show(service.connection)
        except ConnectionProblem as problem:
            return [f"[{section}] {problem}"]
        found = [f"connection {info.name}: {p}" for p in info.pending]
        missing = [s for s in scopes if not covered(info.scopes, s)]
        if missing:
            found.append(
                f"connection {info.name} lacks the scope(s) {', '.join(missing)}: add them "
                "and authorise it again"
            )
        return found

    def _custom_field_pending(self, settings: Settings) -> list[str]:
        """Custom fields the mapping names that Cliq does not have (one read of Cliq)."""
        wanted = {v for v in settings.custom_fields.values() if v}
        if not wanted:
            return []
        try:
            answer = self.connections.request(settings.cliq.connection, "GET", "/api/v2/userfields")
            body = answer.json()
        except (HrsyncError, ValueError) as problem:
            return [f"Cliq's user fields could not be read: {problem}"]
        fields = body.get("list") or body.get("data") or []
        known = {str(f.get(k, "")).lower() for f in fields for k in ("unique_name", "name")}
        return [
            f"custom field {name!r} does not exist in Cliq: create it, or change [custom_fields]"
            for name in sorted(wanted)
            if name.lower() not in known
        ]


def _ends(settings: Settings) -> tuple[str, str]:
    """(source, target) as an admin reads them."""
    source = settings.source
    if source.kind == "zoho_people":
        where = f"Zoho People via {settings.people.connection or '(keys in the file)'}"
    elif source.kind == "scim":
        where = "SCIM pushes to /scim/v2/"
    elif source.kind == "rest":
        spec = source.spec
        base = spec.filled(spec.base_url)
        where = f"{spec.title or 'REST API'} at {base or '(no base_url)'}"
    else:
        where = f"{source.kind} file {source.path}"
    if settings.scope.restricts:
        where += f" (scope: {describe_scope(settings.scope)})"
    target = f"Zoho Cliq via {settings.cliq.connection or '(keys in the file)'}"
    if settings.connect.network_id:
        target += f", Zoho Connect via {settings.connect.connection or '(keys)'}"
    return where, target


def cliq_scopes(settings: Settings) -> tuple[str, ...]:
    """The Cliq scopes a sync with these rules needs."""
    needed: tuple[str, ...] = CLIQ_SCOPES
    if settings.rules.teams_per or settings.rules.teams:
        needed += TEAM_SCOPES
    if settings.rules.roles or settings.roles:
        needed += ROLE_SCOPES
    return needed


def file_pending(settings: Settings) -> list[str]:
    """What an HR export lacks to be read at all: the file, and a column for each required
    field under the header [source.columns] gives it (read as the CSV source reads it)."""
    path = settings.source.path
    if not path.exists():
        return [f"the HR export {path} does not exist"]
    try:
        headers, _ = export_of(settings).peek(limit=0)  # the header, however long the file
    except SourceError as problem:
        return [str(problem)]
    missing = []
    for name in REQUIRED:
        column = settings.source.columns.get(name, name)
        if column not in headers:
            missing.append(
                f"the required field {name} is not mapped: no column {column!r} in {path.name} "
                f"(map it under [source.columns])"
            )
    unknown = set(settings.source.columns) - set(CANONICAL_FIELDS)
    missing += [f"[source.columns] maps an unknown field {u!r}" for u in sorted(unknown)]
    return missing


def export_of(settings: Settings) -> CsvSource:
    """The CSV source of ``settings`` as a run builds it, for its columns alone."""
    source = settings.source
    known = {k: v for k, v in source.columns.items() if k in CANONICAL_FIELDS}
    return CsvSource(
        source.path, columns=known, delimiter=source.delimiter, encoding=source.encoding
    )
