"""Integrations: a source tied to a target, with its rules and schedule, as Zoho's admin
consoles know them. An integration is created as a draft, enabled only once its configuration
is complete (until then its **pending actions** say what is missing), can be deactivated and
activated again, and deleted (irreversible: confirmation and a recent re-authentication).

An integration's configuration has the shape of ``hrsync.toml`` without ``[store]``; the
plain ``hrsync.toml`` still works as a one-integration shortcut.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hrsync.access.admin import require_recent
from hrsync.access.connections import ConnectionProblem, Connections
from hrsync.access.services import covered
from hrsync.config import Settings, ZohoServiceConfig, describe_problems
from hrsync.errors import ConfigError, HrsyncError
from hrsync.model import CANONICAL_FIELDS
from hrsync.redaction import SECRET_KEYS
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


SCHEDULE = re.compile(r"^every\s+(?:(\d+)\s*)?(min|mins|minutes?|h|hours?|days?)$", re.IGNORECASE)
UNITS = {"min": 60, "h": 3600, "hour": 3600, "day": 86400}


def schedule_seconds(text: str) -> float | None:
    """``every 15 min`` / ``every 2 hours`` / ``every day`` → seconds; "" → None (by hand)."""
    if not text.strip():
        return None
    found = SCHEDULE.match(text.strip())
    if not found:
        raise ConfigError(
            f"schedule {text!r}: write it as 'every 15 min', 'every 2 hours' or 'every day' "
            "(or leave it empty to run by hand)"
        )
    count = int(found.group(1) or 1)
    unit = found.group(2).lower()
    key = "min" if unit.startswith("min") else "h" if unit.startswith("h") else "day"
    seconds = count * UNITS[key]
    if seconds < 300:
        raise ConfigError(f"schedule {text!r}: at least every 5 min (Zoho's limits need it)")
    return float(seconds)


def config_from(
    *,
    source_file: str = "",
    source_connection: str = "",
    target: str = "",
    connect: str = "",
    network_id: str = "",
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An integration's configuration from the few choices that make one (the command line's
    options, the admin page's form), over ``config`` when a file gave more."""
    made: dict[str, Any] = dict(config or {})
    if source_file:
        kind = "xlsx" if source_file.lower().endswith((".xlsx", ".xlsm")) else "csv"
        made.setdefault("source", {}).update(kind=kind, path=source_file)
    if source_connection:
        made.setdefault("source", {})["kind"] = "zoho_people"
        made.setdefault("people", {})["connection"] = source_connection
    if target:
        made.setdefault("cliq", {})["connection"] = target
    if connect:
        made.setdefault("connect", {})["connection"] = connect
    if network_id:
        made.setdefault("connect", {})["network_id"] = network_id
    return made


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


