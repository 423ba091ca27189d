"""A SCIM source's bearer token: made (and made again, which rotates it) by an admin, shown
once, kept only as its SHA-256. An identity provider sends it as ``Authorization: Bearer``;
the token alone says which SCIM source a call belongs to."""

from __future__ import annotations

import hashlib
import secrets

from hrsync.clock import Clock
from hrsync.store.scim import ScimStore

PREFIX = "hrsync_scim_"  # so a token found in a log or a paste is recognised for what it is


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_token(store_url: str, integration: str, *, clock: Clock) -> str:
    """A new token for ``integration``'s SCIM source; the one before it stops working."""
    token = PREFIX + secrets.token_urlsafe(32)
    store = ScimStore(store_url, clock=clock)
    try:
        store.save_token(integration, token_hash(token))
    finally:
        store.close()
    return token
