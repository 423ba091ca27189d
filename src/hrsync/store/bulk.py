"""Many rows into one table in a single executemany at the database driver (and the
driver's parameter mark, for other statements sent as they are).

SQLAlchemy's own executemany turns every row's mapping into parameters in Python first: at
100,000 people, who each leave a journal entry, a link and several memberships, that was a
second-largest cost of an initial sync after the database's own work. Rows here are plain
tuples, in the order of ``columns``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, FromClause, Table

# The driver's placeholder, by its DB-API paramstyle (sqlite3: qmark; psycopg: pyformat).
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(
    connection: Connection,
    table: FromClause,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    skip_existing: bool = False,
) -> None:
    """INSERT ``rows``; with ``skip_existing``, a row that a unique key already holds is
    left as it is (ON CONFLICT DO NOTHING, as SQLite and PostgreSQL both say it)."""
    if not rows:
        return
    assert isinstance(table, Table), "rows go into a table"
    unknown = set(columns) - set(table.c.keys())
    assert not unknown, f"{table.name} has no column {', '.join(sorted(unknown))}"
    mark = placeholder(connection)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
        + (" ON CONFLICT DO NOTHING" if skip_existing else "")
    )
    connection.exec_driver_sql(sql, list(rows))


def placeholder(connection: Connection | Engine) -> str:
    """The driver's mark for one parameter in SQL sent as it is (``exec_driver_sql``)."""
    return _MARKS[connection.dialect.paramstyle]
