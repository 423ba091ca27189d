"""Whether the store answers, asked cheaply and often (``/readyz``): one kept engine and a
``SELECT 1``, without opening a Store (which checks its migrations). What the driver says
(host, port, user) is for the operator's log, not for whoever asks ``/readyz``."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError


class StoreProbe:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    def problem(self) -> str:
        """Why the store cannot be used now, in the driver's words ("" when it answers)."""
        try:
            if self._engine is None:
                self._engine = create_engine(self.url, pool_pre_ping=True)
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return f"the store cannot be opened: {exc.__class__.__name__}: {exc.args[0]}"
        return ""

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
