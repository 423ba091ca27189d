"""Leases: which ``hrsync serve`` worker runs an integration now. A worker claims an
integration before each run and renews the claim while the run goes on; once a worker stops
renewing (it died, or lost the store), its lease expires and another worker takes it over,
and the runs the dead worker left "running" become "interrupted".

On PostgreSQL the lease row is read ``FOR UPDATE SKIP LOCKED``: of two workers claiming at
once, one gets the row and the other passes on without waiting. SQLite has one writer at a
time, so there a claim takes the database's write lock first (see ``Store.exclusive``).

A lease is not taken over while its holder may simply not have been able to renew it: once
this process finds the database server back after a restart (or after losing it), every
lease gets its own length from that moment before it counts as run out, time enough for a
live holder to renew it (``Store.regained_at``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hrsync.store.tables import Lease, Run

if TYPE_CHECKING:
    from hrsync.store.db import Store

log = logging.getLogger(__name__)


class Lapses(NamedTuple):
    """What a look at the leases found: those run out unrenewed (integration, holder, when),
    and in how many seconds the next live one runs out unless renewed (None: none is held)."""

    lapsed: frozenset[tuple[str, str, float]]
    next_in: float | None


class Leases:
    """The leases of one worker (``owner``, host:pid), each lasting ``seconds`` unless renewed."""

    def __init__(self, store: Store, *, owner: str, seconds: float) -> None:
        self._store = store
        self.owner = owner
        self.seconds = seconds

    def claim(self, integration: str) -> bool:
        """Take ``integration`` for a run: True if it was free, expired, or already ours;
        False while another worker's lease on it is live (or another claim has its row)."""
        now = self._store.clock.now()
        with self._store.session.begin() as s:
            if self._store.engine.dialect.name == "sqlite":
                self._store.exclusive(s, f"lease:{integration}")
            row = s.scalars(
                select(Lease)
                .where(Lease.integration == integration)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:  # never claimed yet, or another worker is claiming it right now
                return self._first_claim(s, integration, now)
            if row.owner and row.owner != self.owner:
                if self._runs_out_at(row) > now:
                    return False
                self._take_over(s, row, now)
            row.owner, row.expires_at, row.renewed_at = self.owner, now + self.seconds, now
            return True

    def _runs_out_at(self, row: Lease) -> float:
        """When ``row``'s holder, unless it renews, may be taken over: at its expiry, or a
        lease's length after the store came back if that is later."""
        length = max(0.0, row.expires_at - row.renewed_at)
        return max(row.expires_at, self._store.regained_at() + length)

    def lapsed(self) -> Lapses:
        """The leases a worker (this one too) let run out without releasing them, which a
        claim would now take over; and when the next live one will have, unless renewed.
        Read by every worker, all the time (``LeaseWatch``)."""
        now = self._store.clock.now()
        with self._store.session() as s:
            rows = s.scalars(select(Lease).where(Lease.owner != "")).all()
            ends = [(row, self._runs_out_at(row)) for row in rows]
        return Lapses(
            frozenset((row.integration, row.owner, end) for row, end in ends if end <= now),
            min((end - now for _, end in ends if end > now), default=None),
        )

    def _first_claim(self, s: Session, integration: str, now: float) -> bool:
        values = {
            "integration": integration,
            "owner": self.owner,
            "expires_at": now + self.seconds,
            "renewed_at": now,
        }
        dialect = self._store.engine.dialect.name
        insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert
        added = s.execute(
            insert(Lease).values(values).on_conflict_do_nothing().returning(Lease.integration)
        ).first()
        return added is not None

    def _take_over(self, s: Session, row: Lease, now: float) -> None:
        """The holder stopped renewing: the runs it left "running" here did not finish."""
        s.execute(
            update(Run)
            .where(
                Run.integration == row.integration,
                Run.owner == row.owner,
                Run.status == "running",
            )
            .values(status="interrupted", finished_at=now)
        )
        log.warning(
            "the lease of %s held by %s expired (the worker is gone): taken over",
            row.integration,
            row.owner,
            extra={"integration": row.integration},
        )

    def renew(self, integration: str) -> bool:
        """Push the lease's expiry on, and mark our run of ``integration`` as still going
        (its heartbeat, which ``hrsync runs`` on other machines reads); False if the lease is
        no longer ours (taken over)."""
        now = self._store.clock.now()
        with self._store.session.begin() as s:
            done = s.execute(
                update(Lease)
                .where(Lease.integration == integration, Lease.owner == self.owner)
                .values(expires_at=now + self.seconds, renewed_at=now)
            )
            if not getattr(done, "rowcount", 0):
                return False
            s.execute(
                update(Run)
                .where(
                    Run.integration == integration,
                    Run.owner == self.owner,
                    Run.status == "running",
                )
                .values(heartbeat_at=now)
            )
            return True

    def release(self, integration: str) -> None:
        """Free the lease at once (the run ended), if it is still ours."""
        with self._store.session.begin() as s:
            s.execute(
                update(Lease)
                .where(Lease.integration == integration, Lease.owner == self.owner)
                .values(owner="", expires_at=0.0)
            )

    def holder(self, integration: str) -> tuple[str, float] | None:
        """Who holds ``integration``'s lease, and until when; None if it is free."""
        with self._store.session() as s:
            row = s.get(Lease, integration)
            if row is None or not row.owner or row.expires_at <= self._store.clock.now():
                return None
            return row.owner, row.expires_at
