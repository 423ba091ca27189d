"""Store URLs: which database they name, where a relative SQLite file lies, and how to show
one without its password. The one place outside the engine that reads a database URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def backend_of(url: str) -> str:
    """``sqlite``, ``postgresql``, …; ValueError when ``url`` is not a database URL."""
    try:
        return str(make_url(url).get_backend_name())
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL") from None


def beside(url: str, folder: Path) -> str:
    """A SQLite URL with a relative path made relative to ``folder`` (the config's)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(folder / database)).render_as_string(hide_password=False)


def shown(url: str) -> str:
    """The URL as it may be printed: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for memory, a ``file:`` URI or another database)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)
