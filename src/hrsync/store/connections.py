"""Connections as rows: what ``hrsync.access.connections`` stores, read back as plain values.

Secrets arrive sealed by the vault and leave sealed; nothing here can open them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from hrsync.store.tables import AccessToken, Connection

if TYPE_CHECKING:
    from hrsync.store.db import Store


@dataclass(frozen=True, slots=True)
class StoredConnection:
    """One connection as stored: settings as JSON text, secrets sealed."""

    id: int
    name: str
    service: str
    data_centre: str
    settings: str
    secrets: bytes
    status: str  # created | authorised | revoked


@dataclass(frozen=True, slots=True)
class TokenState:
    """What may be shown of a connection's cached access token: never the token."""

    expires_at: float
    denied_until: float
    refreshes: int


def _stored(row: Connection) -> StoredConnection:
    return StoredConnection(
        row.id, row.name, row.service, row.data_centre, row.settings, row.secrets, row.status
    )


def find(store: Store, name: str) -> StoredConnection | None:
    """The connection named ``name``, if there is one."""
    with store.session() as s:
        row = s.scalars(select(Connection).where(Connection.name == name)).first()
        return _stored(row) if row is not None else None


def names(store: Store) -> list[str]:
    """Every connection's name, sorted."""
    with store.session() as s:
        return list(s.scalars(select(Connection.name).order_by(Connection.name)))


def add(
    store: Store,
    *,
    name: str,
    service: str,
    data_centre: str,
    settings: str,
    secrets: bytes,
    status: str,
    now: float,
) -> bool:
    """Store a new connection; False (and nothing stored) if the name is taken."""
    with store.session.begin() as s:
        if s.scalars(select(Connection).where(Connection.name == name)).first():
            return False
        s.add(
            Connection(
                name=name,
                service=service,
                data_centre=data_centre,
                settings=settings,
                secrets=secrets,
                status=status,
                created_at=now,
                updated_at=now,
            )
        )
    return True


def token_state(store: Store, connection_id: int) -> TokenState | None:
    """The connection's cached token's expiry, back-off and refresh count, if it has one."""
    with store.session() as s:
        token = s.get(AccessToken, connection_id)
        if token is None:
            return None
        return TokenState(token.expires_at, token.denied_until, token.refreshes)


def save_secrets(
    store: Store, connection_id: int, *, secrets: bytes, status: str, now: float
) -> None:
    """Replace the connection's sealed secrets and status."""
    with store.session.begin() as s:
        s.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(secrets=secrets, status=status, updated_at=now)
        )


def save_authorisation(
    store: Store,
    connection_id: int,
    *,
    secrets: bytes,
    settings: str,
    now: float,
    token: bytes,
    expires_at: float,
) -> None:
    """The connection is authorised: its new secrets and settings, and the access token the
    grant came with, in one step. A code is not a refresh: the refresh count stays."""
    with store.session.begin() as s:
        s.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(secrets=secrets, settings=settings, status="authorised", updated_at=now)
        )
        row = s.get(AccessToken, connection_id)
        if row is None:
            row = AccessToken(connection_id=connection_id, refreshes=0)
            s.add(row)
        row.sealed, row.expires_at, row.denied_until = token, expires_at, 0.0
        row.refreshes = row.refreshes or 0


def revoke(store: Store, connection_id: int, *, secrets: bytes, now: float) -> None:
    """Forget the connection's access token and keep it as revoked with ``secrets``."""
    with store.session.begin() as s:
        s.execute(delete(AccessToken).where(AccessToken.connection_id == connection_id))
        s.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(secrets=secrets, status="revoked", updated_at=now)
        )


def remove(store: Store, connection_id: int) -> None:
    """Remove the connection and its access token."""
    with store.session.begin() as s:
        s.execute(delete(AccessToken).where(AccessToken.connection_id == connection_id))
        s.execute(delete(Connection).where(Connection.id == connection_id))
