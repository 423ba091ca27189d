"""HR events: Zoho People's workflow webhooks (or any HR system's) ask for a sync of the
people an event names. A call is taken only with the integration's webhook secret: carried as
is (compared in constant time with the hash hrsync keeps), or as an HMAC-SHA256 signature of
the call by a sender that signs. The secret is kept sealed by the store's key, for checking
signatures, and is never shown.

What can be judged from the headers is judged before the body is read (an unknown
integration, a wrong secret, a timestamp that is not Unix seconds or is stale); the body, at
most ``BODY_LIMIT`` bytes, only for a signature. A signature is taken once: the store
remembers it, for every process on it, until the call it signed would be stale anyway."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
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
BODY_LIMIT = 1024 * 1024  # bytes of a call's body; a larger one is refused unread
MOST_PEOPLE = 1000  # employee ids one call may name
MOST_ID_CHARACTERS = 100
# Unix seconds, with at most microseconds: never "nan", "inf", "1e9" or a sign, which
# float() takes and which compare as never stale or mean another time than they show.
UNIX_SECONDS = re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,6})?")
SIGNED = re.compile(r"sha256=([0-9a-f]{64})")


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
    """What a webhook call carries, besides its body, that decides whether it is taken."""

    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    now: float

    @property
    def signed(self) -> bool:
        return bool(self.headers.get(SIGNATURE))


def kept_secret(store: Store) -> dict[str, Any] | None:
    """What the store keeps of the integration's secret (None: it has none)."""
    kept: Any = store.bookmark(WEBHOOK)
    return kept if isinstance(kept, dict) else None


def refusal_by_headers(kept: dict[str, Any] | None, call: Call) -> str:
    """Why the call is refused before its body is read ("" when it may go on): ``secret``
    (unknown integration, or not its secret), ``unsigned`` (the integration takes signed
    calls only), ``timestamp`` (not Unix seconds), ``stale`` (signed too long ago or ahead)."""
    if kept is None:
        return "secret"
    if call.signed:
        timestamp = call.headers.get(TIMESTAMP, "")
        if not UNIX_SECONDS.fullmatch(timestamp):
            return "timestamp"
        return "stale" if abs(call.now - float(timestamp)) > SKEW else ""
    if kept.get("signed_only"):
        return "unsigned"
    given = call.headers.get("x-hrsync-secret") or call.query.get("secret", "")
    if given and hmac.compare_digest(secret_hash(given), str(kept.get("sha256", ""))):
        return ""
    return "secret"


def refusal_by_signature(vault: Vault, kept: dict[str, Any], call: Call, body: bytes) -> str:
    """``signature`` when a signed call's signature does not match its timestamp and body."""
    if not kept.get("sealed"):  # set before hrsync kept the secret sealed: set it again
        return "signature"
    secret = str(vault.unseal(str(kept["sealed"]).encode("ascii"))["secret"])
    expected = signature(secret, call.headers[TIMESTAMP], body)
    return "" if hmac.compare_digest(expected, call.headers[SIGNATURE].strip()) else "signature"


def refusal_as_replay(store: Store, call: Call) -> str:
    """``replayed`` when this signed call was taken before, by any process on the store."""
    found = SIGNED.fullmatch(call.headers[SIGNATURE].strip())
    if found is None:  # cannot be: it matched a signature made the same way
        return "signature"
    until = float(call.headers[TIMESTAMP]) + SKEW
    return "" if store.first_use(found.group(1), until=until) else "replayed"


def named_people(body: Any, query: Mapping[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The people a call names, each once, in the order named: ``{"employee_ids": [...]}``,
    ``{"employee_id": "..."}``, or ``?employee_id=`` (a People webhook sends the fields it is
    told to, as parameters); and what it names that is no employee id, with why."""
    given: list[Any] = []
    if isinstance(body, dict):
        many = body.get("employee_ids")
        if isinstance(many, list):
            given += many
        elif many is not None:
            given.append(many)
        one = body.get("employee_id", body.get("EmployeeID"))
        if one is not None:
            given.append(one)
    if "employee_id" in query:
        given.append(query["employee_id"])
    named: list[str] = []
    refused: list[tuple[str, str]] = []
    for value in given:
        employee_id, why = checked_id(value)
        if why:
            refused.append((employee_id, why))
        elif employee_id not in named:
            named.append(employee_id)
    return named, refused


def checked_id(value: Any) -> tuple[str, str]:
    """``value`` as an employee id, or what it was and why it is none."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return json.dumps(value)[:40], "an employee id is a string (or a number)"
    text = str(value).strip()
    if not text:
        return text, "empty"
    if len(text) > MOST_ID_CHARACTERS:
        return text[:40] + "…", f"longer than {MOST_ID_CHARACTERS} characters"
    if not text.isprintable():
        return text.encode("unicode_escape").decode("ascii")[:40], "holds control characters"
    return text, ""
