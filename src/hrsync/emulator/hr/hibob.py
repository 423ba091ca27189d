"""HiBob's (Bob's) API as HiBob documents it, under ``/hibob/v1`` (docs/readings/hibob.md).

Served (a client's base URL is ``http://HOST:PORT/hibob/v1``; Bob's is
``https://api.hibob.com/v1``), each behind HTTP Basic with a service user's ID and token:

- ``POST /people/search`` — ``{"fields", "filters", "showInactive", "humanReadable"}``; every
  matching employee in one answer ``{"employees": [...]}`` (no paging, no changed-since).
- ``POST /people/{identifier}`` and the deprecated ``GET /people/{identifier}?fields=...``
  (``humanReadable``/``includeHumanReadable`` true or false) — one employee by ID or email.
- ``GET /company/people/fields`` — field metadata; a list field names its list in
  ``typeData.listId``.
- ``GET /company/named-lists`` and ``GET /company/named-lists/{listName}`` — ``{"name",
  "items": [{"id", "name", "archived", "children"}]}``; ``includeArchived`` as documented.

Errors answer Bob's ``Error`` schema ``{"error": "...", "key": "..."}``: 400 for a malformed
read, 401 for missing or wrong credentials or a revoked service user, 404 for an unknown
employee (a named list not found answers 404 without a body, as documented), 405 with
``Allow``, 429 when throttled (``X-RateLimit-Limit``/``-Remaining``/``-Reset`` on every
metered answer), 500 only when a fault asks for it.

Control calls, under ``/_emulator/hr/hibob/``:

- ``POST employees`` — a JSON list (or ``{"employees": [...]}``) of employees in Bob's
  nested field names (root fields at the top or under ``root``; ``work``, ``internal``,
  ``about``, custom categories), list values by name, ``work.reportsTo`` as the manager's
  ID; upserted by ``id``, a new one (``email``, ``firstName``, ``surname`` needed) gets an ID.
  Answers ``{"employees": [ids]}``. ``internal.status`` is ``"Active"`` unless given
  (``"Inactive"`` hides the employee from searches without ``showInactive``).
- ``GET employees`` — every employee, list values by name, with its ``modified`` time.
- ``DELETE employees/{id}``.
- ``GET service-users``; ``POST service-users`` ``{"id", "token", "permissions": ["work",
  ...] or ["*"], "revoked": false}`` upserts one; ``DELETE service-users/{id}`` revokes it.
  A service user allowed everything is there from the start (``GET service-users``).
- ``GET limits``; ``POST limits`` ``{"people.search": 50, "people.read": 50, "fields": 50,
  "named-lists": 50}`` (any of them): calls a rolling minute per service user.
- ``GET``/``POST``/``DELETE faults`` — ``{"mode": "truncate" | "error_500" | "throttle",
  "count": 1, "endpoint": null | "people.search" | ..., "cut": "json" | "employees"}``:
  the next ``count`` calls answer 500, or 429, or (searches only) a body cut off mid-JSON
  (``cut: "json"``) or valid JSON missing the later half of the employees.
- ``GET webhooks`` — ``{"secret", "companyId"}``; ``POST webhooks/deliver`` ``{"type":
  "employee.updated", "employeeIds": [...], "fieldIds": [...], "secret": optional,
  "triggeredBy": optional}`` answers ``{"headers": {...}, "body": "...", "deliveries":
  [one per employee], "secret"}``: what Bob would post (hibob_webhooks.py), for a test to
  post to hrsync.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.hr import hibob_control, hibob_views
from hrsync.emulator.hr.hibob_company import Company, Employee
from hrsync.emulator.hr.hibob_guard import Faults, Limiter, ServiceUser, default_user
from hrsync.emulator.hr.hibob_guard import basic_credentials as credentials
from hrsync.emulator.hr.hibob_variants import VARIANTS
from hrsync.emulator.hr.hibob_views import BadRead, Read, Shape

__all__ = ["VARIANTS", "Api"]


class BobError(Exception):
    """Raised inside handlers; answered as Bob's ``Error`` schema."""

    def __init__(
        self, status: int, message: str, key: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, message)
        self.status, self.message, self.key = status, message, key
        self.headers = headers or {}

    def response(self) -> EmuResponse:
        return EmuResponse(self.status, {"error": self.message, "key": self.key}, self.headers)


