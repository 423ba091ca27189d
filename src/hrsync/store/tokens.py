"""Stored access tokens, one row per connection or per set of keys in hrsync.toml, each held
by one process at a time while it decides whether to refresh."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import update

from hrsync.store.tables import AccessToken, ConfigToken

if TYPE_CHECKING:
    from hrsync.store.db import Store


@dataclass(slots=True)
class HeldToken:
    """A stored access token as its holder sees it: what the holder changes is saved when
    its block ends without an exception."""

    sealed: bytes | None
    expires_at: float
    denied_until: float
    refreshes: int


def _held(row: AccessToken | ConfigToken) -> HeldToken:
    return HeldToken(row.sealed, row.expires_at, row.denied_until, row.refreshes or 0)


def _save(held: HeldToken, row: AccessToken | ConfigToken) -> None:
    row.sealed, row.expires_at = held.sealed, held.expires_at
    row.denied_until, row.refreshes = held.denied_until, held.refreshes


@contextmanager
def held_connection_token(store: Store, connection_id: int) -> Iterator[HeldToken]:
    """A connection's token, created if missing, held until the block ends (then saved).
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
        row = s.get(AccessToken, connection_id)
        assert row is not None
        held = _held(row)
        yield held
        _save(held, row)


@contextmanager
def connection_token(store: Store, connection_id: int) -> Iterator[HeldToken | None]:
    """A connection's token if there is one, saved when the block ends."""
    with store.session.begin() as s:
        row = s.get(AccessToken, connection_id)
        held = _held(row) if row is not None else None
        yield held
        if row is not None and held is not None:
            _save(held, row)


@contextmanager
def held_config_token(store: Store, key: str) -> Iterator[HeldToken]:
    """The token of hrsync.toml's keys (``key`` names them), created if missing, held by
    this process alone until the block ends (then saved)."""
    with store.session.begin() as s:
        store.exclusive(s, f"token:{key}")
        row = s.get(ConfigToken, key)
        if row is None:
            row = ConfigToken(key=key, expires_at=0.0, denied_until=0.0, refreshes=0)
            s.add(row)
        held = _held(row)
        yield held
        _save(held, row)
