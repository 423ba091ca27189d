"""HR events: Zoho People's workflow webhooks (or any HR system's) ask for a sync of the
people an event names. A call is taken only with the integration's webhook secret: carried as
is (compared in constant time with the hash hrsync keeps), or as an HMAC-SHA256 signature of
the call by a sender that signs. The secret is kept sealed by the store's key, for checking
signatures, and is never shown."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hrsync.access.vault import Vault
from hrsync.clock import RealClock
from hrsync.store import Store

WEBHOOK = "webhook:people"  # the integration's bookmark: the secret's SHA-256, sealed secret
SIGNATURE = "x-hrsync-signature"  # "sha256=" + hex HMAC-SHA256 of "{timestamp}." + body
TIMESTAMP = "x-hrsync-timestamp"  # the Unix time the sender signed at
SKEW = 300.0  # a signature older or newer than this is refused (a replayed call)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a signing sender puts in ``X-Hrsync-Signature``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def set_secret(
    store_url: str, vault: Vault, integration: str, secret: str, *, signed_only: bool = False
) -> None:
    store = Store(store_url, clock=RealClock(), integration=integration)
    try:
        store.save_bookmark(
            WEBHOOK,
            {
                "sha256": secret_hash(secret),
                "sealed": vault.seal({"secret": secret}).decode("ascii"),
                "signed_only": signed_only,
            },
        )
    finally:
        store.close()


@dataclass(frozen=True)
class Call:
    """What a webhook call carries that decides whether it is taken."""

    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes
    now: float


def refusal(store_url: str, vault: Vault, integration: str, call: Call) -> str:
    """Why the call is refused ("" when it is taken): ``secret`` (unknown integration, or
    not its secret), ``signature`` (a signature that does not match), ``stale`` (signed too
    long ago or ahead), ``unsigned`` (the integration takes signed calls only)."""
    store = Store(store_url, clock=RealClock(), integration=integration)
    try:
        kept: Any = store.bookmark(WEBHOOK)
    finally:
        store.close()
    if not isinstance(kept, dict):
        return "secret"
    signed = call.headers.get(SIGNATURE, "")
    if signed:
        return _signature_refusal(vault, kept, signed, call)
    if kept.get("signed_only"):
        return "unsigned"
    given = call.headers.get("x-hrsync-secret") or call.query.get("secret", "")
    if given and hmac.compare_digest(secret_hash(given), str(kept.get("sha256", ""))):
        return ""
    return "secret"


def _signature_refusal(vault: Vault, kept: dict[str, Any], signed: str, call: Call) -> str:
    if not kept.get("sealed"):  # set before hrsync kept the secret sealed: set it again
        return "signature"
    timestamp = call.headers.get(TIMESTAMP, "")
    try:
        at = float(timestamp)
    except ValueError:
        return "signature"
    if abs(call.now - at) > SKEW:
        return "stale"
    secret = str(vault.unseal(str(kept["sealed"]).encode("ascii"))["secret"])
    if hmac.compare_digest(signature(secret, timestamp, call.body), signed.strip()):
        return ""
    return "signature"


def employee_ids(body: Any, query: dict[str, str]) -> frozenset[str]:
    """The people a call names: ``{"employee_ids": [...]}``, ``{"employee_id": "..."}``, or
    ``?employee_id=`` (a People webhook sends the fields it is told to, as parameters)."""
    found: set[str] = set()
    if isinstance(body, dict):
        many = body.get("employee_ids")
        if isinstance(many, list):
            found.update(str(e).strip() for e in many)
        one = body.get("employee_id") or body.get("EmployeeID")
        if one:
            found.add(str(one).strip())
    if query.get("employee_id"):
        found.add(query["employee_id"].strip())
    return frozenset(e for e in found if e and len(e) <= 100)
