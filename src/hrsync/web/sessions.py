"""The admin page's sessions: a random token in a Secure, HttpOnly, SameSite=Strict cookie,
kept in the store only as its hash, with a CSRF token for the session's forms and the time
of its last passphrase proof (sensitive actions want one within five minutes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from hrsync.store import Store

SESSIONS = "web:sessions"  # {sha256 of token: {"csrf", "started", "seen", "proof"}}
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


class Sessions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _all(self) -> dict[str, dict[str, Any]]:
        kept = self.store.bookmark(SESSIONS)
        return dict(kept) if isinstance(kept, dict) else {}

    def _live(self, every: dict[str, dict[str, Any]], now: float) -> dict[str, dict[str, Any]]:
        return {
            k: s
            for k, s in every.items()
            if now - float(s["seen"]) < IDLE and now - float(s["started"]) < LONGEST
        }

    def start(self) -> tuple[str, Session]:
        """A new session after the passphrase was given: its cookie token, and the session."""
        now = self.store.clock.now()
        token = secrets.token_urlsafe(32)
        record = {"csrf": secrets.token_urlsafe(32), "started": now, "seen": now, "proof": now}
        every = self._live(self._all(), now)
        every[_key(token)] = record
        self.store.save_bookmark(SESSIONS, every)
        return token, _session(_key(token), record)

    def find(self, token: str | None) -> Session | None:
        """The live session of ``token``; its last use is noted (at most once a minute)."""
        if not token:
            return None
        now = self.store.clock.now()
        every = self._all()
        record = self._live(every, now).get(_key(token))
        if record is None:
            return None
        if now - float(record["seen"]) >= SEEN_EVERY:
            record["seen"] = now
            self.store.save_bookmark(SESSIONS, self._live(every, now))
        return _session(_key(token), record)

    def proved(self, session: Session) -> Session:
        """The passphrase was given again in ``session``."""
        now = self.store.clock.now()
        every = self._all()
        record = every.get(session.key)
        if record is None:
            return session
        record["proof"] = record["seen"] = now
        self.store.save_bookmark(SESSIONS, self._live(every, now))
        return _session(session.key, record)

    def end(self, session: Session) -> None:
        every = self._all()
        every.pop(session.key, None)
        self.store.save_bookmark(SESSIONS, self._live(every, self.store.clock.now()))


def _session(key: str, record: dict[str, Any]) -> Session:
    return Session(key, str(record["csrf"]), float(record["started"]), float(record["proof"]))


OAUTH = "web:oauth"  # {state: {"name", "session", "redirect_uri", "at"}}
OAUTH_LIFE = 600.0  # a consent not finished within ten minutes is started again


@dataclass(frozen=True)
class Begun:
    name: str  # the connection
    redirect_uri: str


class OAuthStates:
    """Consents under way from the admin page: each state is random, used once, short-lived
    and made for a signed-in session."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _live(self) -> dict[str, dict[str, Any]]:
        kept = self.store.bookmark(OAUTH)
        now = self.store.clock.now()
        every = dict(kept) if isinstance(kept, dict) else {}
        return {k: v for k, v in every.items() if now - float(v["at"]) < OAUTH_LIFE}

    def begin(self, name: str, session: Session, redirect_uri: str) -> str:
        state = secrets.token_urlsafe(32)
        every = self._live()
        every[_key(state)] = {
            "name": name,
            "session": session.key,
            "redirect_uri": redirect_uri,
            "at": self.store.clock.now(),
        }
        self.store.save_bookmark(OAUTH, every)
        return state

    def finish(self, state: str) -> Begun | None:
        """The consent ``state`` began, once; None if unknown, used or too old."""
        if not state:
            return None
        every = self._live()
        found = every.pop(_key(state), None)
        self.store.save_bookmark(OAUTH, every)
        if found is None:
            return None
        return Begun(str(found["name"]), str(found["redirect_uri"]))
