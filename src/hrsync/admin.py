"""The admin's re-authentication: sensitive actions (deleting an integration, revoking or
deleting a connection, authorising one again) need the admin passphrase within the last few
minutes, like Zoho's "re-authenticate to continue"."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from hrsync.errors import HrsyncError
from hrsync.store import Store

PASSPHRASE = "admin:passphrase"
LAST_PROOF = "admin:reauthenticated_at"
WINDOW = 300.0  # seconds a re-authentication stays good
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
    if has_passphrase(store) and not (current is not None and _matches(store, current)):
        raise ReauthenticationNeeded("the current passphrase is needed to change it")
    salt = os.urandom(16)
    store.save_bookmark(PASSPHRASE, {"salt": salt.hex(), "hash": _hash(passphrase, salt).hex()})


def _matches(store: Store, passphrase: str) -> bool:
    saved: dict[str, Any] | None = store.bookmark(PASSPHRASE)
    if saved is None:
        return False
    got = _hash(passphrase, bytes.fromhex(saved["salt"]))
    return hmac.compare_digest(got, bytes.fromhex(saved["hash"]))


def reauthenticate(store: Store, passphrase: str) -> None:
    if not has_passphrase(store):
        raise ReauthenticationNeeded(
            "no admin passphrase is set yet: `hrsync admin passphrase` sets one"
        )
    if not _matches(store, passphrase):
        raise ReauthenticationNeeded("that is not the admin passphrase")
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
