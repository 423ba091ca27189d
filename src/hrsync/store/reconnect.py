"""The store's engine on a database server (PostgreSQL), which may restart under hrsync.

A restart ends every connection in the pool: each is tested before use and replaced when
dead, so no run fails on a connection the server closed long ago. While a server this
process has reached before is away, a new connection is waited for (a restart takes seconds:
the run, the lease renewals and the scheduler go on once it is back). And when the server
comes back (this process found it restarted, or could not reach it for a while), the moment
is remembered: the other workers could not renew their leases meanwhile either, so none is
taken over until its holder has had a lease's time from then to renew it
(``Leases.claim``)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event

from hrsync.clock import Clock

log = logging.getLogger(__name__)
RETURN_WAIT = 60.0  # seconds a server reached before is waited for when it is away
RETRY_EVERY = 0.5  # seconds between attempts to connect meanwhile
_STARTED_SQL = "SELECT pg_postmaster_start_time()::text"


class ServerWatch:
    """What this process knows of one database server: whether it was ever reached, when it
    says it started, and when it was last found back after a restart or an absence."""

    def __init__(self) -> None:
        self.reached = False
        self.away = False  # a connection failed since the server was last reached
        self.started = ""
        self.regained_at = 0.0  # on the clock of the store that found it back
        self.lock = threading.Lock()

    def connected(self, started: str, now: float) -> None:
        with self.lock:
            if self.away or (self.started and started and started != self.started):
                self.regained_at = now
                log.warning("the store is back; leases not renewed meanwhile get time to be")
            self.reached, self.away = True, False
            self.started = started or self.started


_WATCHES: dict[str, ServerWatch] = {}
_WATCHES_LOCK = threading.Lock()


def watch_of(url: str) -> ServerWatch:
    """This process's knowledge of the server behind ``url``."""
    with _WATCHES_LOCK:
        return _WATCHES.setdefault(url, ServerWatch())


def server_engine(url: str, *, clock: Clock) -> Engine:
    """An engine whose pooled connections survive a restart of the server (see the module)."""
    engine = create_engine(url, pool_pre_ping=True)
    watch = watch_of(url)

    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return _connect_waiting(watch, dialect, cargs, cparams)

    def connected(dbapi_connection: Any, _record: Any) -> None:
        watch.connected(_server_started(engine, dbapi_connection), clock.now())

    event.listen(engine, "do_connect", connect)
    event.listen(engine, "connect", connected)
    return engine


def _connect_waiting(watch: ServerWatch, dialect: Any, cargs: Any, cparams: Any) -> Any:
    """A new connection; a server reached before is waited for up to ``RETURN_WAIT`` seconds
    (one never reached fails at once: a wrong URL is said without delay)."""
    deadline = time.monotonic() + RETURN_WAIT
    while True:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError:
            if not watch.reached or time.monotonic() >= deadline:
                raise
            if not watch.away:
                log.warning("the store cannot be reached; waiting up to %.0f s", RETURN_WAIT)
            watch.away = True
            time.sleep(RETRY_EVERY)


def _server_started(engine: Engine, dbapi_connection: Any) -> str:
    """When the server says it started (PostgreSQL); "" where the question has no answer."""
    if engine.dialect.name != "postgresql":
        return ""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_STARTED_SQL)
        row = cursor.fetchone()
    except engine.dialect.loaded_dbapi.Error:  # a server that does not say (not PostgreSQL's)
        row = None
    finally:
        cursor.close()
    dbapi_connection.rollback()  # hand the connection over outside any transaction
    return str(row[0]) if row else ""