class Integrations:
    def __init__(self, store: Store, connections: Connections) -> None:
        self.store = store
        self.connections = connections

    # --- lifecycle ------------------------------------------------------------------------
    def create(self, name: str, config: dict[str, Any], *, schedule: str = "") -> IntegrationInfo:
        _validate(name, config)
        schedule_seconds(schedule)
        text, now = json.dumps(config), self.store.clock.now()
        if not rows.add(self.store, name=name, config=text, schedule=schedule, now=now):
            raise IntegrationProblem(f"an integration named {name!r} already exists")
        return self.show(name)

    def configure(self, name: str, config: dict[str, Any]) -> IntegrationInfo:
        """Replace the configuration. An enabled integration that is now incomplete goes
        back to draft, so it never runs half-configured."""
        _validate(name, config)
        row = self._row(name)
        rows.save_config(self.store, row.id, json.dumps(config), now=self.store.clock.now())
        info = self.show(name)
        if info.pending and info.status == "enabled":
            self._set_status(name, "draft")
            info.status = "draft"  # its pending actions as just read: no second read of Cliq
        return info

    def reschedule(self, name: str, schedule: str) -> IntegrationInfo:
        """Run ``name`` on ``schedule`` from now on ("" by hand)."""
        self._row(name)
        schedule_seconds(schedule)  # refused with the form to write, if not one
        rows.set_schedule(self.store, name, schedule.strip(), now=self.store.clock.now())
        return self.show(name, ask_zoho=False)

    def enable(self, name: str) -> IntegrationInfo:
        """Only a complete configuration is enabled; otherwise its pending actions say why."""
        info = self.show(name)
        if info.pending:
            raise IntegrationProblem(
                f"{name} cannot be enabled yet; pending actions: " + "; ".join(info.pending)
            )
        self._set_status(name, "enabled")
        return self.show(name, ask_zoho=False)  # just checked: no second read of Cliq

    def deactivate(self, name: str) -> IntegrationInfo:
        """Stop syncing; keep the configuration, links and history."""
        self._row(name)
        self._set_status(name, "deactivated")
        return self.show(name, ask_zoho=False)

    def activate(self, name: str) -> IntegrationInfo:
        row = self._row(name)
        if row.status == "draft":
            raise IntegrationProblem(f"{name} was never enabled: `hrsync integrations enable`")
        return self.enable(name)

    def delete(self, name: str, *, proven: bool = False) -> None:
        """Irreversible: the admin must have re-authenticated within the last minutes (or
        ``proven`` so by the caller, as the admin page checks its session's own proof)."""
        self._row(name)
        if not proven:
            require_recent(self.store, f"deleting the integration {name!r}")
        rows.remove(self.store, name)

    def _set_status(self, name: str, status: str) -> None:
        rows.set_status(self.store, name, status, now=self.store.clock.now())

    # --- reading --------------------------------------------------------------------------
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
        """The integration's configuration, with hrsync's own store around it."""
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
        return sorted(row.name for row in rows.enabled(self.store) if self._due(row, now, minute))

    def is_due(self, name: str, *, minute: float = 60.0) -> bool:
        """Whether ``name`` is enabled and due now: asked again once a worker holds its lease,
        so a run another worker has just made is not made twice."""
        row = rows.find(self.store, name)
        if row is None or row.status != "enabled":
            return False
        return self._due(row, self.store.clock.now(), minute)

    def next_run(self, name: str) -> float | None:
        """When ``name``'s schedule next runs it (now or earlier: due at the next check);
        None when it runs by hand or is not enabled."""
        row = self._row(name)
        every = schedule_seconds(row.schedule)
        if every is None or row.status != "enabled":
            return None
        last = self.store.last_started("apply", row.name)
        return self.store.clock.now() if last is None else last + every

    def _due(self, row: StoredIntegration, now: float, minute: float) -> bool:
        every = schedule_seconds(row.schedule)
        if every is None:
            return False
        last = self.store.last_started("apply", row.name)
        return last is None or last + every * minute / 60 <= now

    def interrupted(self, *, unconfirmed: bool = True) -> list[str]:
        """Enabled integrations whose latest run did not finish because its process died
        (and, with ``unconfirmed``, those whose latest run left changes unconfirmed)."""
        wanted = ("died", "unconfirmed") if unconfirmed else ("died",)
        return sorted(
            row.name
            for row in rows.enabled(self.store)
            if self.store.interrupted(row.name) in wanted
        )

    def runnable(self, name: str, base: Settings) -> Settings:
        """The settings of an enabled integration; otherwise why it cannot run."""
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
        row = self._row(name)
        try:
            settings = Settings(**json.loads(row.config))
        except ValidationError as exc:
            raise ConfigError(f"integration {name}: {describe_problems(exc)}") from None
        source = settings.source
        if source.kind == "zoho_people":
            where = f"Zoho People via {settings.people.connection or '(keys in the file)'}"
        else:
            where = f"{source.kind} file {source.path}"
        target = f"Zoho Cliq via {settings.cliq.connection or '(keys in the file)'}"
        if settings.connect.network_id:
            target += f", Zoho Connect via {settings.connect.connection or '(keys)'}"
        return IntegrationInfo(
            row.name,
            row.status,
            row.schedule,
            where,
            target,
            self.pending(settings) if ask_zoho else self.pending_locally(settings),
        )

    def every(self, *, ask_zoho: bool = True) -> list[IntegrationInfo]:
        return [self.show(n, ask_zoho=ask_zoho) for n in self.names()]

    # --- what is missing ------------------------------------------------------------------
    def pending(self, settings: Settings) -> list[str]:
        """What blocks enabling; reads Cliq's user fields once when all else is complete."""
        pending = self.pending_locally(settings)
        cliq = settings.cliq
        if cliq.connection and not self.connection_pending("cliq", cliq, cliq_scopes(settings)):
            pending += self._custom_field_pending(settings)
        return pending

    def pending_locally(self, settings: Settings) -> list[str]:
        """What blocks enabling, found without calling Zoho."""
        pending: list[str] = []
        source = settings.source
        if source.kind in ("csv", "xlsx"):
            pending += file_pending(settings)
        else:
            pending += self.connection_pending("people", settings.people, PEOPLE_SCOPES)
        rules = settings.rules
        pending += self.connection_pending("cliq", settings.cliq, cliq_scopes(settings))
        if rules.connect_groups_per or rules.connect_groups:
            if not settings.connect.network_id:
                pending.append("[connect] has no network_id (the Connect network's scopeID)")
            pending += self.connection_pending("connect", settings.connect, CONNECT_SCOPES)
        return pending

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


