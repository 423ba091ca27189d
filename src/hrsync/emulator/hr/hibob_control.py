"""The HiBob emulator's control calls (``/_emulator/hr/hibob/...``); hibob.py lists them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.hr import hibob_webhooks as webhooks
from hrsync.emulator.hr.hibob_company import SeedError
from hrsync.emulator.hr.hibob_guard import ENDPOINTS, FAULT_MODES, Fault, ServiceUser

if TYPE_CHECKING:
    from hrsync.emulator.hr.hibob import Api


class ControlError(ValueError):
    """A control call refused with 400 (or ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def handle(api: Api, req: EmuRequest, path: str, now: float) -> EmuResponse:
    """Answer one control call."""
    head, _, rest = path.strip("/").partition("/")
    played = req.headers.get("x-emulator-variants", "")
    api.control_variants = frozenset(v for v in played.split(",") if v)
    try:
        answer = _dispatch(api, req.method, head, rest, _body(req), now)
    except (ControlError, SeedError) as err:
        status = err.status if isinstance(err, ControlError) else 400
        return EmuResponse(status, {"error": str(err)})
    return EmuResponse(200, answer)


def _body(req: EmuRequest) -> Any:
    if not req.body:
        return None
    try:
        return json.loads(req.body)
    except ValueError:
        raise ControlError("the body is not JSON") from None


def _dispatch(api: Api, method: str, head: str, rest: str, body: Any, now: float) -> Any:
    if head == "employees":
        return _employees(api, method, rest, body, now)
    if head == "service-users":
        return _service_users(api, method, rest, body)
    if head == "limits" and not rest:
        return _limits(api, method, body)
    if head == "faults" and not rest:
        return _faults(api, method, body)
    if head == "webhooks":
        return _webhooks(api, method, rest, body, now)
    raise ControlError(f"no control call {method} {head}", 404)


def _employees(api: Api, method: str, rest: str, body: Any, now: float) -> Any:
    company = api.company
    if method == "GET" and not rest:
        return {"employees": [company.seeded(e) for e in company.employees.values()]}
    if method == "POST" and not rest:
        given = body.get("employees") if isinstance(body, dict) else body
        if not isinstance(given, list):
            raise ControlError("POST employees takes a JSON list of employees")
        return {"employees": [company.upsert(one, now) for one in given]}
    if method == "DELETE" and rest:
        if not company.delete(rest):
            raise ControlError(f"no employee {rest}", 404)
        return {"deleted": rest}
    raise ControlError(f"no control call {method} employees/{rest}", 404)


def _service_users(api: Api, method: str, rest: str, body: Any) -> Any:
    if method == "GET" and not rest:
        return {"serviceUsers": [u.answer() for u in api.users.values()]}
    if method == "DELETE" and rest:
        user = api.users.get(rest)
        if user is None:
            raise ControlError(f"no service user {rest}", 404)
        user.revoked = True
        return user.answer()
    if method == "POST" and not rest:
        return _upsert_user(api, body).answer()
    raise ControlError(f"no control call {method} service-users/{rest}", 404)


def _upsert_user(api: Api, body: Any) -> ServiceUser:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
        raise ControlError('POST service-users takes {"id", "token", "permissions"}')
    current = api.users.get(body["id"])
    token = body.get("token", current.token if current else None)
    permissions = body.get("permissions", current.permissions if current else ["*"])
    if not isinstance(token, str) or not token:
        raise ControlError("a service user needs a token")
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise ControlError("permissions is a list of category IDs ('*': all)")
    user = ServiceUser(body["id"], token, permissions, bool(body.get("revoked", False)))
    api.users[user.id] = user
    return user


def _limits(api: Api, method: str, body: Any) -> Any:
    per_minute = api.limiter.per_minute
    if method == "POST":
        given = body.get("limits", body) if isinstance(body, dict) else None
        if not isinstance(given, dict):
            raise ControlError('POST limits takes {"people.search": 50, ...}')
        for endpoint, limit in given.items():
            if endpoint not in ENDPOINTS or not isinstance(limit, int) or limit < 1:
                raise ControlError(f"limits are positive numbers for {', '.join(ENDPOINTS)}")
        per_minute.update(given)
    elif method != "GET":
        raise ControlError(f"no control call {method} limits", 404)
    return {"limits": dict(per_minute), "window": 60}


def _faults(api: Api, method: str, body: Any) -> Any:
    faults = api.faults
    if method == "DELETE":
        faults.pending.clear()
    elif method == "POST":
        faults.pending.append(_fault(body))
    elif method != "GET":
        raise ControlError(f"no control call {method} faults", 404)
    return {"faults": [f.answer() for f in faults.pending]}


def _fault(body: Any) -> Fault:
    if not isinstance(body, dict) or body.get("mode") not in FAULT_MODES:
        raise ControlError(f"a fault's mode is one of {', '.join(FAULT_MODES)}")
    count = body.get("count", 1)
    endpoint = body.get("endpoint")
    cut = body.get("cut", "json")
    if not isinstance(count, int) or count < 1:
        raise ControlError("count is a positive number")
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ControlError(f"endpoint is one of {', '.join(ENDPOINTS)}")
    if cut not in ("json", "employees"):
        raise ControlError('cut is "json" or "employees"')
    return Fault(body["mode"], count, endpoint, cut)


def _webhooks(api: Api, method: str, rest: str, body: Any, now: float) -> Any:
    if method == "GET" and not rest:
        return {"secret": api.webhook_secret, "companyId": api.company.company_id}
    if method == "POST" and rest == "deliver":
        return _deliver(api, body, now)
    raise ControlError(f"no control call {method} webhooks/{rest}", 404)


def _deliver(api: Api, body: Any, now: float) -> Any:
    if not isinstance(body, dict):
        raise ControlError('POST webhooks/deliver takes {"type", "employeeIds"}')
    event = body.get("type", "employee.updated")
    ids = body.get("employeeIds")
    if event not in webhooks.EVENTS:
        raise ControlError(f"type is one of {', '.join(webhooks.EVENTS)}")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ControlError("employeeIds is a non-empty list of employee IDs")
    secret = body.get("secret", api.webhook_secret)
    field_ids = body.get("fieldIds", [])
    by = body.get("triggeredBy", "system")
    if not isinstance(secret, str) or not isinstance(by, str) or not isinstance(field_ids, list):
        raise ControlError("secret and triggeredBy are text, fieldIds a list")
    hexadecimal = "hibob-signature-hex" in api.control_variants
    deliveries = [
        webhooks.delivery(
            webhooks.payload(
                api.company.company_id, event, i, now, triggered_by=by, field_ids=field_ids
            ),
            secret,
            hexadecimal=hexadecimal,
        )
        for i in ids
    ]
    return {**deliveries[0], "deliveries": deliveries, "secret": secret}
