"""What became of each change in recent applies: part of the store, kept apart because only
the stall detector (``sync/stall.py``) reads it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from hrsync.clock import Clock
from hrsync.store.tables import JournalEntry, Run

KEYS_PER_QUERY = 500  # change keys in one IN (...) of a query: well inside every driver's
MEMBER_KINDS = ("team_members", "connect_members", "role_members")
GROUP_KEY = {"team_members": "team", "connect_members": "group", "role_members": "role"}


class OutcomeStore:
    """The journal's outcomes by change; ``Store`` provides the engine and integration."""

    engine: Engine
    integration: str
    _session: sessionmaker[Session]
    _clock: Clock

    def recent_outcomes(
        self, keys: Iterable[str], *, since: float, per_key: int = 3
    ) -> dict[str, list[tuple[str, str]]]:
        """Change key → (state, the change as journalled) of its latest ``per_key`` entries
        in this integration's applies that started after ``since``, newest first. Keys
        never journalled in that time are left out."""
        found: dict[str, list[tuple[str, str]]] = {}
        wanted = sorted(set(keys))
        with self.engine.connect() as connection:  # plain rows: a large plan asks many keys
            for start in range(0, len(wanted), KEYS_PER_QUERY):
                rows = connection.execute(
                    select(JournalEntry.change_key, JournalEntry.state, JournalEntry.payload)
                    .join(Run, Run.id == JournalEntry.run_id)
                    .where(
                        Run.integration == self.integration,
                        Run.mode == "apply",
                        Run.started_at > since,
                        JournalEntry.change_key.in_(wanted[start : start + KEYS_PER_QUERY]),
                    )
                    .order_by(JournalEntry.run_id.desc())
                )
                for key, state, payload in rows:
                    entries = found.setdefault(key, [])
                    if len(entries) < per_key:
                        entries.append((state, payload))
        return found

    def applied_before(self) -> bool:
        """Whether this integration has any apply on record (no history: nothing to ask)."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(Run.id)
                .where(Run.integration == self.integration, Run.mode == "apply")
                .limit(1)
            ).first()
        return found is not None

    def started_removals(self, *, since: float) -> set[tuple[str, str, str]]:
        """(kind, group lower-cased, employee id) of the memberships applies since ``since``
        set out to take away, past the removal guard, and did not confirm: hrsync's own
        backlog after a kill or a failure."""
        found: set[tuple[str, str, str]] = set()
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(JournalEntry.kind, JournalEntry.payload)
                .join(Run, Run.id == JournalEntry.run_id)
                .where(
                    Run.integration == self.integration,
                    Run.mode == "apply",
                    Run.started_at > since,
                    Run.status.not_in(("held", "refused")),
                    JournalEntry.kind.in_(MEMBER_KINDS),
                    JournalEntry.state != "confirmed",
                )
            )
            for kind, payload in rows:
                change = json.loads(payload)
                if change.get("join", True):
                    continue
                group = str(change.get(GROUP_KEY[kind], "")).lower()
                found.update((kind, group, str(e)) for e in change.get("employee_ids", []))
        return found

    def recent_deactivations(self, *, since: float) -> int:
        """Deactivations this integration's applies sent since ``since``, or since an admin
        last approved a held run, whichever is later: what runs for HR events did before
        this one, for the deactivation guard to see a burst spread over many small runs."""
        with self.engine.connect() as connection:
            approved = connection.execute(
                select(func.max(Run.started_at)).where(
                    Run.integration == self.integration,
                    Run.mode == "apply",
                    Run.started_at > since,
                    Run.summary.like('%"approves"%'),
                )
            ).scalar()
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(JournalEntry)
                    .join(Run, Run.id == JournalEntry.run_id)
                    .where(
                        Run.integration == self.integration,
                        Run.mode == "apply",
                        Run.started_at >= max(since, float(approved or since)),
                        JournalEntry.kind == "deactivate",
                        JournalEntry.state.in_(("sent", "done", "confirmed")),
                    )
                ).scalar()
                or 0
            )
