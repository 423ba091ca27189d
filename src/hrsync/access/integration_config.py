"""An integration's configuration as an admin gives it: made from the command line's options
or the admin page's form, read from a file shaped like ``hrsync.toml``, its ``[sync]``
schedule set apart, checked, and shown or edited without its secrets."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hrsync.config import Settings, describe_problems
from hrsync.config_scope import KEYS, TABLES
from hrsync.errors import ConfigError
from hrsync.redaction import SECRET_KEYS


def config_from(
    *,
    source_file: str = "",
    source_connection: str = "",
    source_scim: bool = False,
    source_preset: str = "",
    source_vars: list[str] | None = None,
    target: str = "",
    connect: str = "",
    network_id: str = "",
    scope: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An integration's configuration from the few choices that make one (the command line's
    options, the admin page's form), over ``config`` when a file gave more. ``scope``:
    ``FIELD=VALUE,VALUE`` entries to include, ``FIELD!=VALUE`` to exclude (``scope_from``)."""
    made: dict[str, Any] = dict(config or {})
    if scope:
        made["scope"] = scope_from(scope, made.get("scope"))
    if source_file:
        kind = "xlsx" if source_file.lower().endswith((".xlsx", ".xlsm")) else "csv"
        made.setdefault("source", {}).update(kind=kind, path=source_file)
    if source_connection:
        made.setdefault("source", {})["kind"] = "zoho_people"
        made.setdefault("people", {})["connection"] = source_connection
    if source_scim:
        made.setdefault("source", {})["kind"] = "scim"
    if source_preset:
        made.setdefault("source", {}).update(kind="rest", preset=source_preset.strip().lower())
    if source_vars:
        rest = made.setdefault("source", {}).setdefault("rest", {})
        rest["vars"] = dict(rest.get("vars") or {}) | vars_from(source_vars)
    if target:
        made.setdefault("cliq", {})["connection"] = target
    if connect:
        made.setdefault("connect", {})["connection"] = connect
    if network_id:
        made.setdefault("connect", {})["network_id"] = network_id
    return made


def scope_from(entries: list[str], given: Any = None) -> dict[str, Any]:
    """``["department=Sales,Support", "employment_type!=Contractor", "on_leave=deactivate"]``
    as a ``[scope]`` table (include, exclude, on_leave), over ``given`` (a file's ``[scope]``,
    in either form, whose fields the entries name are replaced); a field given twice in the
    entries takes the values of both."""
    scope = _new_form(given)
    named: set[tuple[str, str]] = set()
    for entry in entries:
        name, sign, values = entry.partition("=")
        table = "exclude" if name.endswith("!") else "include"
        name = name.removesuffix("!").strip()
        wanted = [v.strip() for v in values.split(",") if v.strip()]
        if not sign or not name or not wanted:
            raise ConfigError(
                f"scope {entry!r}: write FIELD=VALUE[,VALUE] to include, FIELD!=VALUE[,VALUE] "
                "to exclude (e.g. department=Sales,Support or employment_type!=Contractor), "
                "or on_leave=keep|deactivate"
            )
        if name == "on_leave" and table == "include":
            scope["on_leave"] = wanted[0]
            continue
        rules = scope.setdefault(table, {})
        before = _listed(rules.get(name)) if (table, name) in named else []
        rules[name] = [*before, *wanted]
        named.add((table, name))
    return scope


def vars_from(entries: list[str]) -> dict[str, str]:
    """``["company=acme"]`` as ``[source.rest.vars]``."""
    found: dict[str, str] = {}
    for entry in entries:
        name, sign, value = entry.partition("=")
        if not sign or not name.strip() or not value.strip():
            raise ConfigError(f"source var {entry!r}: write NAME=VALUE (e.g. company=acme)")
        found[name.strip()] = value.strip()
    return found


def _new_form(given: Any) -> dict[str, Any]:
    """A ``[scope]`` table as include / exclude / on_leave (the older form's fields are
    include); what is not a table is left for validation to refuse."""
    if not isinstance(given, dict):
        return {}
    fields = {k: v for k, v in given.items() if k not in KEYS}
    kept = {k: dict(v) if isinstance(v, dict) else v for k, v in given.items() if k in KEYS}
    if fields and not any(t in given for t in TABLES):
        kept["include"] = fields
    elif fields:
        kept.update(fields)  # both forms at once: validation says so
    return kept


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def without_schedule(config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``config`` without its ``[sync]`` table, and the schedule that table gave (None when
    none): an integration's schedule is kept beside its configuration, not in it."""
    kept = dict(config)
    sync = kept.pop("sync", None)
    if sync is None:
        return kept, None
    if not isinstance(sync, dict) or set(sync) - {"schedule"}:
        raise ConfigError('[sync] takes one key, schedule (e.g. "every 15 min")')
    return kept, str(sync.get("schedule", ""))


def validate(name: str, config: dict[str, Any]) -> None:
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
