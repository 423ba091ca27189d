"""Memberships hrsync created (teams, Connect groups, roles): part of the store, kept apart
because only the membership rules read or write them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from hrsync.clock import Clock
from hrsync.store.bulk import insert_rows
from hrsync.store.tables import Membership

_TABLE = Membership.__table__
_COLUMNS = ("integration", "kind", "group_key", "employee_id", "created_at")


class MembershipStore:
    """The store's memberships; ``Store`` provides the session, clock and integration."""

    engine: Engine
    integration: str
    _session: sessionmaker[Session]
    _clock: Clock

    def memberships(self, kind: str) -> dict[str, set[str]]:
        """Group (lower-cased name) → employee ids hrsync put in it."""
        found: dict[str, set[str]] = {}
        with self.engine.connect() as connection:  # plain rows: no ORM objects for 100,000
            rows = connection.execute(
                select(Membership.group_key, Membership.employee_id).where(
                    Membership.integration == self.integration, Membership.kind == kind
                )
            )
            for group, employee_id in rows:
                if (members := found.get(group)) is None:
                    members = found[group] = set()
                members.add(employee_id)
        return found

    def add_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None:
        self.add_many_memberships(kind, {group: employee_ids})

    def add_many_memberships(self, kind: str, groups: Mapping[str, Iterable[str]]) -> None:
        """Record people in groups of ``kind``, all in one statement (an invitation batch
        joins many teams at once); a membership already recorded stays as it is."""
        now = self._clock.now()
        rows = [
            (self.integration, kind, group.strip().lower(), e, now)
            for group, employee_ids in groups.items()
            for e in sorted(set(employee_ids))
        ]
        if not rows:
            return
        with self.engine.begin() as connection:  # no ORM session: nothing here needs one
            insert_rows(connection, _TABLE, _COLUMNS, rows, skip_existing=True)

    def move_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None:
        """Record ``employee_ids`` in ``group`` and in no other group of ``kind`` (a role)."""
        ids = list(employee_ids)
        with self._session.begin() as s:
            s.execute(
                delete(Membership).where(
                    Membership.integration == self.integration,
                    Membership.kind == kind,
                    Membership.employee_id.in_(ids),
                )
            )
        self.add_memberships(kind, group, ids)

    def remove_memberships(self, kind: str, group: str, employee_ids: Iterable[str]) -> None:
        with self._session.begin() as s:
            s.execute(
                delete(Membership).where(
                    Membership.integration == self.integration,
                    Membership.kind == kind,
                    Membership.group_key == group.strip().lower(),
                    Membership.employee_id.in_(list(employee_ids)),
                )
            )
