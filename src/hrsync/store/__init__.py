"""Persistent state through SQLAlchemy (SQLite or PostgreSQL): links, runs and the journal
(``db``), the call log (``calls``), connections, integrations and access tokens
(``connections``, ``integrations``, ``tokens``). The only package that writes SQL or names
SQLAlchemy; ``failures`` tells the rest what a database error means."""

from hrsync.store.db import Store
from hrsync.store.records import RunRecord
from hrsync.store.websessions import ConsentRow, SessionRow

__all__ = ["ConsentRow", "RunRecord", "SessionRow", "Store"]
