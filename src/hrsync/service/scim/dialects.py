"""What identity providers send that RFC 7644 does not say, made plain before the protocol
reads it. The rest of their habits (capitalised ``op`` values, ``"False"`` as a string,
``replace`` without a path whose keys are dotted paths, case-insensitive attribute names, a
``remove`` that carries the values to remove) the SCIM library takes as they come, under
``schema.POLICY``.

- Entra writes the manager as a bare string: ``{"op": "Add", "path":
  "urn:…:enterprise:2.0:User:manager", "value": "E042"}``, and so does a no-path
  ``replace`` keyed by that path; RFC 7643 §4.3 makes it ``{"value": "E042"}``.
- Microsoft's reference collection adds a group member as a bare id string.
- Microsoft's inbound provisioning collection names an extension's attribute after a dot:
  ``"path": "urn:…:enterprise:2.0:User.manager"``; RFC 7644 §3.10 puts a colon there (read
  as written, the path names an attribute of no schema, and the operation would do nothing).
- Entra clears a manager with an empty value: that is the attribute removed."""

from __future__ import annotations

from typing import Any

from hrsync.service.scim.schema import CORE_USER, ENTERPRISE_USER, HRSYNC_USER

MANAGER = f"{ENTERPRISE_USER}:manager".lower()
SCHEMAS = (CORE_USER, ENTERPRISE_USER, HRSYNC_USER, "urn:ietf:params:scim:schemas:core:2.0:Group")


def plain(body: Any) -> Any:
    """``body`` (a parsed request body) with the dialects above made plain."""
    if not isinstance(body, dict):
        return body
    operations = _key(body, "Operations")
    if operations is not None and isinstance(body[operations], list):
        body[operations] = [_operation(op) for op in body[operations]]
        return body
    enterprise = _key(body, ENTERPRISE_USER)
    if enterprise is not None and isinstance(body[enterprise], dict):
        _manager_in(body[enterprise])
    return body


def _operation(op: Any) -> Any:
    if not isinstance(op, dict):
        return op
    path_key, value_key = _key(op, "path"), _key(op, "value")
    path = op.get(path_key) if path_key else None
    if path_key and isinstance(path, str):
        path = op[path_key] = _colon(path)
    value = op.get(value_key) if value_key else None
    if isinstance(path, str) and path.lower() == MANAGER:
        if value is None or value == "" or value == {"value": ""}:
            return {"op": "remove", "path": path}
        if isinstance(value, str):
            op[value_key or "value"] = {"value": value}
    elif isinstance(path, str) and path.lower() == "members" and isinstance(value, str):
        op[value_key or "value"] = [{"value": value}]
    elif path is None and isinstance(value, dict):
        for key in list(value):
            if key.lower() == MANAGER and isinstance(value[key], str):
                value[key] = {"value": value[key]}
            elif key.lower() == ENTERPRISE_USER.lower() and isinstance(value[key], dict):
                _manager_in(value[key])
    return op


def _colon(path: str) -> str:
    """``path`` with a dot after a schema's URN made the colon of RFC 7644's attrPath."""
    lowered = path.lower()
    for urn in SCHEMAS:
        if lowered.startswith(f"{urn.lower()}."):
            return f"{path[: len(urn)]}:{path[len(urn) + 1 :]}"
    return path


def _manager_in(enterprise: dict[str, Any]) -> None:
    key = _key(enterprise, "manager")
    if key is not None and isinstance(enterprise[key], str):
        enterprise[key] = {"value": enterprise[key]} if enterprise[key] else None


def _key(mapping: dict[str, Any], name: str) -> str | None:
    """The key of ``mapping`` that is ``name`` whatever its case."""
    if name in mapping:
        return name
    lowered = name.lower()
    return next((k for k in mapping if isinstance(k, str) and k.lower() == lowered), None)
