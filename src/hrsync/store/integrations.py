"""Integrations as rows: what ``hrsync.access.integrations`` stores, read back as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from hrsync.store.tables import Integration, ScimToken

if TYPE_CHECKING:
    from hrsync.store.db import Store


@dataclass(frozen=True, slots=True)
class StoredIntegration:
    """One integration as stored: its configuration as JSON text."""

    id: int
    name: str
    config: str
    schedule: str
    status: str  # draft | enabled | deactivated


def _stored(row: Integration) -> StoredIntegration:
    return StoredIntegration(row.id, row.name, row.config, row.schedule, row.status)


def find(store: Store, name: str) -> StoredIntegration | None:
    """The integration named ``name``, if there is one."""
    with store.session() as s:
        row = s.scalars(select(Integration).where(Integration.name == name)).first()
        return _stored(row) if row is not None else None


def names(store: Store) -> list[str]:
    """Every integration's name, sorted."""
    with store.session() as s:
        return list(s.scalars(select(Integration.name).order_by(Integration.name)))


def enabled(store: Store) -> list[StoredIntegration]:
    """The integrations that are enabled."""
    with store.session() as s:
        found = s.scalars(select(Integration).where(Integration.status == "enabled"))
        return [_stored(row) for row in found]


def add(store: Store, *, name: str, config: str, schedule: str, now: float) -> bool:
    """Store a new integration as a draft; False (and nothing stored) if the name is taken."""
    with store.session.begin() as s:
        if s.scalars(select(Integration).where(Integration.name == name)).first():
            return False
        s.add(
            Integration(
                name=name,
                config=config,
                schedule=schedule,
                status="draft",
                created_at=now,
                updated_at=now,
            )
        )
    return True


def save_config(store: Store, integration_id: int, config: str, *, now: float) -> None:
    """Replace the integration's configuration."""
    with store.session.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.id == integration_id)
            .values(config=config, updated_at=now)
        )


def set_schedule(store: Store, name: str, schedule: str, *, now: float) -> None:
    """When the integration runs ("" by hand)."""
    with store.session.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.name == name)
            .values(schedule=schedule, updated_at=now)
        )


def set_status(store: Store, name: str, status: str, *, now: float) -> None:
    """Move the integration to ``status``."""
    with store.session.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.name == name)
            .values(status=status, updated_at=now)
        )


def remove(store: Store, name: str) -> None:
    """Delete the integration's row, and its SCIM token: a new integration of the same name
    does not take the old one's calls."""
    with store.session.begin() as s:
        s.execute(delete(Integration).where(Integration.name == name))
        s.execute(delete(ScimToken).where(ScimToken.integration == name))
