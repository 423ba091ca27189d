"""What identity providers push over SCIM, kept in hrsync's store: the resources as pushed
(``scim_resources``) and each SCIM source's bearer token as its hash (``scim_tokens``).

A request is one transaction: the resource and the HR event that asks a run to look at the
person are written together, before hrsync answers. On SQLite a writing request takes the
write lock when it begins (``BEGIN IMMEDIATE``), so a PATCH that reads then writes never
finds the file changed under it; on PostgreSQL the row it changes is locked when read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from hrsync.clock import Clock
from hrsync.store.db import Store, _sqlite_pragmas
from hrsync.store.tables import HrEvent, Integration, ScimResource, ScimToken, ScimUpload

RESOURCES = ScimResource.__table__
# What callers hold between the store's calls: a transaction, and a kept row.
Transaction = Connection
Row = RowMapping
# The columns a filter ``attribute eq "value"`` is answered from without reading bodies.
LOOKED_UP = ("id", "external_id", "employee_number", "name_key", "hr_id")


class Taken(Exception):
    """A value another resource holds where only one may (a userName, an HR id)."""


class ScimStore:
    """The SCIM tables of one store, for every SCIM source on it (a request names its
    integration). One per store and process: it keeps its connections."""

    def __init__(self, url: str, *, clock: Clock, store: Store | None = None) -> None:
        self.url, self.clock = url, clock
        self._owned = store is None
        self._store = store or Store(url, clock=clock)  # brings the schema up to date
        self.engine: Engine = self._store.engine
        self._sqlite = url.startswith("sqlite")
        self._writer: Engine | None = None if self._sqlite else self.engine

    @property
    def writer(self) -> Engine:
        if self._writer is None:
            self._writer = _immediate_engine(self.url)
        return self._writer

    @classmethod
    def on(cls, store: Store) -> ScimStore:
        """The SCIM tables of ``store``, on its connections (for reading them in a run)."""
        return cls(store.url, clock=store.clock, store=store)

    def close(self) -> None:
        if self._writer is not None and self._writer is not self.engine:
            self._writer.dispose()
        if self._owned:
            self._store.close()

    # transactions ------------------------------------------------------------------------
    @contextmanager
    def savepoint(self, connection: Connection) -> Iterator[None]:
        """A part of ``connection``'s transaction undone alone when its block fails."""
        with connection.begin_nested():
            yield

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction, committed when the block ends without an exception."""
        with self.writer.begin() as connection:
            yield connection

    # tokens --------------------------------------------------------------------------------
    def token_integration(self, sha256: str) -> str | None:
        with self.reading() as connection:
            found = connection.execute(
                select(ScimToken.integration).where(ScimToken.sha256 == sha256)
            ).scalar()
        return None if found is None else str(found)

    def save_token(self, integration: str, sha256: str) -> None:
        """``sha256`` is ``integration``'s token from now on; any earlier one stops working."""
        with self.writing() as connection:
            connection.execute(delete(ScimToken).where(ScimToken.integration == integration))
            connection.execute(
                insert(ScimToken).values(
                    sha256=sha256, integration=integration, made_at=self.clock.now()
                )
            )

    def source_config(self, integration: str) -> tuple[dict[str, Any], str] | None:
        """The ``[source]`` of a stored integration and its status (None: there is no such
        integration)."""
        with self.reading() as connection:
            found = connection.execute(
                select(Integration.config, Integration.status).where(
                    Integration.name == integration
                )
            ).first()
        if found is None:
            return None
        source = json.loads(found[0]).get("source")
        return (source if isinstance(source, dict) else {}), str(found[1])

    def forget_tokens(self, integration: str) -> None:
        with self.writing() as connection:
            connection.execute(delete(ScimToken).where(ScimToken.integration == integration))

    def token_made_at(self, integration: str) -> float | None:
        with self.reading() as connection:
            found = connection.execute(
                select(ScimToken.made_at).where(ScimToken.integration == integration)
            ).scalar()
        return None if found is None else float(found)

    # resources ---------------------------------------------------------------------------
    def get(
        self, connection: Connection, integration: str, kind: str, rid: str, *, lock: bool = False
    ) -> RowMapping | None:
        """A live resource, locked for the transaction's write when ``lock``."""
        query = select(RESOURCES).where(*_live(integration, [kind]), ScimResource.id == rid)
        if lock and not self._sqlite:
            query = query.with_for_update()
        return connection.execute(query).mappings().first()

    def find(
        self,
        connection: Connection,
        integration: str,
        kinds: Sequence[str],
        column: str,
        value: str,
    ) -> list[RowMapping]:
        """Live resources whose ``column`` (one of ``LOOKED_UP``) holds ``value``."""
        if column not in LOOKED_UP:
            raise ValueError(column)
        query = (
            select(RESOURCES)
            .where(*_live(integration, kinds), getattr(ScimResource, column) == value)
            .order_by(ScimResource.created_at, ScimResource.id)
        )
        return list(connection.execute(query).mappings())

    def count(self, connection: Connection, integration: str, kinds: Sequence[str]) -> int:
        query = select(func.count()).select_from(RESOURCES).where(*_live(integration, kinds))
        return int(connection.execute(query).scalar() or 0)

    def page(
        self,
        connection: Connection,
        integration: str,
        kinds: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[RowMapping]:
        """Live resources in the order they were made."""
        query = (
            select(RESOURCES)
            .where(*_live(integration, kinds))
            .order_by(ScimResource.created_at, ScimResource.id)
            .offset(offset)
            .limit(limit)
        )
        return list(connection.execute(query).mappings())

    def insert(self, connection: Connection, values: Mapping[str, Any]) -> None:
        """A new resource; a deleted one with the same HR id is forgotten (the person is
        back). Raises ``Taken`` when a live one holds its userName or HR id."""
        if values.get("hr_key"):
            connection.execute(
                delete(ScimResource).where(
                    ScimResource.integration == values["integration"],
                    ScimResource.hr_id == values["hr_key"],
                    ScimResource.deleted_at.is_not(None),
                )
            )
        self._unique(connection, insert(ScimResource).values(**values))

    def replace(self, connection: Connection, rid: str, values: Mapping[str, Any]) -> None:
        self._unique(
            connection, update(ScimResource).where(ScimResource.id == rid).values(**values)
        )

    def tombstone(self, connection: Connection, rid: str, values: Mapping[str, Any]) -> None:
        """A deleted user stays, as a leaver, with nothing of it kept unique."""
        connection.execute(
            update(ScimResource)
            .where(ScimResource.id == rid)
            .values(name_key=None, hr_key=None, **values)
        )

    def remove(self, connection: Connection, rid: str) -> None:
        connection.execute(delete(ScimResource).where(ScimResource.id == rid))

    def _unique(self, connection: Connection, statement: Any) -> None:
        if self._sqlite:
            try:
                connection.execute(statement)
            except IntegrityError as problem:
                raise Taken(str(problem.orig)) from None
            return
        # PostgreSQL ends a transaction at its first error: try the statement in a savepoint.
        try:
            with connection.begin_nested():
                connection.execute(statement)
        except IntegrityError as problem:
            raise Taken(str(problem.orig)) from None

    def queue_event(
        self, connection: Connection, integration: str, hr_id: str, *, wait: float = 0.0
    ) -> int:
        """An HR event for the person a push changed, in the push's own transaction, due
        ``wait`` seconds from now (pushes that come together are synced together)."""
        now = self.clock.now()
        return int(
            connection.execute(
                insert(HrEvent).returning(HrEvent.id),
                {
                    "integration": integration,
                    "employee_id": hr_id,
                    "received_at": now,
                    "state": "queued",
                    "attempts": 0,
                    "next_try_at": now + wait,
                    "reason": "",
                    "sender": "scim",
                },
            ).scalar_one()
        )

    # bulk uploads --------------------------------------------------------------------------
    def save_upload(self, connection: Connection, values: Mapping[str, Any]) -> int:
        return int(
            connection.execute(
                insert(ScimUpload).returning(ScimUpload.id), dict(values)
            ).scalar_one()
        )

    def upload(self, integration: str, upload_id: int) -> RowMapping | None:
        query = select(ScimUpload.__table__).where(
            ScimUpload.integration == integration, ScimUpload.id == upload_id
        )
        with self.reading() as connection:
            return connection.execute(query).mappings().first()

    def uploaded_in_set(
        self, connection: Connection, integration: str, upload_set: str
    ) -> set[str]:
        """The HR ids the uploads of ``upload_set`` stored so far."""
        found: set[str] = set()
        query = select(ScimUpload.records).where(
            ScimUpload.integration == integration, ScimUpload.upload_set == upload_set
        )
        for (records,) in connection.execute(query):
            found.update(r["person"] for r in json.loads(records) if r.get("status") == "stored")
        return found

    def events_of(self, ids: Sequence[int]) -> dict[int, RowMapping]:
        """HR events by id: what became of them."""
        if not ids:
            return {}
        query = select(HrEvent.__table__).where(HrEvent.id.in_(list(ids)))
        with self.reading() as connection:
            return {row["id"]: row for row in connection.execute(query).mappings()}

    # what the source reads -----------------------------------------------------------------
    def users(self, integration: str) -> list[RowMapping]:
        """Every user pushed to ``integration``, deleted ones included, in the order made."""
        with self.reading() as connection:
            return self.users_on(connection, integration)

    def users_on(self, connection: Connection, integration: str) -> list[RowMapping]:
        query = (
            select(RESOURCES)
            .where(ScimResource.integration == integration, ScimResource.resource_type == "User")
            .order_by(ScimResource.created_at, ScimResource.id)
        )
        return list(connection.execute(query).mappings())

    def without_active_since(self, integration: str, since: float) -> int:
        """Records of the bulk uploads since ``since`` that came without ``active``."""
        query = select(func.sum(ScimUpload.without_active)).where(
            ScimUpload.integration == integration, ScimUpload.received_at >= since
        )
        with self.reading() as connection:
            return int(connection.execute(query).scalar() or 0)

    def groups(self, integration: str) -> int:
        with self.reading() as connection:
            return self.count(connection, integration, ["Group"])

    def group_members(self, integration: str) -> dict[str, list[str]]:
        """SCIM id of a user → the display names of the groups pushed with them as members."""
        members: dict[str, list[str]] = {}
        with self.reading() as connection:
            for row in self.page(connection, integration, ["Group"]):
                body = json.loads(row["body"])
                name = body.get("displayName")
                for member in body.get("members") or []:
                    if isinstance(member, dict) and isinstance(name, str) and member.get("value"):
                        members.setdefault(str(member["value"]), []).append(name)
        return members

    def last_push(self, integration: str, hr_id: str) -> RowMapping | None:
        """The resource of a person, with the last push that changed it."""
        query = (
            select(RESOURCES)
            .where(ScimResource.integration == integration, ScimResource.hr_id == hr_id)
            .order_by(ScimResource.modified_at.desc())
            .limit(1)
        )
        with self.reading() as connection:
            return connection.execute(query).mappings().first()


def _live(integration: str, kinds: Sequence[str]) -> list[Any]:
    return [
        ScimResource.integration == integration,
        ScimResource.resource_type.in_(list(kinds)),
        ScimResource.deleted_at.is_(None),
    ]


def _immediate_engine(url: str) -> Engine:
    """An engine on the SQLite file whose transactions begin ``IMMEDIATE``: the write lock
    is taken before the first read, so a read-then-write cannot find the file changed."""
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # hrsync says BEGIN itself

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
