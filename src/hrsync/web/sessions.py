"""The admin page's sessions: a random token in a Secure, HttpOnly, SameSite=Strict cookie,
kept in the store only as its hash (a row of its own, ``store/websessions.py``), with a CSRF
token for the session's forms, the time of its last passphrase proof (sensitive actions want
one within five minutes), and the note the page shows it next. Signing out deletes the row:
the cookie, replayed after, is refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from hrsync.store import ConsentRow, SessionRow, Store

COOKIE = "hrsync_session"
IDLE = 3600.0  # a session unused this long is over
LONGEST = 12 * 3600.0  # and every session ends after this long
SEEN_EVERY = 60.0  # how often a session's last use is written down


@dataclass(frozen=True)
class Session:
    key: str  # the token's hash
    csrf: str
    started: float
    proof: float  # when the passphrase was last given in this session

    def proved_within(self, seconds: float, now: float) -> bool:
        return now - self.proof <= seconds

    def csrf_matches(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf, given)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live(row: SessionRow, now: float) -> bool:
    return now - row.seen < IDLE and now - row.started < LONGEST


class Sessions:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._rows = store.web_sessions()

    def start(self) -> tuple[str, Session]:
        """A new session after the passphrase was given: its cookie token, and the session."""
        now = self.store.clock.now()
        token = secrets.token_urlsafe(32)
        row = SessionRow(_key(token), secrets.token_urlsafe(32), now, now, now)
        self._rows.add(row, seen_before=now - IDLE, started_before=now - LONGEST)
        return token, _session(row)

    def find(self, token: str | None) -> Session | None:
        """The live session of ``token``; its last use is noted (at most once a minute)."""
        if not token:
            return None
        now = self.store.clock.now()
        row = self._rows.find(_key(token))
        if row is None or not _live(row, now):
            return None
        if now - row.seen >= SEEN_EVERY:
            self._rows.touch(row.key, seen=now)
        return _session(row)

    def proved(self, session: Session) -> None:
        """The passphrase was given again in ``session``."""
        now = self.store.clock.now()
        self._rows.touch(session.key, seen=now, proof=now)

    def end(self, session: Session) -> None:
        self._rows.end(session.key)

    def tell(self, session_key: str, note: str) -> None:
        """Leave ``note`` for the session's next page (what its last form did)."""
        self._rows.leave_note(session_key, note)

    def told(self, session: Session) -> str:
        """The note left for ``session``, once."""
        return self._rows.take_note(session.key)


def _session(row: SessionRow) -> Session:
    return Session(row.key, row.csrf, row.started, row.proof)


OAUTH_LIFE = 600.0  # a consent not finished within ten minutes is started again


@dataclass(frozen=True)
class Consent:
    name: str  # the connection
    redirect_uri: str
    session: str  # the key of the session it was started in


class OAuthStates:
    """Consents under way from the admin page: each state is random, used once, short-lived
    and made for a signed-in session."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._rows = store.web_consents()

    def start(self, name: str, session: Session, redirect_uri: str) -> str:
        state = secrets.token_urlsafe(32)
        now = self.store.clock.now()
        row = ConsentRow(name, session.key, redirect_uri, now)
        self._rows.start(_key(state), row, started_before=now - OAUTH_LIFE)
        return state

    def take(self, state: str) -> Consent | None:
        """The consent ``state`` began, once; None if unknown, used or too old."""
        if not state:
            return None
        found = self._rows.take(_key(state))
        if found is None or self.store.clock.now() - found.at >= OAUTH_LIFE:
            return None
        return Consent(found.connection, found.redirect_uri, found.session)
