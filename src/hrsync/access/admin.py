"""The admin's re-authentication: sensitive actions (deleting an integration, revoking or
deleting a connection, authorising one again) need the admin passphrase within the last few
minutes, like Zoho's "re-authenticate to continue".

Wrong passphrases back off exponentially and are logged: a first one is a typo and costs
nothing, after the second in a row the next try waits 1 s, then twice as long after each
further one, up to 15 min. During the wait no passphrase is compared, the right one neither;
the first right one after it ends the count. The count lives in the store, so every process
on it waits alike, and a guess holds it while it is compared (``store/passphrases.py``), so
guesses sent all at once wait as if sent one after the other. The admin page and the command
line keep a count each: whoever reaches the page cannot lock the operator out of the machine.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
from typing import Any

from hrsync.errors import HrsyncError
from hrsync.store import Store
from hrsync.store.db import this_process
from hrsync.store.passphrases import Tries, held_tries, tries_at

log = logging.getLogger(__name__)
PASSPHRASE = "admin:passphrase"
LAST_PROOF = "admin:reauthenticated_at"
WEB, CLI = "web", "cli"  # the doors a passphrase comes in by, each with its own count
WINDOW = 300.0  # seconds a re-authentication stays good
FIRST_WAIT = 1.0  # seconds after the second wrong passphrase; doubled after each next one
LONGEST_WAIT = 900.0
ENV_PASSPHRASE = "HRSYNC_ADMIN_PASSPHRASE"


class ReauthenticationNeeded(HrsyncError):
    """A sensitive action without a recent re-authentication."""


def _hash(passphrase: str, salt: bytes) -> bytes:
    return hashlib.scrypt(passphrase.encode(), salt=salt, n=2**14, r=8, p=1)


def has_passphrase(store: Store) -> bool:
    return store.bookmark(PASSPHRASE) is not None


def set_passphrase(store: Store, passphrase: str, *, current: str | None = None) -> None:
    """Set (or, proving the current one, change) the admin passphrase."""
    if len(passphrase) < 12:
        raise HrsyncError("the passphrase needs at least 12 characters")
    if has_passphrase(store) and current is None:
        raise ReauthenticationNeeded("the current passphrase is needed to change it")
    if has_passphrase(store) and not _check(store, current or "", door=CLI):
        raise ReauthenticationNeeded("that is not the current admin passphrase")
    salt = os.urandom(16)
    store.save_bookmark(PASSPHRASE, {"salt": salt.hex(), "hash": _hash(passphrase, salt).hex()})


def _matches(saved: dict[str, Any] | None, passphrase: str) -> bool:
    if saved is None:
        return False
    got = _hash(passphrase, bytes.fromhex(saved["salt"]))
    return hmac.compare_digest(got, bytes.fromhex(saved["hash"]))


def backoff_wait(wrong_in_a_row: int) -> float:
    """Seconds to wait after ``wrong_in_a_row`` wrong passphrases (0 after none)."""
    if wrong_in_a_row <= 1:
        return 0.0
    return min(FIRST_WAIT * 2.0 ** min(wrong_in_a_row - 2, 32), LONGEST_WAIT)


def wrong_in_a_row(store: Store, door: str) -> int:
    """How many wrong passphrases came in a row at ``door`` (``WEB`` or ``CLI``)."""
    return tries_at(store, door).wrong


def _left(tries: Tries, now: float) -> float:
    wait = backoff_wait(tries.wrong)
    return min(tries.at + wait - now, wait)  # a clock behind the last try's: no longer


def _check(store: Store, passphrase: str, *, door: str, who: str = "") -> bool:
    """Compare ``passphrase`` unless wrong ones came too fast at ``door``; count and log a
    wrong one. The count is held from before the comparison until it is counted."""
    saved: dict[str, Any] | None = store.bookmark(PASSPHRASE)
    with held_tries(store, door) as tries:
        left = _left(tries, store.clock.now())
        if left > 0:
            log.warning("admin passphrase not checked: %d wrong in a row, backing off", tries.wrong)
            raise ReauthenticationNeeded(
                f"{tries.wrong} wrong admin passphrases in a row: try again in {math.ceil(left)} s"
            )
        if _matches(saved, passphrase):
            tries.wrong = 0
            return True
        tries.wrong, tries.at = tries.wrong + 1, store.clock.now()
        wrong = tries.wrong
    log.warning(
        "wrong admin passphrase from %s (%d in a row); the next try waits %.0f s",
        who or this_process(),
        wrong,
        backoff_wait(wrong),
    )
    return False


def verify(store: Store, passphrase: str, *, door: str = CLI, who: str = "") -> None:
    """Refuse a wrong passphrase (backing off after wrong ones in a row at ``door``, in every
    process); ``who`` names the sender in the log (this process by default)."""
    if not has_passphrase(store):
        raise ReauthenticationNeeded(
            "no admin passphrase is set yet: `hrsync admin passphrase` sets one"
        )
    if not _check(store, passphrase, door=door, who=who):
        raise ReauthenticationNeeded("that is not the admin passphrase")


def reauthenticate(store: Store, passphrase: str) -> None:
    """The passphrase, given for the command line's sensitive actions of the next minutes."""
    verify(store, passphrase, door=CLI)
    store.save_bookmark(LAST_PROOF, {"at": store.clock.now()})


def require_recent(store: Store, action: str, *, window: float = WINDOW) -> None:
    """Refuse ``action`` unless the admin re-authenticated within ``window`` seconds."""
    if not has_passphrase(store):
        raise ReauthenticationNeeded(
            f"{action} needs the admin passphrase, and no admin passphrase is set yet: "
            "`hrsync admin passphrase` sets one"
        )
    proof: dict[str, Any] | None = store.bookmark(LAST_PROOF)
    if proof is not None and store.clock.now() - float(proof["at"]) <= window:
        return
    raise ReauthenticationNeeded(
        f"{action} needs the admin to re-authenticate first (within {window / 60:.0f} min): "
        f"`hrsync admin reauth`, or {ENV_PASSPHRASE} for an unattended run"
    )
