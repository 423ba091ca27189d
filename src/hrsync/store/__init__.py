"""Persistent state through SQLAlchemy: links, runs and the journal (SQLite or PostgreSQL)."""

from hrsync.store.db import Store

__all__ = ["Store"]