@dataclass(slots=True)
class TruncatedResponse(EmuResponse):
    """An answer cut off mid-body (fault ``truncate``): raw bytes, not JSON."""

    raw: bytes = field(default=b"")

    def content(self) -> bytes:
        return self.raw


@dataclass(frozen=True, slots=True)
class Call:
    """One API call past its checks."""

    req: EmuRequest
    args: tuple[str, ...]
    user: ServiceUser
    variants: frozenset[str]


Handler = Callable[["Api", Call], EmuResponse]


class Api:
    """One HiBob company and its API."""

    name = "hibob"

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.company = Company(seed)
        user = default_user(seed)
        self.users: dict[str, ServiceUser] = {user.id: user}
        self.limiter = Limiter()
        self.faults = Faults()
        self.calls: dict[str, int] = defaultdict(int)
        self.webhook_secret = hashlib.sha256(f"{seed}/hibob-webhook".encode()).hexdigest()[:32]
        self.control_variants: frozenset[str] = frozenset()

    def handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        try:
            return self._handle(req, path, now, variants)
        except BadRead as err:
            return BobError(400, str(err), "bad_request").response()
        except BobError as err:
            return err.response()

    def _handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        endpoint, handler, args = _route(req.method, path)
        user = self._authenticate(req)
        self.calls[endpoint] += 1
        admitted, limits = self.limiter.admit(user.id, endpoint, now)
        if not admitted:
            raise BobError(429, "Too many requests", "rate_limit_exceeded", headers=limits)
        fault = self.faults.pick(endpoint)
        if fault is not None and fault.mode == "throttle":
            raise BobError(429, "Too many requests", "rate_limit_exceeded", headers=limits)
        if fault is not None and fault.mode == "error_500":
            raise BobError(500, "Internal server error", "internal_error")
        response = handler(self, Call(req, args, user, variants))
        if fault is not None:  # truncate: only searches pick it
            response = _truncated(response, fault.cut)
        return replace(response, headers={**response.headers, **limits})

    def _authenticate(self, req: EmuRequest) -> ServiceUser:
        given = credentials(req.headers.get("authorization", ""))
        user = self.users.get(given[0]) if given else None
        if given is None or user is None or user.token != given[1] or user.revoked:
            raise BobError(401, "Unauthorized: wrong service user ID or token", "unauthorized")
        return user

    def control(self, req: EmuRequest, path: str, now: float) -> EmuResponse:
        return hibob_control.handle(self, req, path, now)

    def state(self) -> dict[str, Any]:
        company = self.company
        return {
            "companyId": company.company_id,
            "employees": [company.seeded(e) for e in company.employees.values()],
            "lists": [lst.answer(archived=True, textual=False) for lst in company.lists.values()],
            "serviceUsers": [u.answer() for u in self.users.values()],
            "limits": dict(self.limiter.per_minute),
            "faults": [f.answer() for f in self.faults.pending],
        }

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "throttled": dict(self.limiter.throttled),
            "faults": dict(self.faults.played),
        }

    # The endpoints

    def search(self, call: Call) -> EmuResponse:
        read = hibob_views.search_request(_json(call.req))
        found = [e for e in self.company.employees.values() if hibob_views.matches(read, e)]
        return EmuResponse(200, {"employees": self._rendered(found, read, call)})

    def read_one(self, call: Call) -> EmuResponse:
        if call.req.method == "GET":
            read = _query_read(call.req)
        else:
            read = hibob_views.single_request(_json(call.req) if call.req.body else None)
        employee = self.company.find(call.args[0])
        if employee is None:
            raise BobError(404, f"Employee {call.args[0]} not found", "employee_not_found")
        [one] = self._rendered([employee], read, call)
        wrapped = "hibob-single-wrapped" in call.variants
        return EmuResponse(200, {"employees": [one]} if wrapped else one)

    def _rendered(self, found: list[Employee], read: Read, call: Call) -> list[dict[str, Any]]:
        wanted = hibob_views.wanted_fields(self.company, read)
        refused = hibob_views.forbidden(wanted, call.user.may_view)
        if refused and read.fields is not None and "hibob-forbidden-403" in call.variants:
            names = ", ".join(f.id for f in refused)
            raise BobError(403, f"Forbidden fields: {names}", "forbidden_fields")
        shown = [f for f in wanted if f not in refused]
        shape = _shape(call.variants)
        return [
            hibob_views.render(self.company, e, shown, mode=read.mode, shape=shape) for e in found
        ]

    def fields(self, call: Call) -> EmuResponse:
        return EmuResponse(200, [f.metadata() for f in self.company.fields()])

    def named_lists(self, call: Call) -> EmuResponse:
        archived = _boolean(call.req.query.get("includeArchived", "false"), "includeArchived")
        textual = "hibob-list-ids-textual" in call.variants
        lists = self.company.lists
        if not call.args:
            shown = [lst.answer(archived=archived, textual=textual) for lst in lists.values()]
            return EmuResponse(200, shown)
        named = lists.get(call.args[0])
        if named is None:
            return EmuResponse(404, None)  # documented without a body
        return EmuResponse(200, named.answer(archived=archived, textual=textual))


ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (m, re.compile("^" + p.replace("{}", "([^/]+)") + r"/?\Z"), e, h)
    for m, p, e, h in (
        ("POST", "/v1/people/search", "people.search", Api.search),
        ("POST", "/v1/people/{}", "people.read", Api.read_one),
        ("GET", "/v1/people/{}", "people.read", Api.read_one),
        ("GET", "/v1/company/people/fields", "fields", Api.fields),
        ("GET", "/v1/company/named-lists", "named-lists", Api.named_lists),
        ("GET", "/v1/company/named-lists/{}", "named-lists", Api.named_lists),
    )
]


