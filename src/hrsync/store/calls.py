"""The API call log behind the pacer: every call to a Zoho host by every process using the
store, written down before it is sent, read before every call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hrsync.api.ratelimit import LOCKED, Decide, Reservation
from hrsync.store.tables import ApiCall

if TYPE_CHECKING:
    from hrsync.store.db import Store

CALLS_KEPT = 3600.0  # seconds of API call history kept for pacing


class CallLog:
    """The calls one Zoho API host has seen from this store's processes, for the pacer."""

    def __init__(self, store: Store, scope: str) -> None:
        self._store = store
        self.scope = scope
        self._pruned = False

    def _of(self, endpoint: str, since: float) -> Any:
        return (
            select(ApiCall.endpoint, ApiCall.at)
            .where(
                ApiCall.scope == self.scope,
                ApiCall.endpoint.in_((endpoint, endpoint + LOCKED)),
                ApiCall.at >= since,
            )
            .order_by(ApiCall.at)
        )

    def recent(self, endpoint: str, since: float) -> tuple[list[float], float]:
        """Times of ``endpoint``'s calls since ``since``, oldest first, and its lock's end."""
        with self._store.session() as s:
            return _calls_and_lock(s.execute(self._of(endpoint, since)), endpoint)

    def reserve(self, endpoint: str, *, now: float, since: float, decide: Decide) -> Reservation:
        """Read, decide and write the call down in one step, one process at a time."""
        with self._store.session.begin() as s:
            self._store.exclusive(s, f"calls:{self.scope}")
            self._prune(s, now)
            wait = decide(*_calls_and_lock(s.execute(self._of(endpoint, since)), endpoint))
            if wait > 0:
                return Reservation(wait=wait)
            call = ApiCall(scope=self.scope, endpoint=endpoint, at=now)
            s.add(call)
            s.flush()
            return Reservation(call.id)

    def _prune(self, s: Session, now: float) -> None:
        if not self._pruned:
            s.execute(
                delete(ApiCall).where(ApiCall.scope == self.scope, ApiCall.at < now - CALLS_KEPT)
            )
            self._pruned = True

    def complete(self, ticket: int, at: float) -> None:
        with self._store.session.begin() as s:
            s.execute(update(ApiCall).where(ApiCall.id == ticket).values(at=at))

    def cancel(self, ticket: int) -> None:
        with self._store.session.begin() as s:
            s.execute(delete(ApiCall).where(ApiCall.id == ticket))

    def add(self, endpoint: str, at: float) -> None:
        with self._store.session.begin() as s:
            s.add(ApiCall(scope=self.scope, endpoint=endpoint, at=at))


def _calls_and_lock(rows: Iterable[Any], endpoint: str) -> tuple[list[float], float]:
    """Split call-log rows into the endpoint's call times and the end of its lock period."""
    times: list[float] = []
    locked_until = 0.0
    for name, at in rows:
        if name == endpoint:
            times.append(float(at))
        else:
            locked_until = max(locked_until, float(at))
    return times, locked_until
