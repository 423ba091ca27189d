"""Signatures already taken: a signed webhook call is taken once. Part of the store, kept
apart because only the service's webhook uses it. The first to insert a signature takes the
call, in one statement that either adds the row or finds it there (on every process that
shares the store); rows go once the call they signed would be refused as stale anyway."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from hrsync.clock import Clock
from hrsync.store.tables import WebhookSignature


class NonceStore:
    """The store's memory of signatures; ``Store`` provides the engine, clock, integration."""

    engine: Engine
    integration: str
    _clock: Clock

    def first_use(self, signature: str, *, until: float) -> bool:
        """Whether ``signature`` is new to this integration (then it is remembered until
        ``until``); False if it was taken before. Forgets what is past on the way."""
        dialect: Any = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        row = {"integration": self.integration, "signature": signature, "expires_at": until}
        with self.engine.begin() as connection:
            connection.execute(
                delete(WebhookSignature).where(WebhookSignature.expires_at < self._clock.now())
            )
            added = connection.execute(
                dialect.insert(WebhookSignature)
                .values(row)
                .on_conflict_do_nothing()
                .returning(WebhookSignature.signature)
            ).first()
            return added is not None

    def remembered_uses(self) -> int:
        """How many signatures are remembered, for every integration."""
        with self.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(WebhookSignature))
            return int(count.scalar() or 0)
