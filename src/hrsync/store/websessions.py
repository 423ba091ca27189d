"""The admin page's sessions and the OAuth consents started from it, a row each. Every change
is one statement on one row (a sign-in adds its row, a sign-out deletes its own), so sign-ins
and sign-outs at once never undo one another, in one process or many."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, or_, select, update

from hrsync.store.tables import WebConsent, WebSession

if TYPE_CHECKING:
    from hrsync.store.db import Store


@dataclass(frozen=True)
class SessionRow:
    """A session as kept: the hash of its token, its CSRF token, and its times."""

    key: str
    csrf: str
    started: float
    seen: float
    proof: float


@dataclass(frozen=True)
class ConsentRow:
    """A consent as kept: the connection it authorises and the session that began it."""

    connection: str
    session: str
    redirect_uri: str
    at: float


class WebSessions:
    """The sessions' rows; what makes one live is the caller's to say (``web/sessions.py``)."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine

    def add(self, row: SessionRow, *, seen_before: float, started_before: float) -> None:
        """Keep ``row``, and let go of the sessions unused since ``seen_before`` or started
        before ``started_before``."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(WebSession).where(
                    or_(WebSession.seen < seen_before, WebSession.started < started_before)
                )
            )
            values = {"key": row.key, "csrf": row.csrf, "started": row.started}
            connection.execute(insert(WebSession), values | {"seen": row.seen, "proof": row.proof})

    def find(self, key: str) -> SessionRow | None:
        with self._engine.connect() as connection:
            found = connection.execute(
                select(
                    WebSession.key,
                    WebSession.csrf,
                    WebSession.started,
                    WebSession.seen,
                    WebSession.proof,
                ).where(WebSession.key == key)
            ).first()
        return SessionRow(*found) if found is not None else None

    def touch(self, key: str, *, seen: float, proof: float | None = None) -> None:
        """Note the session's last use (and a passphrase given in it, when ``proof``)."""
        values = {"seen": seen} | ({"proof": proof} if proof is not None else {})
        with self._engine.begin() as connection:
            connection.execute(update(WebSession).where(WebSession.key == key).values(values))

    def end(self, key: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(WebSession).where(WebSession.key == key))

    def leave_note(self, key: str, note: str) -> None:
        """What the page shows the session next."""
        with self._engine.begin() as connection:
            connection.execute(update(WebSession).where(WebSession.key == key).values(note=note))

    def take_note(self, key: str) -> str:
        """The note left for the session, once ("" when none)."""
        with self._engine.begin() as connection:
            note = connection.execute(select(WebSession.note).where(WebSession.key == key)).scalar()
            if note:
                connection.execute(
                    update(WebSession)
                    .where(WebSession.key == key, WebSession.note == note)
                    .values(note="")
                )
        return str(note or "")


class WebConsents:
    """The consents' rows: each is taken back once."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine

    def start(self, key: str, row: ConsentRow, *, started_before: float) -> None:
        """Keep ``row`` under ``key``; let go of the consents started before ``started_before``."""
        with self._engine.begin() as connection:
            connection.execute(delete(WebConsent).where(WebConsent.at < started_before))
            connection.execute(
                insert(WebConsent),
                {
                    "key": key,
                    "connection": row.connection,
                    "session": row.session,
                    "redirect_uri": row.redirect_uri,
                    "at": row.at,
                },
            )

    def take(self, key: str) -> ConsentRow | None:
        """The consent kept under ``key``, taken away: of two callers at once, one gets it."""
        with self._engine.begin() as connection:
            found = connection.execute(
                select(
                    WebConsent.connection,
                    WebConsent.session,
                    WebConsent.redirect_uri,
                    WebConsent.at,
                ).where(WebConsent.key == key)
            ).first()
            if found is None:
                return None
            taken = connection.execute(delete(WebConsent).where(WebConsent.key == key))
            return ConsentRow(*found) if getattr(taken, "rowcount", 0) == 1 else None