def _route(method: str, path: str) -> tuple[str, Handler, tuple[str, ...]]:
    """The endpoint for this method and path; else 404, or 405 with the path's methods."""
    matched: list[tuple[str, re.Pattern[str]]] = []
    for route_method, pattern, endpoint, handler in ROUTES:
        found = pattern.match(path)
        if found and route_method == method:
            return endpoint, handler, found.groups()
        if found:
            matched.append((route_method, pattern))
    if not matched:
        raise BobError(404, f"No such endpoint: {path}", "not_found")
    # the methods of the first template that matches: /people/search is not /people/{id}
    allowed = {m for m, pattern in matched if pattern == matched[0][1]}
    allow = {"allow": ", ".join(sorted(allowed))}
    raise BobError(405, f"Method {method} not allowed", "method_not_allowed", headers=allow)


def _json(req: EmuRequest) -> Any:
    try:
        return json.loads(req.body)
    except ValueError:
        raise BobError(400, "The request body is not valid JSON", "bad_request") from None


def _query_read(req: EmuRequest) -> Read:
    """The deprecated GET's query: fields (repeated or comma-separated) and two booleans."""
    fields = [f for k, v in req.query_pairs if k == "fields" for f in v.split(",") if f]
    mode = None
    if _boolean(req.query.get("includeHumanReadable", "false"), "includeHumanReadable"):
        mode = "APPEND"
    if _boolean(req.query.get("humanReadable", "false"), "humanReadable"):
        mode = "REPLACE"
    return Read(fields or None, mode)


def _boolean(text: str, name: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise BobError(400, f"{name} must be true or false", "bad_request")
    return text.lower() == "true"


def _shape(variants: frozenset[str]) -> Shape:
    return Shape(
        nested="hibob-slash-only" not in variants,
        slash="hibob-nested-only" not in variants,
        names="hibob-list-names" in variants,
    )


def _truncated(response: EmuResponse, cut: str) -> EmuResponse:
    """A search answer cut off: mid-JSON, or valid JSON without its later employees."""
    body = response.body
    if cut == "employees" and isinstance(body, dict):
        kept = body["employees"][: len(body["employees"]) // 2]
        return EmuResponse(response.status, {"employees": kept}, response.headers)
    raw = response.content()
    return TruncatedResponse(response.status, "", response.headers, raw=raw[: len(raw) // 2])
