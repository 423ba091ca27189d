"""Bookmarks: named JSON values a source or target keeps between runs (where a read ended,
what it saw). Part of the store, kept apart because they are read and written whole, and at
100,000 people some are megabytes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from hrsync import jsontext
from hrsync.clock import Clock
from hrsync.store.tables import Bookmark

# The value goes as an execution parameter, never into the statement: a statement compiled
# once is cached with the values it was built with.
_UPDATE = (
    update(Bookmark)
    .where(Bookmark.integration == bindparam("b_integration"), Bookmark.name == bindparam("b_name"))
    .values(value=bindparam("b_value"), updated_at=bindparam("b_updated_at"))
)


class BookmarkStore:
    """The store's bookmarks; ``Store`` provides the engine, clock and integration."""

    engine: Engine
    integration: str
    _clock: Clock

    def bookmark(self, name: str) -> Any:
        """The JSON value saved under ``name``, or None."""
        with self.engine.connect() as connection:
            saved = connection.execute(
                select(Bookmark.value).where(
                    Bookmark.integration == self.integration, Bookmark.name == name
                )
            ).scalar()
            return jsontext.loads(saved) if saved is not None else None

    def save_bookmark(self, name: str, value: Any) -> None:
        """Saved in one statement, the old value left unread."""
        body, now = jsontext.dumps(value), self._clock.now()
        with self.engine.begin() as connection:
            mine = {"b_integration": self.integration, "b_name": name}
            changed = connection.execute(_UPDATE, {**mine, "b_value": body, "b_updated_at": now})
            if not changed.rowcount:
                row = {"integration": self.integration, "name": name}
                connection.execute(insert(Bookmark), {**row, "value": body, "updated_at": now})