def cliq_scopes(settings: Settings) -> tuple[str, ...]:
    """The Cliq scopes a sync with these rules needs."""
    needed: tuple[str, ...] = CLIQ_SCOPES
    if settings.rules.teams_per or settings.rules.teams:
        needed += TEAM_SCOPES
    if settings.rules.roles or settings.roles:
        needed += ROLE_SCOPES
    return needed


def file_pending(settings: Settings) -> list[str]:
    path = settings.source.path
    if not path.exists():
        return [f"the HR export {path} does not exist"]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return []
    header = path.read_text(encoding=settings.source.encoding, errors="replace").splitlines()[:1]
    columns = {c.strip() for c in (header[0] if header else "").split(settings.source.delimiter)}
    missing = []
    for name in ("employee_id", "email"):
        column = settings.source.columns.get(name, name)
        if column not in columns:
            missing.append(
                f"the required field {name} is not mapped: no column {column!r} in {path.name} "
                f"(map it under [source.columns])"
            )
    unknown = set(settings.source.columns) - set(CANONICAL_FIELDS)
    missing += [f"[source.columns] maps an unknown field {u!r}" for u in sorted(unknown)]
    return missing


def _validate(name: str, config: dict[str, Any]) -> None:
    if "store" in config:
        raise ConfigError(f"integration {name}: [store] belongs to hrsync.toml, not here")
    try:
        Settings(**config)
    except ValidationError as exc:
        raise ConfigError(f"integration {name}: {describe_problems(exc)}") from None


def _secret(key: str) -> bool:
    plain = key.replace("_", "").replace("-", "").lower()
    return plain in SECRET_KEYS and plain != "clientid"


def without_secrets(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` to show: every secret (a client secret, a refresh token…) left out."""
    return {
        k: without_secrets(v) if isinstance(v, dict) else v
        for k, v in config.items()
        if not _secret(k)
    }


def keeping_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """``new`` (edited from ``without_secrets(old)``) with ``old``'s secrets kept where the
    edit did not give one."""
    kept = dict(new)
    for key, value in old.items():
        if _secret(key) and key not in kept:
            kept[key] = value
        elif isinstance(value, dict) and isinstance(kept.get(key), dict):
            kept[key] = keeping_secrets(kept[key], value)
    return kept


def load_config(path: Path) -> dict[str, Any]:
    """An integration's configuration from a TOML file (hrsync.toml's shape); paths in it
    are made absolute against the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    source = data.get("source", {})
    if isinstance(source, dict) and source.get("path"):
        source["path"] = str((path.parent / source["path"]).resolve())
    data.pop("store", None)
    return data
