"""The API call log behind the pacer: every call to a Zoho host by every process using the
store, written down before it is sent, read before every call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, case, delete, func, select

from hrsync.api.ratelimit import LOCKED, Decide, Reservation
from hrsync.store.bulk import placeholder
from hrsync.store.tables import ApiCall

if TYPE_CHECKING:
    from hrsync.store.db import Store

CALLS_KEPT = 3600.0  # seconds of API call history kept for pacing
# Sent as they are, with the driver's own parameter mark: the log is read and written
# around every call, and SQLAlchemy's statement handling cost more than the statements.
_RECENT = (
    "SELECT endpoint, at FROM api_calls WHERE scope = {m} AND endpoint IN ({m}, {m}) "
    "AND at >= {m} ORDER BY at"
)
_ADD = "INSERT INTO api_calls (scope, endpoint, at) VALUES ({m}, {m}, {m})"
_COMPLETE = "UPDATE api_calls SET at = {m} WHERE id = {m}"
_CANCEL = delete(ApiCall).where(ApiCall.id == bindparam("ticket"))


class CallLog:
    """The calls one Zoho API host has seen from this store's processes, for the pacer."""

    def __init__(self, store: Store, scope: str) -> None:
        self._store = store
        # On connections, not ORM sessions: the log is read and written around every call.
        self._engine = store.engine
        self.scope = scope
        self._pruned = False
        mark = placeholder(self._engine)
        self._sql = {
            name: sql.format(m=mark)
            for name, sql in (("recent", _RECENT), ("add", _ADD), ("complete", _COMPLETE))
        }
        # PostgreSQL says the new row's id when asked; SQLite's cursor keeps it.
        if self._engine.dialect.name == "postgresql":
            self._sql["add"] += " RETURNING id"

    def _recent(self, connection: Connection, endpoint: str, since: float) -> Any:
        return connection.exec_driver_sql(
            self._sql["recent"], (self.scope, endpoint, endpoint + LOCKED, since)
        )

    def _add(self, connection: Connection, endpoint: str, at: float) -> int:
        added = connection.exec_driver_sql(self._sql["add"], (self.scope, endpoint, at))
        if self._engine.dialect.name == "postgresql":
            return int(added.scalar_one())
        assert added.lastrowid is not None  # an INSERT of one row always has its key
        return int(added.lastrowid)

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
            return Reservation(self._add(connection, endpoint, now))

    def _prune(self, connection: Connection, now: float) -> None:
        if not self._pruned:
            connection.execute(
                delete(ApiCall).where(ApiCall.scope == self.scope, ApiCall.at < now - CALLS_KEPT)
            )
            self._pruned = True

    def complete(self, ticket: int, at: float) -> None:
        with self._engine.begin() as connection:
            connection.exec_driver_sql(self._sql["complete"], (at, ticket))

    def cancel(self, ticket: int) -> None:
        with self._engine.begin() as connection:
            connection.execute(_CANCEL, {"ticket": ticket})

    def add(self, endpoint: str, at: float) -> None:
        with self._engine.begin() as connection:
            self._add(connection, endpoint, at)


def calls_per_endpoint(store: Store, *, now: float) -> list[tuple[str, str, int, int, float]]:
    """(host, endpoint, calls in the last minute, in the last hour, end of a lock period
    still running or 0.0) for every endpoint called in the last hour, by any process using
    ``store``: what the admin page draws against Zoho's limits."""
    minute = case((ApiCall.at >= now - 60.0, 1), else_=0)
    found: dict[tuple[str, str], list[Any]] = {}
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                ApiCall.scope,
                ApiCall.endpoint,
                func.sum(minute),
                func.count(),
                func.max(ApiCall.at),
            )
            .where(ApiCall.at >= now - CALLS_KEPT)
            .group_by(ApiCall.scope, ApiCall.endpoint)
        )
        for scope, endpoint, last_minute, last_hour, latest in rows:
            name = endpoint.removesuffix(LOCKED)
            counts = found.setdefault((scope, name), [0, 0, 0.0])
            if endpoint.endswith(LOCKED):  # a lock's end, not a call
                counts[2] = float(latest) if float(latest) > now else 0.0
            else:
                counts[0], counts[1] = int(last_minute or 0), int(last_hour)
    return [(scope, name, *counts) for (scope, name), counts in sorted(found.items())]


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
