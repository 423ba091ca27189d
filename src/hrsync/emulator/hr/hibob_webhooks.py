"""Webhook deliveries as Bob sends them (webhooks v2), built for a test to post to hrsync.

Bob posts a JSON body per event and signs it: header ``Bob-Signature`` is the HMAC-SHA512
of the raw body bytes keyed with the webhook's secret, Base64-encoded (variant
``hibob-signature-hex``: hex digits). A v2 body carries metadata only; the receiver reads the
employee through the API::

    {"companyId": 636192, "type": "employee.updated", "triggeredBy": "system",
     "triggeredAt": "2026-01-01T00:00:00.000000", "version": "v2",
     "data": {"employeeId": "3332883804594373380",
              "fieldUpdates": [{"fieldId": "work.department"}]}}

``fieldUpdates`` is sent for ``employee.updated`` only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

EVENTS = (
    "employee.created",
    "employee.updated",
    "employee.deleted",
    "employee.joined",
    "employee.left",
    "employee.activated",
    "employee.inactivated",
    "employee.temporaryLeave",
)


def signature(body: bytes, secret: str, *, hexadecimal: bool = False) -> str:
    """``Bob-Signature`` of ``body``: HMAC-SHA512 with the secret, Base64 (or hex)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha512).digest()
    return digest.hex() if hexadecimal else base64.b64encode(digest).decode()


def payload(
    company_id: int,
    event: str,
    employee_id: str,
    now: float,
    *,
    triggered_by: str = "system",
    field_ids: list[str] | None = None,
) -> dict[str, Any]:
    """One event's body (webhooks v2)."""
    data: dict[str, Any] = {"employeeId": employee_id}
    if event == "employee.updated":
        data["fieldUpdates"] = [{"fieldId": f} for f in field_ids or []]
    at = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return {
        "companyId": company_id,
        "type": event,
        "triggeredBy": triggered_by,
        "triggeredAt": at,
        "version": "v2",
        "data": data,
    }


def delivery(body: dict[str, Any], secret: str, *, hexadecimal: bool) -> dict[str, Any]:
    """The headers and raw body of one POST, as a receiver gets them."""
    raw = json.dumps(body, separators=(",", ":"))
    signed = signature(raw.encode(), secret, hexadecimal=hexadecimal)
    headers = {"Content-Type": "application/json", "Bob-Signature": signed}
    return {"headers": headers, "body": raw}
