"""JSONPaths into HR systems' answers, compiled once.

A plain path (``attributes.first_name.value``, ``work.reportsTo.id``, ``values[0].name``)
is followed key by key, twenty times faster than a general JSONPath; anything else
(filters, wildcards, ``..``) goes to jsonpath-ng. ``$`` is the whole value. A path that
leads nowhere gives ``MISSING``, which is not the same as a ``null`` the answer holds: a
field the answer leaves out is unknown, not blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
_PLAIN = re.compile(r"^(?:[A-Za-z_][\w\-]*|\[\d+\])(?:\.[A-Za-z_][\w\-]*|\[\d+\])*$")
_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
Getter = Callable[[Any], Any]


class PathError(ValueError):
    """A JSONPath that cannot be read."""


def compile_path(path: str) -> Getter:
    """A function giving the one value ``path`` finds in a value (``MISSING`` for none, a
    list of the values when a general path finds several)."""
    text = path.strip().removeprefix("$.").removeprefix("$")
    if not text:
        return lambda value: value
    if _PLAIN.match(text):
        steps: list[str | int] = [
            int(index) if index else key for index, key in _STEP.findall(text)
        ]
        return lambda value: _follow(value, steps)
    try:
        compiled = jsonpath(path if path.startswith("$") else "$." + path)
    except (JsonPathParserError, Exception) as problem:  # the parser raises several types
        raise PathError(f"{path!r} is not a JSONPath: {problem}") from None

    def found(value: Any) -> Any:
        matches = [m.value for m in compiled.find(value)]
        if not matches:
            return MISSING
        return matches[0] if len(matches) == 1 else matches

    return found


def compile_first(paths: str | list[str]) -> Getter:
    """A function giving the value of the first of ``paths`` that leads somewhere."""
    if isinstance(paths, str):
        return compile_path(paths)
    getters = [compile_path(p) for p in paths]

    def first(value: Any) -> Any:
        for get in getters:
            found = get(value)
            if found is not MISSING:
                return found
        return MISSING

    return first


def compile_all(path: str) -> Getter:
    """A function giving every value ``path`` finds, as a list (``MISSING`` for none): where
    records are, or changed ids."""
    text = path.strip()
    if text.endswith("[*]") and _PLAIN.match(text.removeprefix("$.").removeprefix("$")[:-3] or "a"):
        inner = compile_path(text[:-3])

        def listed(value: Any) -> Any:
            found = inner(value)
            if found is MISSING or found is None:
                return MISSING
            return list(found.values()) if isinstance(found, dict) else found

        return listed
    try:
        compiled = jsonpath(text if text.startswith("$") else "$." + text)
    except Exception as problem:
        raise PathError(f"{path!r} is not a JSONPath: {problem}") from None

    def every(value: Any) -> Any:
        matches = compiled.find(value)
        return [m.value for m in matches] if matches else MISSING

    return every


def _follow(value: Any, steps: list[str | int]) -> Any:
    """The value at ``steps``; a null on the way is null (a supervisor the answer gives as
    ``null`` has no id: blank, not unknown), a key the answer lacks is ``MISSING``."""
    for step in steps:
        if value is None:
            return None
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return MISSING
        elif not isinstance(value, dict) or step not in value:
            return MISSING
        value = value[step]
    return value


def text_of(value: Any) -> str:
    """A value as hrsync's fields hold it: text; "" for null; a list of plain values joined
    by ", "; an object by its ``name``, ``value`` or ``id`` (the first it has)."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, list):
        return ", ".join(t for t in (text_of(v) for v in value) if t)
    if isinstance(value, dict):
        for key in ("name", "value", "id"):
            if key in value:
                return text_of(value[key])
    return str(value)
