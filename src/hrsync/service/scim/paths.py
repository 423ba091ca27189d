"""A PATCH must name attributes hrsync knows. Attributes no schema declares are forgiven in a
POST or PUT body (dropped, as Microsoft's reference collection expects), but a PATCH whose
path, or a no-path ``replace`` whose key, names no attribute would be answered 204 and change
nothing: the identity provider would take a mapping's typo for a change made. It is refused
instead (400 ``invalidPath``), naming the path."""

from __future__ import annotations

from typing import Any

from scim2_models import Path, ScimProvider
from scim2_server.utils import parametrize

ENDPOINTS = {"users": "User", "groups": "Group"}


def unknown_paths(provider: ScimProvider, path: str, body: Any) -> list[str]:
    """The attribute paths a PATCH of ``path`` (``/Users/ID``) names that no schema of its
    resource type declares."""
    endpoint = path.strip("/").split("/")[0].lower()
    kind = next((t for t in provider.resource_types if t.name == ENDPOINTS.get(endpoint)), None)
    operations = _get(body, "Operations") if isinstance(body, dict) else None
    if kind is None or not isinstance(operations, list):
        return []
    model = provider.model_for(kind)
    schemas = {
        str(s).lower() for s in [kind.schema_, *(e.schema_ for e in kind.schema_extensions or [])]
    }
    unknown: list[str] = []
    for op in operations:
        if not isinstance(op, dict):
            continue
        named = _get(op, "path")
        value = _get(op, "value")
        if isinstance(named, str) and named:
            whole = named.lower() in schemas  # a whole extension
            unknown += [] if whole or _known(model, named) else [named]
        elif isinstance(value, dict):
            for key, inner in value.items():
                if str(key).lower() in schemas and isinstance(inner, dict):
                    unknown += [f"{key}:{k}" for k in inner if not _known(model, f"{key}:{k}")]
                elif str(key).lower() != "schemas" and not _known(model, str(key)):
                    unknown.append(str(key))
    return unknown


def _known(model: Any, path: str) -> bool:
    try:
        return parametrize(Path, model)(path).resolve() is not None
    except Exception:  # a path that does not even parse names nothing either
        return False


def _get(mapping: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next(
        (v for k, v in mapping.items() if isinstance(k, str) and k.lower() == lowered), None
    )
