"""Whether the store answers, asked cheaply and often (``/readyz``): one kept engine and a
``SELECT 1``, without opening a Store (which checks its migrations). What the driver says
(host, port, user) is for the operator's log, not for whoever asks ``/readyz``. Also what
``/metrics`` reads of every process's work: the lock periods Zoho set, the runs, and the HR
events queued and settled."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hrsync.api.ratelimit import LOCKED
from hrsync.store.tables import ApiCall, HrEvent, Integration, Run

Lock = tuple[str, str, float]  # (Zoho API host, endpoint group, seconds left)
Queued = tuple[str, int, float]  # (integration, events queued, when the oldest arrived)


class StoreProbe:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    def problem(self) -> str:
        """Why the store cannot be used now, in the driver's words ("" when it answers)."""
        try:
            with self._engine_().connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return f"the store cannot be opened: {exc.__class__.__name__}: {exc.args[0]}"
        return ""

    def _engine_(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def locks(self, now: float) -> list[Lock]:
        """The lock periods Zoho set that have not ended, by host and endpoint group, as any
        process's pacer wrote them down."""
        query = (
            select(ApiCall.scope, ApiCall.endpoint, func.max(ApiCall.at))
            .where(ApiCall.endpoint.like(f"%{LOCKED}"), ApiCall.at > now)
            .group_by(ApiCall.scope, ApiCall.endpoint)
        )
        try:
            with self._engine_().connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError:  # not made yet: no lock to tell of
            return []
        return [
            (scope, name.removesuffix(LOCKED), float(until) - now) for scope, name, until in rows
        ]

    def runs(self) -> dict[tuple[str, str, str], int]:
        """(integration, mode, status) → how many runs the store holds: any process's."""
        query = select(Run.integration, Run.mode, Run.status, func.count()).group_by(
            Run.integration, Run.mode, Run.status
        )
        with self._engine_().connect() as connection:
            return {(i, m, s): int(n) for i, m, s, n in connection.execute(query)}

    def queued(self) -> list[Queued]:
        """The HR events queued, by integration, with when the oldest of them arrived."""
        query = (
            select(HrEvent.integration, func.count(), func.min(HrEvent.received_at))
            .where(HrEvent.state == "queued")
            .group_by(HrEvent.integration)
        )
        with self._engine_().connect() as connection:
            return [(i, int(n), float(oldest)) for i, n, oldest in connection.execute(query)]

    def settled(self) -> dict[tuple[str, str], int]:
        """(integration, state) → how many HR events the store keeps settled so."""
        query = (
            select(HrEvent.integration, HrEvent.state, func.count())
            .where(HrEvent.state != "queued")
            .group_by(HrEvent.integration, HrEvent.state)
        )
        with self._engine_().connect() as connection:
            return {(i, s): int(n) for i, s, n in connection.execute(query)}

    def enabled(self) -> int | None:
        """How many integrations are enabled (the ones ``hrsync serve`` runs); None when
        the store cannot tell (not made yet)."""
        query = select(func.count()).where(Integration.status == "enabled")
        try:
            with self._engine_().connect() as connection:
                return int(connection.execute(query).scalar_one())
        except SQLAlchemyError:
            return None

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
