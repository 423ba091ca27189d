"""What every log line of a run carries (the integration), without passing it down: set once
where the run starts, read by the JSON log lines of ``hrsync serve``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_FIELDS: ContextVar[tuple[tuple[str, Any], ...]] = ContextVar("hrsync_log_fields", default=())


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Log lines within carry ``fields`` (each line's own ``extra=`` wins)."""
    token = _FIELDS.set(tuple((dict(_FIELDS.get()) | fields).items()))
    try:
        yield
    finally:
        _FIELDS.reset(token)


def fields() -> dict[str, Any]:
    return dict(_FIELDS.get())
