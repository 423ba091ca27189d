"""Stored access tokens, one row per connection or per set of keys in hrsync.toml, each held
by one process at a time while it decides whether to refresh."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session

from hrsync.store.tables import AccessToken, ConfigToken

if TYPE_CHECKING:
    from hrsync.store.db import Store


@contextmanager
def held_connection_token(store: Store, connection_id: int) -> Iterator[AccessToken]:
    """A connection's token row, created if missing, held until the block ends (then saved).
    Bumping the row takes its write lock: a second process waits, then finds what this one
    fetched."""
    with store.session.begin() as s:
        found = s.execute(
            update(AccessToken)
            .where(AccessToken.connection_id == connection_id)
            .values(turn=AccessToken.turn + 1)
        )
        if not getattr(found, "rowcount", 0):
            s.add(AccessToken(connection_id=connection_id, expires_at=0.0, denied_until=0.0))
            s.flush()
        token = s.get(AccessToken, connection_id)
        assert token is not None
        yield token


@contextmanager
def connection_token(store: Store, connection_id: int) -> Iterator[AccessToken | None]:
    """A connection's token row if there is one, saved when the block ends."""
    with store.session.begin() as s:
        yield s.get(AccessToken, connection_id)


def connection_token_in(s: Session, connection_id: int) -> AccessToken:
    """A connection's token row within a transaction the caller holds, created if missing."""
    token = s.get(AccessToken, connection_id)
    if token is None:
        token = AccessToken(connection_id=connection_id, expires_at=0.0, denied_until=0.0)
        token.refreshes = 0
        s.add(token)
    return token


@contextmanager
def held_config_token(store: Store, key: str) -> Iterator[ConfigToken]:
    """The token row of hrsync.toml's keys (``key`` names them), created if missing, held by
    this process alone until the block ends (then saved)."""
    with store.session.begin() as s:
        store.exclusive(s, f"token:{key}")
        row = s.get(ConfigToken, key)
        if row is None:
            row = ConfigToken(key=key, expires_at=0.0, denied_until=0.0, refreshes=0)
            s.add(row)
        yield row
