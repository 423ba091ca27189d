"""The API call log behind the pacer: every call to a Zoho host by every process using the
store, written down before it is sent, read before every call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hrsync.api.ratelimit import LOCKED, Decide, Reservation
from hrsync.store.tables import ApiCall

if TYPE_CHECKING:
    from hrsync.store.db import Store

CALLS_KEPT = 3600.0  # seconds of API call history kept for pacing
# Built once: the log is read and written around every call, on the connection, so each
# costs a cached statement rather than a new one and an ORM unit of work.
_RECENT = (
    select(ApiCall.endpoint, ApiCall.at)
    .where(
        ApiCall.scope == bindparam("scope"),
        ApiCall.endpoint.in_([bindparam("endpoint"), bindparam("locked")]),
        ApiCall.at >= bindparam("since"),
    )
    .order_by(ApiCall.at)
)
_ADD = insert(ApiCall)
_COMPLETE = update(ApiCall).where(ApiCall.id == bindparam("ticket")).values(at=bindparam("at"))
_CANCEL = delete(ApiCall).where(ApiCall.id == bindparam("ticket"))


class CallLog:
    """The calls one Zoho API host has seen from this store's processes, for the pacer."""

    def __init__(self, store: Store, scope: str) -> None:
        self._store = store
        # On connections, not ORM sessions: the log is read and written around every call.
        self._engine = store.engine
        self.scope = scope
        self._pruned = False

    def _recent(self, connection: Connection, endpoint: str, since: float) -> Any:
        return connection.execute(
            _RECENT,
            {
                "scope": self.scope,
                "endpoint": endpoint,
                "locked": endpoint + LOCKED,
                "since": since,
            },
        )

    def recent(self, endpoint: str, since: float) -> tuple[list[float], float]:
        """Times of ``endpoint``'s calls since ``since``, oldest first, and its lock's end."""
        with self._engine.connect() as connection:
            return _calls_and_lock(self._recent(connection, endpoint, since), endpoint)

    def reserve(self, endpoint: str, *, now: float, since: float, decide: Decide) -> Reservation:
        """Read, decide and write the call down in one step, one process at a time."""
        with self._engine.begin() as connection:
            self._store.exclusive(connection, f"calls:{self.scope}")
            self._prune(connection, now)
            wait = decide(*_calls_and_lock(self._recent(connection, endpoint, since), endpoint))
            if wait > 0:
                return Reservation(wait=wait)
            added = connection.execute(_ADD, {"scope": self.scope, "endpoint": endpoint, "at": now})
            key = added.inserted_primary_key
            assert key is not None  # an INSERT of one row always has its key
            return Reservation(int(key[0]))

    def _prune(self, connection: Connection, now: float) -> None:
        if not self._pruned:
            connection.execute(
                delete(ApiCall).where(ApiCall.scope == self.scope, ApiCall.at < now - CALLS_KEPT)
            )
            self._pruned = True

    def complete(self, ticket: int, at: float) -> None:
        with self._engine.begin() as connection:
            connection.execute(_COMPLETE, {"ticket": ticket, "at": at})

    def cancel(self, ticket: int) -> None:
        with self._engine.begin() as connection:
            connection.execute(_CANCEL, {"ticket": ticket})

    def add(self, endpoint: str, at: float) -> None:
        with self._engine.begin() as connection:
            connection.execute(_ADD, {"scope": self.scope, "endpoint": endpoint, "at": at})


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
