"""How each HR system signs its webhook, and which records a delivery names: pure functions of
a delivery's headers, query and body, without I/O (``service/vendor_hooks.py`` does that).
The evidence for each reading is in ``docs/readings/webhooks.md``.

- BambooHR: ``X-BambooHR-Signature`` is the hex HMAC-SHA256, keyed by the webhook's private
  key, of the raw body followed by ``X-BambooHR-Timestamp`` (the reading its PHP sample and
  every independent verifier found agree on); a ``{timestamp}.{body}`` reading some guides
  give is taken too (it binds the timestamp as well). The timestamp must be within ``SKEW``.
- HiBob: ``Bob-Signature`` is HMAC-SHA512, keyed by the webhook's secret, of the raw body;
  its encoding is not said, so base64 (standard or URL-safe) and hex are each taken. No
  header dates a delivery: a signature is taken once for ``UNSTAMPED_MEMORY``, and a body
  whose signed ``triggeredAt`` is older than that is stale.
- Personio: nothing is signed. Its webhook sends a static token in ``Authorization`` (as
  is, with any prefix the admin gave it), or custom headers: hrsync takes the secret there,
  in ``X-Hrsync-Secret``, or as ``?secret=``, compared in constant time.

A refusal is a reason word (the keys of ``vendor_hooks.REFUSED``); "" means taken."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from hrsync.service.hooks import SKEW, UNIX_SECONDS
from hrsync.sources.rest.paths import MISSING, PathError, compile_all

VENDORS = ("bamboohr", "hibob", "personio")
UNSTAMPED_MEMORY = 86_400.0  # seconds a signature no header dates is remembered (HiBob)
BAMBOO_SIGNATURE, BAMBOO_TIMESTAMP = "x-bamboohr-signature", "x-bamboohr-timestamp"
BOB_SIGNATURE = "bob-signature"
HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# ISO 8601 with a zone (BambooHR's event payloads date themselves so; a header might too)
ISO_WITH_ZONE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})"
)
BOB_PING = "Ping test"  # what HiBob sends when a webhook is set up, to see the URL answers


@dataclass(frozen=True)
class Delivery:
    """What a vendor's webhook call carries that decides whether it is taken."""

    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    now: float


@dataclass(frozen=True)
class Verdict:
    """A delivery judged: why it is refused ("" when taken), and what the nonce store keeps
    of it (a SHA-256 hex of its signature, "" for an unsigned vendor) until when."""

    refused: str
    nonce: str = ""
    until: float = 0.0


def nonce_of(vendor: str, signature: str) -> str:
    """The nonce store's name for a signature: 64 hex characters, apart from hrsync's own."""
    return hashlib.sha256(f"{vendor}:{signature}".encode()).hexdigest()


# --- BambooHR -------------------------------------------------------------------------------
def bamboohr_signatures(key: str, timestamp: str, body: bytes) -> tuple[str, str]:
    """The hex signatures a delivery may carry: body + timestamp (documented), then
    ``{timestamp}.{body}`` (a second reading, kept as it binds the timestamp too)."""
    stamp = timestamp.encode()
    first = hmac.new(key.encode(), body + stamp, hashlib.sha256).hexdigest()
    second = hmac.new(key.encode(), stamp + b"." + body, hashlib.sha256).hexdigest()
    return first, second


def bamboohr_before_body(secret: str, delivery: Delivery) -> str:
    given = delivery.headers.get(BAMBOO_SIGNATURE, "").strip()
    if not given:
        return "unsigned"
    if not HEX_SHA256.fullmatch(given):
        return "signature"
    signed_at = moment(delivery.headers.get(BAMBOO_TIMESTAMP, "").strip())
    if signed_at is None:
        return "timestamp"
    return "stale" if abs(delivery.now - signed_at) > SKEW else ""


def bamboohr_verdict(secret: str, delivery: Delivery, body: bytes) -> Verdict:
    given = delivery.headers[BAMBOO_SIGNATURE].strip().lower()
    timestamp = delivery.headers[BAMBOO_TIMESTAMP].strip()
    matches = [hmac.compare_digest(s, given) for s in bamboohr_signatures(secret, timestamp, body)]
    if not any(matches):
        return Verdict("signature")
    signed_at = moment(timestamp)
    assert signed_at is not None  # judged before the body was read
    return Verdict("", nonce_of("bamboohr", given), signed_at + SKEW)


def moment(text: str) -> float | None:
    """A timestamp header as Unix seconds: Unix seconds, or ISO 8601 with its zone."""
    if UNIX_SECONDS.fullmatch(text):
        return float(text)
    if ISO_WITH_ZONE.fullmatch(text):
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return None


# --- HiBob ----------------------------------------------------------------------------------
def hibob_signature(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha512).digest()


