"""Ready configurations of ``rest`` sources for HR systems whose APIs hrsync knows: each a
TOML file beside this module, holding ``[source.rest]``'s keys. hrsync.toml names one with
``[source] preset = "bamboohr"``, and its own ``[source.rest]`` keys win over the preset's,
key by key (tables are merged, everything else replaced)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from hrsync.errors import ConfigError


@cache
def _all() -> dict[str, dict[str, Any]]:
    folder = resources.files("hrsync.sources.rest") / "presets"
    found: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text("utf-8"))
    return dict(sorted(found.items()))


def names() -> list[str]:
    return list(_all())


def preset(name: str) -> dict[str, Any]:
    """The preset's keys (a copy)."""
    import copy

    known = _all()
    key = name.strip().lower()
    if key not in known:
        raise ConfigError(
            f"unknown preset {name!r}; hrsync has {', '.join(known) or 'none'} "
            "(`hrsync sources presets` lists them)"
        )
    return copy.deepcopy(known[key])


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merged key by key, any other value replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
