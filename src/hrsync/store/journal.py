"""The journal: every change of a run, intended before it is sent, then sent, then
confirmed, failed or skipped; what earlier runs left unfinished. Part of the store, kept
apart; ``Store`` provides the engine, sessions, clock and integration."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hrsync.clock import Clock
from hrsync.store.bulk import insert_rows, placeholder
from hrsync.store.records import JournalRecord, RunRecord, like_literal, run_record
from hrsync.store.tables import JournalEntry, Run
from hrsync.tense import told

OPEN_STATES = ("intended", "sent")
HEARTBEAT = 30.0  # seconds between "still running" marks of an apply


class JournalStore:
    engine: Engine
    integration: str
    _clock: Clock
    _session: sessionmaker[Session]
    _heartbeat: float

    def journal_intend(self, run_id: int, entries: Iterable[tuple[str, str, str, str]]) -> None:
        """Record (key, kind, summary, payload) changes as intended, before any is sent."""
        now = self._clock.now()
        rows = (
            (run_id, key, kind, summary, payload, "intended", "", now)
            for key, kind, summary, payload in entries
        )
        with self._session.begin() as s:
            # In one transaction, an executemany at the driver per slice: no per-row work
            # in SQLAlchemy, and never all of a large plan's rows in memory at once.
            while batch := list(islice(rows, INTEND_SLICE)):
                insert_rows(s.connection(), _JOURNAL, _JOURNAL_COLUMNS, batch)

    def journal_mark(
        self, run_id: int, keys: Sequence[str], state: str, *, error: str = ""
    ) -> None:
        """Move changes to ``state``, on the connection rather than through the ORM: a large
        run marks tens of thousands of changes twice, a batch at a time."""
        if not keys:
            return
        now = self._clock.now()
        with self.engine.begin() as connection:  # no ORM session: nothing here needs one
            # Sent as it is: SQLAlchemy's expanding IN costs more than the update itself.
            mark = placeholder(connection)
            for start in range(0, len(keys), MARK_SLICE):
                some = keys[start : start + MARK_SLICE]
                sql = _MARK_SQL.format(mark=mark, keys=", ".join([mark] * len(some)))
                connection.exec_driver_sql(sql, (state, error, now, run_id, *some))
            if now - self._heartbeat >= HEARTBEAT:
                connection.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=now))
                self._heartbeat = now

    def journal(self, run_id: int) -> list[JournalRecord]:
        with self._session() as s:
            rows = s.scalars(
                select(JournalEntry).where(JournalEntry.run_id == run_id).order_by(JournalEntry.id)
            )
            return [_record(r) for r in rows]

    def history(self, employee_id: str, limit: int = 200) -> list[tuple[RunRecord, JournalRecord]]:
        """The changes that concerned one person in this integration's runs, newest first:
        their own (invite, update, …) and the memberships that named them."""
        own = JournalEntry.change_key.like(f"user:{like_literal(employee_id)}:%", escape="\\")
        named = JournalEntry.kind.like("%\\_members", escape="\\") & JournalEntry.payload.like(
            f'%"{like_literal(employee_id)}"%', escape="\\"
        )
        with self._session() as s:
            rows = s.execute(
                select(Run, JournalEntry)
                .join(JournalEntry, JournalEntry.run_id == Run.id)
                .where(Run.integration == self.integration, or_(own, named))
                .order_by(JournalEntry.id.desc())
                .limit(limit)
            ).all()
            return [(run_record(r), _record(j)) for r, j in rows]

    def unfinished_changes(self) -> list[JournalRecord]:
        """Changes of earlier runs that were intended or sent but never confirmed (a crash)."""
        with self._session() as s:
            rows = s.scalars(
                select(JournalEntry)
                .join(Run, Run.id == JournalEntry.run_id)
                .where(Run.integration == self.integration, JournalEntry.state.in_(OPEN_STATES))
            )
            return [_record(r) for r in rows]

    def unfinished_payloads(self, kind: str) -> list[str]:
        """The changes (as journalled) of one kind that earlier runs intended or sent but
        never confirmed: what a killed run may have done in Zoho all the same."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(JournalEntry.payload)
                .join(Run, Run.id == JournalEntry.run_id)
                .where(
                    Run.integration == self.integration,
                    JournalEntry.state.in_(OPEN_STATES),
                    JournalEntry.kind == kind,
                )
            )
            return [str(payload) for (payload,) in rows]

    def settle_unfinished(self, *, note: str) -> int:
        """Close the unfinished changes of earlier runs once a new inventory has seen them."""
        with self._session.begin() as s:
            run_ids = select(Run.id).where(Run.integration == self.integration)
            result = s.execute(
                update(JournalEntry)
                .where(JournalEntry.state.in_(OPEN_STATES), JournalEntry.run_id.in_(run_ids))
                .values(state="superseded", error=note, updated_at=self._clock.now())
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _record(row: JournalEntry) -> JournalRecord:
    """A journal row as read: its change said in the words of its state (``tense.py``)."""
    summary = told(row.summary, row.state)
    return JournalRecord(row.change_key, row.kind, summary, row.state, row.error)


INTEND_SLICE = 5_000  # journal rows written at a time
_JOURNAL = JournalEntry.__table__
_JOURNAL_COLUMNS = (
    "run_id",
    "change_key",
    "kind",
    "summary",
    "payload",
    "state",
    "error",
    "updated_at",
)
# Changes of one run to a new state: built once, as a run marks changes a batch at a time.
MARK_SLICE = 500  # keys to an UPDATE: within every database's parameter limit
_MARK_SQL = (
    "UPDATE journal SET state = {mark}, error = {mark}, updated_at = {mark} "
    "WHERE run_id = {mark} AND change_key IN ({keys})"
)