def signature_bytes(text: str) -> bytes | None:
    """A SHA-512 MAC as the header writes it: hex, base64 or URL-safe base64 (None: none)."""
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{128}", text):
        return bytes.fromhex(text)
    padded = text + "=" * (-len(text) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            found = decode(padded.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        if len(found) == hashlib.sha512().digest_size:
            return found
    return None


def hibob_before_body(secret: str, delivery: Delivery) -> str:
    given = delivery.headers.get(BOB_SIGNATURE, "")
    if not given.strip():
        return "unsigned"
    return "" if signature_bytes(given) is not None else "signature"


def hibob_verdict(secret: str, delivery: Delivery, body: bytes) -> Verdict:
    given = signature_bytes(delivery.headers[BOB_SIGNATURE])
    if given is None or not hmac.compare_digest(hibob_signature(secret, body), given):
        return Verdict("signature")
    triggered = _triggered_at(body)
    if triggered is not None and not (
        delivery.now - UNSTAMPED_MEMORY <= triggered <= delivery.now + SKEW
    ):
        return Verdict("stale")
    return Verdict("", nonce_of("hibob", given.hex()), delivery.now + UNSTAMPED_MEMORY)


def _triggered_at(body: bytes) -> float | None:
    """When HiBob says (in the signed body) the event was triggered; UTC when no zone."""
    parsed = parse_json(body)
    text = parsed.get("triggeredAt") if isinstance(parsed, dict) else None
    if not isinstance(text, str):
        return None
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()


def is_hibob_ping(body: bytes) -> bool:
    text = body.decode("utf-8", "replace").strip().strip('"')
    parsed = parse_json(body)
    return text == BOB_PING or (isinstance(parsed, dict) and parsed.get("text") == BOB_PING)


# --- Personio -------------------------------------------------------------------------------
def personio_before_body(secret: str, delivery: Delivery) -> str:
    """The token as Personio's webhook sends it (``Authorization``, as is or after a scheme
    word such as "Bearer"), as a custom header, or in the query."""
    authorization = delivery.headers.get("authorization", "").strip()
    given = [
        authorization,
        authorization.partition(" ")[2].strip(),
        delivery.headers.get("x-hrsync-secret", "").strip(),
        delivery.query.get("secret", ""),
    ]
    wanted = hashlib.sha256(secret.encode()).digest()
    # Every form is compared, by hash, so the time taken says nothing of which was near.
    found = [hmac.compare_digest(hashlib.sha256(g.encode()).digest(), wanted) for g in given]
    return "" if any(g for g, ok in zip(given, found, strict=True) if ok) else "secret"


def personio_verdict(secret: str, delivery: Delivery, body: bytes) -> Verdict:
    return Verdict("")  # nothing signed: the token, judged before the body, is all there is


# --- the records a delivery names -----------------------------------------------------------
def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def parse_form(body: bytes) -> dict[str, Any]:
    """A form-encoded BambooHR delivery (``data[employeeId]=…``, ``employees[0][id]=…``) as
    the JSON it stands for, as far as ids go."""
    found: dict[str, Any] = {}
    employees: dict[str, dict[str, str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        if name == "data[employeeId]":
            found["data"] = {"employeeId": value}
        elif (each := re.fullmatch(r"employees\[(\d+)\]\[id\]", name)) is not None:
            employees.setdefault(each.group(1), {})["id"] = value
    if employees:
        found["employees"] = [employees[k] for k in sorted(employees, key=int)]
    return found


DEFAULT_IDS: dict[str, tuple[str, ...]] = {
    # field-based (global) webhooks, then event-based ones
    "bamboohr": ("$.employees[*].id", "$.data.employeeId"),
    # v2 events name data.employeeId; v1 events an employee object
    "hibob": ("$.data.employeeId", "$.employee.id"),
    # dataless: a person event's payload is the person; an employment's names its person
    "personio": ("$.payload.person_id", "$.payload.person.id", "$.payload.employee_id"),
}


def record_ids(vendor: str, body: bytes, *, ids: str = "") -> list[Any] | None:
    """The record ids a delivery names, as found (None: the body is no JSON or form the
    vendor sends, or names none). ``ids``, a JSONPath, replaces the vendor's own."""
    parsed = parse_json(body)
    if parsed is None and vendor == "bamboohr":
        parsed = parse_form(body) or None
    if not isinstance(parsed, dict | list):
        return None
    for path in (ids,) if ids else DEFAULT_IDS[vendor]:
        found = _all(path)(parsed)
        if found is not MISSING and found:
            return list(found)
    if vendor == "personio" and isinstance(parsed, dict):
        return _personio_person(parsed)
    return None


def _personio_person(parsed: dict[str, Any]) -> list[Any] | None:
    """A ``person.*`` event's own id (its payload is the person; an employment's id is not)."""
    event = str(parsed.get("event_name", ""))
    payload = parsed.get("payload")
    if event.startswith("person.") and isinstance(payload, dict) and "id" in payload:
        return [payload["id"]]
    return None


@cache
def _all(path: str) -> Callable[[Any], Any]:
    try:
        return compile_all(path)
    except PathError:
        return lambda value: MISSING


BEFORE_BODY: dict[str, Callable[[str, Delivery], str]] = {
    "bamboohr": bamboohr_before_body,
    "hibob": hibob_before_body,
    "personio": personio_before_body,
}
VERDICT: dict[str, Callable[[str, Delivery, bytes], Verdict]] = {
    "bamboohr": bamboohr_verdict,
    "hibob": hibob_verdict,
    "personio": personio_verdict,
}
