"""BambooHR's API as BambooHR documents it (its OpenAPI document ``public.yaml`` and public
reference; behaviour by behaviour in ``docs/readings/bamboohr.md``), under ``/bamboohr/``.

A client's base URL is ``http://HOST:PORT/bamboohr/{companyDomain}``; the paths follow the
document (``/api/v1/...``). BambooHR's older gateway form reaches the same endpoints:
``/bamboohr/api/gateway.php/{companyDomain}/v1/...``. Served, read-only:

- ``GET /api/v1/employees`` (list-employees): ``filter[ids]``, ``filter[status]``,
  ``filter[firstName|lastName|jobTitleName]``, ``sort``, ``fields``, ``page[limit]`` (1..2500,
  250 by default), ``page[after]``/``page[before]``; answers ``{data, meta: {total, page:
  {limit, nextCursor, prevCursor}}, _links: {self, next?, prev?}}``; 400 ``BadRequest`` or
  ``BadPage`` as ``{"error": {"code", "message"}}``. JSON only.
- ``GET /api/v1/employees/changed?since=&type=``: ``{latest, employees: {id: {id, action,
  lastChanged}}}``, action Inserted, Updated or Deleted.
- ``GET /api/v1/employees/directory``, ``GET /api/v1/employees/{id}?fields=``,
  ``GET /api/v1/meta/fields``: XML unless ``Accept: application/json``.
- ``POST /api/v1/reports/custom?format=json`` (``{"title", "fields": [...], "filters":
  {"lastChanged": {"value"}, "employeeIds": [...]}}``): every employee, active or not.

Authentication: HTTP Basic, the API key as the user name and any password. No or an unknown
key (or another company's): 401; a key whose access is ``none``: 403. Each key may make
``per_minute`` calls in a rolling minute (100 by default; BambooHR publishes no number); the
call over it gets 429 with ``Retry-After`` (seconds) — 503 under bamboohr-throttle-503. Errors
carry BambooHR's ``X-BambooHR-Error-Message`` header.

Control calls, under ``/_emulator/hr/bamboohr/`` (``?company=`` chooses the company; ``acme``
when omitted):

- ``POST employees`` ``[{"id"?, "firstName", ...}]`` in BambooHR's field names: upserted by
  ``id`` (none: a new id), each one's lastChanged set to now; answers ``{"ids": [...]}``.
  ``DELETE employees/{id}`` deletes and remembers it (Deleted in /employees/changed);
  ``GET employees`` answers ``{"employees": [...], "deleted": {id: time}}``.
- ``POST keys`` ``{"key", "company", "access": "full"|"none", "employee_id"?}`` registers or
  changes an API key (``employee_id``: whom ``GET /employees/0`` means); ``DELETE keys/{key}``.
- ``POST limits`` ``{"per_minute": N or null}``: calls per key per rolling minute (null: none).
- ``POST faults`` — an object, a list of them, or ``[]`` to clear: ``{"mode", "count": 1,
  "endpoint": "*"}`` where mode is ``truncate`` (the next employees.list, employees.directory
  or reports.custom answer drops its last record yet declares the full total and a cursor past
  it; ``"style": "end"`` instead ends the list's cursor chain on this page), ``error_500``,
  ``throttle`` (the throttled answer, ``"retry_after"`` seconds, 30 by default) or ``slow``
  (the answer held back ``"delay"`` seconds). Endpoints: employees.list, employees.changed,
  employees.directory, employees.get, reports.custom, meta.fields.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.hr import bamboohr_read as read
from hrsync.emulator.hr.bamboohr_control import Controls, Fault, KeyGrant
from hrsync.emulator.hr.bamboohr_data import Company
from hrsync.emulator.hr.bamboohr_wire import BambooError
from hrsync.emulator.variants import Variant

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "bamboohr-throttle-503",
        None,
        "a call over the rate limit gets HTTP 429 with Retry-After (BambooHR's answer since "
        "2026-09-16)",
        "HTTP 503 Service Unavailable with Retry-After, as before that date",
        "BambooHR's Technical Overview ('be ready for a 503 Service Unavailable') and its "
        "'Planned Changes to the API' page (503 becomes 429 from 2026-09-16)",
    ),
    Variant(
        "bamboohr-json-by-default",
        None,
        "employees/{id}, employees/changed, employees/directory and meta/fields answer XML "
        "unless Accept names application/json",
        "they answer JSON unless Accept names only an XML type",
        "public.yaml's list-users ('omit the header ... to receive XML') against its other "
        "endpoints, which list application/json first and say nothing of a default",
    ),
    Variant(
        "bamboohr-page-limit-100",
        None,
        "list-employees takes page[limit] from 1 to 2500, 250 by default "
        "(EmployeeCursorPaginationQueryObject)",
        "page[limit] from 1 to 100, 50 by default; more is BadRequest",
        "public.yaml: EmployeeCursorPaginationQueryObject is allOf the generic "
        "CursorPaginationQueryObject, whose limit is at most 100 (default 50)",
    ),
    Variant(
        "bamboohr-changed-omits-deleted",
        None,
        "employees/changed without type lists Inserted, Updated and Deleted",
        "without type it lists only Inserted and Updated; deletions need type=deleted (or all)",
        "public.yaml says 'If omitted, all change types are returned'; clients that ask "
        "type=deleted separately suggest the other reading (weak)",
    ),
    Variant(
        "bamboohr-list-oauth-only",
        None,
        "list-employees takes an API key (HTTP Basic) like every other endpoint",
        "list-employees refuses an API key with 401: its security lists only OAuth scopes; "
        "the directory, the custom report and Get Employee still take the key",
        "public.yaml: list-employees' security has no `basic` entry, unlike the older endpoints",
    ),
)
DEFAULT_PER_MINUTE = 100
WINDOW = 60.0
LISTS = frozenset({"employees.list", "employees.directory", "reports.custom"})
Handler = Callable[..., EmuResponse]
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (m, re.compile(p + r"/?\Z"), e, h)
    for m, p, e, h in (
        ("GET", r"employees", "employees.list", read.list_employees),
        ("GET", r"employees/changed", "employees.changed", read.changed),
        ("GET", r"employees/directory", "employees.directory", read.directory),
        ("GET", r"employees/([^/]+)", "employees.get", read.get_employee),
        ("POST", r"reports/custom", "reports.custom", read.custom_report),
        ("GET", r"meta/fields", "meta.fields", read.meta_fields),
    )
]
COMPANY_PATH = re.compile(r"/([^/]+)/api/v1/(.*)\Z")
GATEWAY_PATH = re.compile(r"/api/gateway\.php/([^/]+)/v1/(.*)\Z")


@dataclass(frozen=True, slots=True)
class Target:
    company: str
    endpoint: str
    handler: Handler
    args: tuple[str, ...]


class Api:
    """One BambooHR: companies, API keys, a per-key rate limit, faults, and its answers."""

    name = "bamboohr"

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.controls = Controls()
        self.per_minute: int | None = DEFAULT_PER_MINUTE
        self._window: dict[str, deque[float]] = defaultdict(deque)
        self.calls: dict[str, int] = defaultdict(int)
        self.throttled: dict[str, int] = defaultdict(int)
        self.refused: dict[str, int] = defaultdict(int)  # 401 / 403 answers

    def handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        try:
            return self._handle(req, path, now, variants)
        except BambooError as err:
            return err.response()

    def _handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        target = self._route(req.method, path)
        grant = self._authorise(req, target, variants)
        self.calls[target.endpoint] += 1
        self._admit(req, grant, target.endpoint, now, variants)
        fault = self.controls.pick(target.endpoint, truncating=target.endpoint in LISTS)
        if fault is not None and fault.mode in ("error_500", "throttle"):
            return self._refusal(fault, target.endpoint, variants)
        call = read.Call(
            req,
            self.controls.company(target.company),
            now,
            variants,
            base_url=_base_url(req),
            own_employee=grant.employee_id,
            truncate=fault.style if fault is not None and fault.mode == "truncate" else None,
        )
        response = target.handler(call, *target.args)
        if fault is not None and fault.mode == "slow":
            response = EmuResponse(response.status, response.body, response.headers, fault.delay)
        return response

    def _route(self, method: str, path: str) -> Target:
        found = COMPANY_PATH.match(path) or GATEWAY_PATH.match(path)
        if found is None:
            raise BambooError(404, "Not found.")
        company, rest = found.groups()
        allowed: list[str] = []
        for route_method, pattern, endpoint, handler in ROUTES:
            matched = pattern.match(rest)
            if matched is None:
                continue
            if route_method == method:
                return Target(company, endpoint, handler, matched.groups())
            allowed.append(route_method)
        if allowed:
            raise BambooError(405, "Method not allowed.", headers={"allow": ", ".join(allowed)})
        raise BambooError(404, "Not found.")

    def _authorise(self, req: EmuRequest, target: Target, variants: frozenset[str]) -> KeyGrant:
        key = _basic_user(req.headers.get("authorization", ""))
        grant = self.controls.keys.get(key or "")
        if grant is None or grant.company != target.company:
            self.refused["401"] += 1
            raise BambooError(
                401, "Invalid API key.", headers={"www-authenticate": 'Basic realm="BambooHR"'}
            )
        if target.endpoint == "employees.list" and "bamboohr-list-oauth-only" in variants:
            self.refused["401"] += 1
            raise BambooError(401, "This endpoint takes OAuth access tokens, not API keys.")
        if grant.access != "full":
            self.refused["403"] += 1
            raise BambooError(403, "The API key does not have access to this resource.")
        return grant

    def _admit(
        self, req: EmuRequest, grant: KeyGrant, endpoint: str, now: float, variants: frozenset[str]
    ) -> None:
        """A rolling minute per key; the call over ``per_minute`` is refused, not counted."""
        if self.per_minute is None:
            return
        calls = self._window[grant.key]
        while calls and calls[0] <= now - WINDOW:
            calls.popleft()
        if len(calls) >= self.per_minute:
            wait = max(1, math.ceil(calls[0] + WINDOW - now))
            self.throttled[endpoint] += 1
            raise _throttled(wait, variants)
        calls.append(now)

    def _refusal(self, fault: Fault, endpoint: str, variants: frozenset[str]) -> EmuResponse:
        if fault.mode == "throttle":
            self.throttled[endpoint] += 1
            return _throttled(fault.retry_after, variants).response()
        return BambooError(500, "Internal server error.").response()

    def control(self, req: EmuRequest, path: str, now: float) -> EmuResponse:
        try:
            if (req.method, path.rstrip("/")) == ("POST", "/limits"):
                return EmuResponse(200, self._set_limits(req))
            return self.controls.handle(req, path, now)
        except BambooError as err:
            return EmuResponse(err.status, {"code": "bad_control_call", "message": err.message})

    def _set_limits(self, req: EmuRequest) -> dict[str, Any]:
        body = self.controls.json_object(req)
        limit = body.get("per_minute", DEFAULT_PER_MINUTE)
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise BambooError(400, "per_minute is a positive integer or null.")
        self.per_minute = limit
        self._window.clear()
        return {"per_minute": self.per_minute}

    def state(self) -> dict[str, Any]:
        return {
            "companies": {n: c.state() for n, c in sorted(self.controls.companies.items())},
            "keys": [asdict(g) for g in self.controls.keys.values()],
            "per_minute": self.per_minute,
        }

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "throttled": dict(self.throttled),
            "refused": dict(self.refused),
            "faults_injected": dict(self.controls.injected),
        }


def _throttled(wait: int, variants: frozenset[str]) -> BambooError:
    status = 503 if "bamboohr-throttle-503" in variants else 429
    return BambooError(status, "Rate limit exceeded.", headers={"retry-after": str(wait)})


def _basic_user(header: str) -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header (BambooHR's API key)."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _base_url(req: EmuRequest) -> str:
    """This request's URL without its query: the list's links start from it."""
    return f"http://{req.headers.get('host', 'localhost')}{req.path}"


__all__ = ["VARIANTS", "Api", "Company"]
