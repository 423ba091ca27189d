"""HR events: Zoho People's workflow webhooks (or any HR system's) ask for a sync of the
people an event names. A call is taken only with the integration's webhook secret, compared
in constant time with the hash hrsync keeps; the secret itself is never stored or shown."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from hrsync.clock import RealClock
from hrsync.store import Store

WEBHOOK = "webhook:people"  # the integration's bookmark: the secret's SHA-256


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def set_secret(store_url: str, integration: str, secret: str) -> None:
    store = Store(store_url, clock=RealClock(), integration=integration)
    try:
        store.save_bookmark(WEBHOOK, {"sha256": secret_hash(secret)})
    finally:
        store.close()


def accepts(store_url: str, integration: str, given: str) -> bool:
    """Whether ``given`` is the integration's webhook secret (False when it has none)."""
    store = Store(store_url, clock=RealClock(), integration=integration)
    try:
        kept: Any = store.bookmark(WEBHOOK)
    finally:
        store.close()
    if not isinstance(kept, dict) or not given:
        return False
    return hmac.compare_digest(secret_hash(given), str(kept.get("sha256", "")))


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
