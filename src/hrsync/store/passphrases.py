"""Wrong admin passphrases in a row, counted per door (the admin page, the command line).

A count is held by one transaction at a time from the moment it is read until the guess it
was read for has been compared and counted: of guesses sent all at once, each waits for the
one before it, then finds the count that one left. So parallel guesses cost what the same
guesses one after the other cost. PostgreSQL serialises them on an advisory lock of the door;
SQLite has one writer at a time, and the first write takes its lock (see ``Store.exclusive``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hrsync.store.tables import PassphraseTry

if TYPE_CHECKING:
    from hrsync.store.db import Store


@dataclass(slots=True)
class Tries:
    """A door's wrong passphrases in a row, and when the last one came."""

    wrong: int
    at: float


@contextmanager
def held_tries(store: Store, door: str) -> Iterator[Tries]:
    """``door``'s count, held by this process alone until the block ends; what the block
    changes is saved when it ends without an exception."""
    with store.session.begin() as s:
        store.exclusive(s, f"passphrase:{door}")
        row = s.get(PassphraseTry, door)
        if row is None:
            row = PassphraseTry(door=door, wrong=0, at=0.0)
            s.add(row)
        tries = Tries(row.wrong, row.at)
        yield tries
        row.wrong, row.at = tries.wrong, tries.at


def tries_at(store: Store, door: str) -> Tries:
    """``door``'s count as it stands, without holding it."""
    with store.session() as s:
        row = s.get(PassphraseTry, door)
        return Tries(row.wrong, row.at) if row is not None else Tries(0, 0.0)
