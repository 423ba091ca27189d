"""The store: open (migrating to the latest schema), links and runs (the journal of their
changes: ``journal``)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from hrsync.clock import Clock
from hrsync.errors import ConcurrentRun
from hrsync.owner_only import create_owner_only
from hrsync.store.bookmarks import BookmarkStore
from hrsync.store.bulk import insert_rows
from hrsync.store.calls import CallLog
from hrsync.store.events import EventQueue
from hrsync.store.journal import OPEN_STATES, JournalStore
from hrsync.store.leases import Leases
from hrsync.store.memberships import MembershipStore
from hrsync.store.nonces import NonceStore
from hrsync.store.outcomes import OutcomeStore
from hrsync.store.reconnect import server_engine, watch_of
from hrsync.store.records import RunRecord, run_record
from hrsync.store.tables import JournalEntry, Lease, Link, Run
from hrsync.store.websessions import WebConsents, WebSessions

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
STALE = 900.0  # a run on another host silent this long is taken as dead


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str, heartbeat: float | None, now: float, *, ours: bool = False) -> bool:
    """Whether the process that started a run may still be running it. A run of this very
    process counts as ``ours`` says: alive when reading, dead when starting a new run."""
    host, _, pid = owner.rpartition(":")
    if owner == this_process():
        return ours
    if not pid.isdigit():
        return False  # an unowned run is an old one
    if host == socket.gethostname():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return heartbeat is not None and now - heartbeat < STALE


class Store(BookmarkStore, EventQueue, JournalStore, MembershipStore, NonceStore, OutcomeStore):
    """hrsync's own database. SQLite by default; any SQLAlchemy URL (PostgreSQL) works."""

    def __init__(self, url: str, *, clock: Clock, integration: str = "default") -> None:
        self.url = url
        self._clock = clock
        self.integration = integration
        self.engine: Engine
        if url.startswith("sqlite"):
            _create_sqlite_file(url)
            self.engine = create_engine(url)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:  # a server: it may restart under a run (see ``reconnect``)
            self.engine = server_engine(url, clock=clock)
        self._migrate()
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._heartbeat = 0.0

    def _migrate(self) -> None:
        """Bring the schema up to date, once per database per process. Alembic's migration
        context is module-wide state, so two threads (the service's scheduler and a page)
        must not run it at once."""
        with _MIGRATING:
            if self.url in _MIGRATED:
                return
            self._upgrade()
            if make_url(self.url).database not in (None, "", ":memory:"):  # a new one each time
                _MIGRATED.add(self.url)

    def _upgrade(self) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    @property
    def session(self) -> sessionmaker[Session]:
        """Sessions on hrsync's database, for the store's own modules (and tests)."""
        return self._session

    @property
    def clock(self) -> Clock:
        return self._clock

    def regained_at(self) -> float:
        """When this process last found the database server back after a restart or an
        absence (0.0 if never): until a lease's time later, other workers may not have been
        able to renew their leases."""
        if self.engine.dialect.name == "sqlite":
            return 0.0
        return watch_of(self.url).regained_at

    # links ---------------------------------------------------------------------------------
    def links(self) -> dict[str, str]:
        """Employee id → zuid of every user hrsync manages."""
        with self.engine.connect() as connection:  # plain rows: no ORM objects for 100,000
            rows = connection.execute(
                select(Link.employee_id, Link.zuid).where(Link.integration == self.integration)
            )
            return {eid: zuid for eid, zuid in rows}

    def save_link(self, employee_id: str, zuid: str, *, email: str, origin: str) -> None:
        self.save_links([(employee_id, zuid, email)], origin=origin)

    def save_links(self, links: Iterable[tuple[str, str, str]], *, origin: str) -> None:
        """(employee id, zuid, email) links in one transaction: a first run after a large
        initial sync records thousands at once."""
        wanted = {employee_id: (zuid, email) for employee_id, zuid, email in links}
        if not wanted:
            return
        now = self._clock.now()
        ids = sorted(wanted)
        with self._session.begin() as s:
            stored: dict[str, Link] = {}
            for i in range(0, len(ids), 500):  # within every database's parameter limit
                rows = s.scalars(
                    select(Link).where(
                        Link.integration == self.integration,
                        Link.employee_id.in_(ids[i : i + 500]),
                    )
                )
                stored.update((link.employee_id, link) for link in rows)
            new = []
            for employee_id in ids:
                zuid, email = wanted[employee_id]
                link = stored.get(employee_id)
                if link is not None:
                    link.zuid, link.email, link.updated_at = zuid, email, now
                else:
                    new.append((self.integration, employee_id, zuid, email, origin, now, now))
            insert_rows(s.connection(), _LINKS, _LINK_COLUMNS, new)

    # runs ----------------------------------------------------------------------------------
    def exclusive(self, s: Session | Connection, name: str) -> None:
        """Let one transaction of any process at a time past this point, until ``s`` ends."""
        connection = s.connection() if isinstance(s, Session) else s
        if self.engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name}
            )
        else:
            # SQLite has one writer at a time: a first write, even of no row, takes the
            # database's write lock and holds it until the transaction ends.
            connection.exec_driver_sql(_TAKE_WRITE_LOCK)

    def start_run(self, mode: str) -> int:
        """Record a new run. Runs left "running" by a dead process become "interrupted";
        an apply refuses to start while another live apply holds the integration. The check
        and the new run are one step under a lock: of two applies started together, one
        runs and the other is refused."""
        now = self._clock.now()
        with self._session.begin() as s:
            self.exclusive(s, f"runs:{self.integration}")
            running = s.scalars(
                select(Run).where(Run.integration == self.integration, Run.status == "running")
            ).all()
            for other in self._interrupt_dead(running, ours=False):
                if mode == "apply" and other.mode == "apply":
                    raise ConcurrentRun(
                        f"run {other.id} (an apply by process {other.owner}) is still running; "
                        "wait for it to finish, or stop that process"
                    )
            run = Run(
                integration=self.integration,
                mode=mode,
                status="running",
                started_at=now,
                summary="{}",
                owner=this_process(),
                heartbeat_at=now,
            )
            s.add(run)
            s.flush()
            self._heartbeat = now
            return run.id

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> bool:
        """Record how a run ended: only by the process that started it, and only while it is
        running. False, and the record left as it is, when it is no longer this process's to
        finish: another worker took the integration over (the run reads "interrupted") while
        this one was frozen or cut off from the store."""
        with self._session.begin() as s:
            done = s.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "running", Run.owner == this_process())
                .values(
                    status=status,
                    finished_at=self._clock.now(),
                    summary=json.dumps(summary, default=str),
                )
            )
            if getattr(done, "rowcount", 0):
                return True
            found = s.get(Run, run_id)
        log.warning(
            "run %d ended (%s), but another worker took it over meanwhile: its record stays "
            "as that worker left it (%s, by %s)",
            run_id,
            status,
            found.status if found is not None else "gone",
            found.owner if found is not None else "nobody",
            extra={"run": run_id},
        )
        return False

    def annotate_run(self, run_id: int, extra: dict[str, Any], *, status: str = "") -> None:
        """Add ``extra`` to a finished run's summary (an approval, say), and give it
        ``status`` (a held run an admin approved reads "approved")."""
        with self._session.begin() as s:
            row = s.get(Run, run_id, with_for_update=True)
            if row is not None:
                row.summary = json.dumps(json.loads(row.summary) | extra, default=str)
                if status:
                    row.status = status

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The latest runs, newest first; one whose process is gone shows "interrupted"."""
        with self._session.begin() as s:
            rows = s.scalars(
                select(Run)
                .where(Run.integration == self.integration)
                .order_by(Run.id.desc())
                .limit(limit)
            ).all()
            self._interrupt_dead(rows, ours=True)
            return [run_record(r) for r in rows]

    def last_started(self, mode: str, integration: str) -> float | None:
        """When ``integration``'s latest ``mode`` run began, if it ever ran."""
        with self._session() as s:
            found = s.scalars(
                select(Run.started_at)
                .where(Run.integration == integration, Run.mode == mode)
                .order_by(Run.id.desc())
                .limit(1)
            ).first()
            return float(found) if found is not None else None

    def run(self, run_id: int) -> RunRecord | None:
        """One run; "interrupted" if it was running in a process that is gone."""
        with self._session.begin() as s:
            row = s.get(Run, run_id)
            if row is None:
                return None
            self._interrupt_dead([row], ours=True)
            return run_record(row)

    def interrupted(self, integration: str) -> str:
        """Why ``integration``'s latest apply did not finish: "died" (its process is gone
        from this host, or its worker's lease expired), "unconfirmed" (it ended leaving
        changes neither confirmed nor failed), or "" (it finished, or still runs)."""
        with self._session.begin() as s:
            run = s.scalars(
                select(Run)
                .where(Run.integration == integration, Run.mode == "apply")
                .order_by(Run.id.desc())
                .limit(1)
            ).first()
            if run is None:
                return ""
            if self._interrupt_dead([run], ours=True):
                lease = s.get(Lease, integration)
                expired = lease is not None and lease.expires_at <= self._clock.now()
                return "died" if expired and lease and lease.owner == run.owner else ""
            if run.status == "interrupted":
                return "died"
            unfinished = s.scalars(
                select(JournalEntry.id)
                .where(JournalEntry.run_id == run.id, JournalEntry.state.in_(OPEN_STATES))
                .limit(1)
            ).first()
            return "unconfirmed" if unfinished is not None else ""

    def _interrupt_dead(self, runs: Iterable[Run], *, ours: bool) -> list[Run]:
        """Mark the runs left "running" by a process that is gone as "interrupted"; returns
        the runs still running."""
        now = self._clock.now()
        live = []
        for run in runs:
            if run.status != "running":
                continue
            if _alive(run.owner, run.heartbeat_at, now, ours=ours):
                live.append(run)
                continue
            run.status, run.finished_at = "interrupted", now
            log.warning("run %d was interrupted (its process is gone)", run.id)
        return live

    def invited_without_link(self, linked: Mapping[str, str] | None = None) -> dict[str, str]:
        """Employee id → email of confirmed invitations whose Cliq id is not linked yet.
        Keys are read first and only the unlinked ones' payloads after: once a run has linked
        everyone, no invitation's payload is read (or parsed) again. ``linked``: ``links()``
        when the caller has just read them."""
        if linked is None:
            linked = self.links()
        invites = (
            select(JournalEntry.id, JournalEntry.change_key)
            .join(Run, Run.id == JournalEntry.run_id)
            .where(
                Run.integration == self.integration,
                JournalEntry.kind == "invite",
                JournalEntry.state.in_(("confirmed", "sent")),
            )
            .order_by(JournalEntry.id)  # a later invitation's email wins
        )
        with self.engine.connect() as connection:  # plain rows: one per invitation confirmed
            unlinked = [
                entry
                for entry, key in connection.execute(invites)
                if key.split(":")[1] not in linked
            ]
            found: dict[str, str] = {}
            for i in range(0, len(unlinked), 500):  # within every database's parameter limit
                rows = connection.execute(
                    select(JournalEntry.change_key, JournalEntry.payload)
                    .where(JournalEntry.id.in_(unlinked[i : i + 500]))
                    .order_by(JournalEntry.id)
                )
                for key, payload in rows:
                    found[key.split(":")[1]] = json.loads(payload)["fields"]["email_id"]
            return found

    # leases ------------------------------------------------------------------------------
    def leases(self, *, owner: str, seconds: float) -> Leases:
        """The leases ``owner`` (a worker, host:pid) takes on integrations for its runs."""
        return Leases(self, owner=owner, seconds=seconds)

    # the admin page --------------------------------------------------------------------------
    def web_sessions(self) -> WebSessions:
        """The admin page's sessions, a row each."""
        return WebSessions(self)

    def web_consents(self) -> WebConsents:
        """The OAuth consents started from the admin page, a row each."""
        return WebConsents(self)

    # API calls ---------------------------------------------------------------------------
    def call_log(self, scope: str) -> CallLog:
        """The calls to the Zoho API host ``scope`` by every process using this store."""
        return CallLog(self, scope)


_LINKS = Link.__table__
_LINK_COLUMNS = (
    "integration",
    "employee_id",
    "zuid",
    "email",
    "origin",
    "created_at",
    "updated_at",
)
# A write of no row: it takes SQLite's write lock (see ``Store.exclusive``).
_TAKE_WRITE_LOCK = "UPDATE runs SET status = status WHERE 1 = 0"


_MIGRATING = threading.Lock()
_MIGRATED: set[str] = set()  # the databases this process has brought up to date


def _create_sqlite_file(url: str) -> None:
    """Create the database file owner-only before SQLite does (with the umask's mode); its
    -wal and -shm files are given the same mode by SQLite."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(OSError):  # a missing folder: SQLite's own error says it better
        create_owner_only(Path(database))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # another process may hold the write lock
    cursor.close()
