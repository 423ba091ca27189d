"""Personio's API v1 as Personio documents it, under ``/personio/`` (a client's base URL is
``http://HOST:PORT/personio/v1``). Evidence, behaviour by behaviour: docs/readings/personio.md.

Served (Personio's shapes; errors as ``{"success": false, "error": {"code", "message"}}``):

- ``POST /v1/auth`` with ``client_id`` and ``client_secret`` in a JSON or form body →
  ``{"success": true, "data": {"token", "expires_in": 86400, "scope"}}``. The token is stable:
  the same ``papi-…`` token for a credential for 24 hours. Wrong or missing credentials: 403.
- ``GET /v1/company/employees`` (``limit`` 1..100, default 50; ``offset`` a record offset;
  ``email``; ``attributes[]``; ``updated_since``, which answers every match at once, ``limit``,
  ``offset`` and ``email`` unread), ``GET /v1/company/employees/{id}``,
  ``GET /v1/company/employees/attributes`` and its alias ``/custom-attributes``. Each needs
  ``Authorization: Bearer <token>`` (none: 401 "Authorization is not provided"; unknown or
  expired: 403 "Provided authorization is not valid"), and a successful answer carries the
  token again in its ``Authorization`` response header. ``X-Personio-Partner-ID`` and
  ``X-Personio-App-ID`` are optional; they are counted in the stats (``apps``).
- Personio's writes (``POST /company/employees``, ``PATCH …/{id}``) are not served (405):
  hrsync only reads Personio; the control calls below seed it.
- Rate limits (``personio_access.Limits``): list employees 300 a minute and 15 a second per
  credential, auth 60 a minute (then 60 s refused), 2000 a minute for every call; over a limit:
  HTTP 429 ``{"success": false, "error": {"code": 429, "message": "Too Many Requests"}}``.

Control calls, under ``/_emulator/hr/personio/`` (errors in the control API's own format):

- ``POST employees``: a JSON list (or ``{"employees": [...]}``) of flat employees in
  Personio's attribute names (``first_name``, ``email``, ``status``, ``supervisor`` as the
  supervisor's id, ``department``/``office``/``team``/``subcompany`` as a name or
  ``{"id", "name"}``, ``cost_centers`` as a list of those, dates as ``YYYY-MM-DD``,
  ``dynamic_<n>`` custom values), upserted by ``id`` (none: a new id). Each attribute whose
  value changes is stamped with the emulator's time (``updated_since`` reads the stamps);
  ``null`` clears one. Answers ``{"employees": [flat, with id, created_at, last_modified_at]}``.
- ``GET employees``: the same flat view of everyone. ``DELETE employees/{id}``: gone.
- ``POST custom-attributes``: a list of ``{"key": "dynamic_<n>", "label", "type",
  "universal_id", "options"}`` defining (or redefining) custom attributes.
- ``GET credentials``; ``POST credentials`` ``{"client_id", "client_secret", "scopes":
  ["employees:read"], "attributes": [...] or null}`` adds or replaces a credential (its
  ``attributes`` are the only ones it may read; ``id`` always), ``{"client_id", "revoke":
  true}`` removes it and its tokens. A credential without ``employees:read`` gets 403.
- ``GET limits``; ``POST limits`` ``{"employees_per_minute", "employees_per_second",
  "auth_per_minute", "auth_cooldown", "global_per_minute"}`` (any of them; null: no limit).
- ``POST faults``: one or a list of ``{"mode", "count": 1, "endpoint": "*"}``, replacing those
  waiting. Modes: ``truncate`` (the next list answers hold fewer records than their metadata
  counts), ``error_500``, ``throttle`` (429 as a rate limit answers), ``expire_tokens`` (every
  token issued so far expires now). Endpoints: ``auth``, ``employees.list``,
  ``employees.get``, ``attributes``; ``*`` is every one but ``auth``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict
from typing import Any

from hrsync.emulator.core import EmuRequest, EmuResponse, ZohoError, require
from hrsync.emulator.hr.personio_access import (
    READ_SCOPE,
    Access,
    Faults,
    Limits,
    PersonioError,
    RateLimiter,
    throttle_headers,
)
from hrsync.emulator.hr.personio_listing import (
    Reading,
    attributes,
    get_employee,
    list_employees,
    readable,
)
from hrsync.emulator.hr.personio_people import Company, CustomAttribute
from hrsync.emulator.variants import Variant

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "personio-rotating-token",
        None,
        "a token from /v1/auth is stable for 24 hours and may be used for any number of calls; "
        "each successful answer carries the same token in its Authorization header",
        "a token serves one call: it is refused (403) once used, and each successful answer "
        "carries the next one in its Authorization header (an unsuccessful one carries none)",
        "Personio's auth reference as long published ('can be used for only one request and is "
        "blacklisted immediately after its use'); the changelog 'Authentication API - Improved "
        "bearer token' replaced it with stable papi- tokens; at-gmbh/personio-py rotates",
    ),
    Variant(
        "personio-offset-page",
        None,
        "offset counts records: offset=k starts at the k-th employee; current_page is "
        "offset // limit",
        "offset is a page number from 1 (0 is read as 1) and current_page is that number",
        "personio/api-docs pull requests #82 and #139 (time-offs: offset is a 1-based page), "
        "#140 (a reviewer believed employees' offset a page number); the document and the "
        "pagination guide say record offset",
    ),
    Variant(
        "personio-updated-since-paged",
        None,
        "with updated_since, limit and offset are ignored: every matching employee in one "
        "answer (total_pages 1)",
        "updated_since answers are paged by limit and offset like any other",
        "personio/api-docs pull request #170 (paged, default limit 200); the document's own "
        "examples of updated_since show limit 1 and one page per employee",
    ),
    Variant(
        "personio-limit-capped",
        None,
        "a limit over 100 is refused: HTTP 400 'The limit must be between 1 and 100.'",
        "a limit over 100 is served as 100 (the answer's limit says 100)",
        "the pagination guide says the maximum 'will be reduced from 200 to 100' and does not "
        "say how a larger one is answered; personio/api-docs #180 saw 200 refused",
    ),
    Variant(
        "personio-bad-token-401",
        None,
        "a token that is unknown, expired or used up: HTTP 403 'Provided authorization is not "
        "valid' (no token at all: 401)",
        "HTTP 401 with the same body, as RFC 6750 answers an invalid token",
        "the document's 401 and 403 responses (components.responses), used by the attendance "
        "calls; the employee calls document neither",
    ),
    Variant(
        "personio-supervisor-id-only",
        None,
        "a supervisor is an Employee object with id, first_name, last_name and email (the "
        "document's ShortEmployee schema)",
        "a supervisor is an Employee object with its id only",
        "the document's example of GET /company/employees shows the supervisor's id only",
    ),
    Variant(
        "personio-ratelimit-headers",
        None,
        "a throttled answer is HTTP 429 with Personio's error body and no header saying when "
        "to retry (Personio documents none; its advice is to wait at least a second)",
        "it also carries Retry-After and X-RateLimit-Limit/-Remaining/-Reset",
        "the changelog 'Rate Limits on GET Employees endpoint' names no header; other HR "
        "vendors' APIs send these",
    ),
)

ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), endpoint)
    for method, pattern, endpoint in (
        ("POST", r"^/v1/auth/?\Z", "auth"),
        ("GET", r"^/v1/company/employees/?\Z", "employees.list"),
        ("GET", r"^/v1/company/employees/(?:custom-)?attributes/?\Z", "attributes"),
        ("GET", r"^/v1/company/employees/([^/]+)/?\Z", "employees.get"),
    )
)
CUSTOM_TYPES = ("standard", "date", "integer", "decimal", "list", "link", "tags", "multiline")


class Api:
    """One Personio company: its employees, credentials, tokens, limits and faults."""

    name = "personio"

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.company = Company()
        self.access = Access(seed)
        self.limits = Limits()
        self.limiter = RateLimiter(self.limits)
        self.faults = Faults()
        self.calls: dict[str, int] = defaultdict(int)
        self.apps: dict[str, int] = defaultdict(int)

    def handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        try:
            return self._answer(req, path, now, variants)
        except PersonioError as err:
            response = err.response()
            if "personio-ratelimit-headers" not in variants:
                for name in ("retry-after", *(h for h in err.headers if h.startswith("x-rate"))):
                    response.headers.pop(name, None)
            return response

    def _answer(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        endpoint, args = _route(req.method, path)
        self.calls[endpoint] += 1
        self._count_app(req)
        self.limiter.admit([("global", "ip", self.limits.global_per_minute, 60.0)], now)
        if endpoint == "auth":
            self.limiter.admit([("auth", "ip", self.limits.auth_per_minute, 60.0)], now)
            self._fault("auth")
            rotating = "personio-rotating-token" in variants
            return self.access.authenticate(req, now, rotating=rotating)
        refused_with = 401 if "personio-bad-token-401" in variants else 403
        token, credential = self.access.check(req, now, refused_with=refused_with)
        if READ_SCOPE not in credential.scopes:
            raise PersonioError(403, "The API credentials do not grant employees:read.")
        if endpoint == "employees.list":
            per_minute, per_second = (
                self.limits.employees_per_minute,
                self.limits.employees_per_second,
            )
            who = credential.client_id
            self.limiter.admit(
                [("employees", who, per_minute, 60.0), ("employees.burst", who, per_second, 1.0)],
                now,
            )
        fault = self._fault(endpoint)
        keys = readable(self.company, credential.attributes)
        body = self._read(endpoint, req, args, keys, _reading(variants), fault == "truncate")
        header = self.access.next_header(token, now)
        return EmuResponse(200, body, {"authorization": header})

    def _read(
        self,
        endpoint: str,
        req: EmuRequest,
        args: tuple[str, ...],
        keys: list[str],
        reading: Reading,
        truncate: bool,
    ) -> dict[str, Any]:
        if endpoint == "employees.list":
            query = req.query_pairs or list(req.query.items())
            return list_employees(
                self.company, query, keys=keys, reading=reading, truncate=truncate
            )
        if endpoint == "employees.get":
            return get_employee(self.company, args[0], keys=keys, reading=reading)
        return attributes(self.company, keys)

    def _fault(self, endpoint: str) -> str | None:
        """Answer as the waiting fault says (error_500, throttle), or name it (truncate)."""
        mode = self.faults.take(endpoint)
        if mode == "error_500":
            raise PersonioError(500, "Internal Server Error")
        if mode == "throttle":
            self.limiter.throttled["fault"] += 1
            raise PersonioError(429, "Too Many Requests", headers=throttle_headers(1, 1.0))
        return mode

    def _count_app(self, req: EmuRequest) -> None:
        partner = req.headers.get("x-personio-partner-id")
        app = req.headers.get("x-personio-app-id")
        if partner or app:
            self.apps[f"{partner or '-'}/{app or '-'}"] += 1

    def control(self, req: EmuRequest, path: str, now: float) -> EmuResponse:
        key = (req.method, path.strip("/"))
        if key == ("POST", "employees"):
            body = req.json()
            records = body.get("employees") if isinstance(body, dict) else body
            changed = self.company.upsert(records, now)
            return EmuResponse(200, {"employees": [self.company.flat(e) for e in changed]})
        if key == ("GET", "employees"):
            return EmuResponse(200, {"employees": self._everyone()})
        if req.method == "DELETE" and key[1].startswith("employees/"):
            return EmuResponse(200, self._delete(key[1].removeprefix("employees/")))
        if key == ("POST", "custom-attributes"):
            return EmuResponse(200, {"custom_attributes": self._define(req.json())})
        if key == ("GET", "credentials"):
            return EmuResponse(200, {"credentials": self.access.view()})
        if key == ("POST", "credentials"):
            self.access.configure(req.json())
            return EmuResponse(200, {"credentials": self.access.view()})
        if key == ("GET", "limits"):
            return EmuResponse(200, {"limits": asdict(self.limits)})
        if key == ("POST", "limits"):
            self.limits.configure(req.json())
            return EmuResponse(200, {"limits": asdict(self.limits)})
        if key == ("POST", "faults"):
            return EmuResponse(200, {"faults": self._configure_faults(req.json(), now)})
        raise ZohoError(404)

    def _everyone(self) -> list[dict[str, Any]]:
        people = sorted(self.company.employees.values(), key=lambda e: e.id)
        return [self.company.flat(e) for e in people]

    def _delete(self, ident: str) -> dict[str, Any]:
        number = int(ident) if ident.isascii() and ident.isdigit() and len(ident) < 19 else None
        if number is None or self.company.employees.pop(number, None) is None:
            raise ZohoError(404, "not_found", f"No employee {ident}")
        return {"deleted": number}

    def _define(self, body: Any) -> list[dict[str, Any]]:
        items = body if isinstance(body, list) else [body]
        for item in items:
            require(isinstance(item, dict), "invalid_attribute", "Each is an object.")
            key, kind = item.get("key", ""), item.get("type", "standard")
            require(
                isinstance(key, str) and bool(re.match(r"^dynamic_\d+\Z", key)),
                "invalid_attribute",
                "key: dynamic_<number>",
            )
            require(kind in CUSTOM_TYPES, "invalid_attribute", f"type: {CUSTOM_TYPES}")
            options = item.get("options") or []
            require(isinstance(options, list), "invalid_attribute", "options: a list")
            universal = item.get("universal_id")
            self.company.custom[key] = CustomAttribute(
                key,
                str(item.get("label") or key),
                kind,
                None if universal is None else str(universal),
                [str(o) for o in options],
            )
        return [asdict(c) for c in self.company.custom.values()]

    def _configure_faults(self, body: Any, now: float) -> list[dict[str, Any]]:
        faults = self.faults.configure(body)
        if any(f.mode == "expire_tokens" for f in faults):
            self.access.expire_all(now)
            self.faults.injected["expire_tokens"] += 1
        return [asdict(f) for f in faults]

    def state(self) -> dict[str, Any]:
        return {
            "employees": self._everyone(),
            "custom_attributes": [asdict(c) for c in self.company.custom.values()],
            "credentials": [
                {k: v for k, v in c.items() if k != "client_secret"} for c in self.access.view()
            ],
            "limits": asdict(self.limits),
        }

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "throttled": dict(self.limiter.throttled),
            "faults_injected": dict(self.faults.injected),
            "tokens_issued": self.access.issued,
            "tokens_refused": self.access.refused,
            "apps": dict(self.apps),
        }


def _route(method: str, path: str) -> tuple[str, tuple[str, ...]]:
    """The endpoint for this method and path; else 404, or 405 naming the path's methods."""
    allowed = []
    for route_method, pattern, endpoint in ROUTES:
        found = pattern.match(path)
        if found:
            if route_method == method:
                return endpoint, found.groups()
            allowed.append(route_method)
            break  # the first template a path matches is its template
    if not allowed:
        raise PersonioError(404, "Not Found")
    raise PersonioError(405, "Method Not Allowed", headers={"allow": ", ".join(allowed)})


def _reading(variants: frozenset[str]) -> Reading:
    return Reading(
        offset_is_page="personio-offset-page" in variants,
        since_paged="personio-updated-since-paged" in variants,
        limit_capped="personio-limit-capped" in variants,
        boss_id_only="personio-supervisor-id-only" in variants,
    )
