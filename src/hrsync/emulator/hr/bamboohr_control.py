"""The BambooHR emulator's control calls (``/_emulator/hr/bamboohr/``): its companies and
their employees, API keys, and faults. The shapes are listed in ``bamboohr``'s docstring."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.hr.bamboohr_data import Company
from hrsync.emulator.hr.bamboohr_wire import BambooError

DEFAULT_COMPANY = "acme"
ACCESS = ("full", "none")
MODES = ("truncate", "error_500", "throttle", "slow")
STYLES = ("drop", "end")


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """An API key: its company, whether it may read, and the employee it belongs to."""

    key: str
    company: str
    access: str = "full"
    employee_id: str | None = None


@dataclass
class Fault:
    """Fail the next ``count`` matching calls in ``mode``."""

    mode: str
    endpoint: str = "*"
    count: int = 1
    style: str = "drop"  # truncate: drop a record ("drop") or end the cursor chain ("end")
    retry_after: int = 30  # throttle: seconds in Retry-After
    delay: float = 2.0  # slow: seconds the answer is held back


class Controls:
    """Companies, keys and faults, and the control calls that change them."""

    def __init__(self) -> None:
        self.companies: dict[str, Company] = {}
        self.keys: dict[str, KeyGrant] = {}
        self.faults: list[Fault] = []
        self.injected: dict[str, int] = {}

    def company(self, name: str) -> Company:
        return self.companies.setdefault(name, Company())

    def pick(self, endpoint: str, *, truncating: bool) -> Fault | None:
        """The fault that fires on this call, if any (a truncation only on a listing)."""
        for fault in self.faults:
            if fault.count <= 0 or fault.endpoint not in ("*", endpoint):
                continue
            if fault.mode == "truncate" and not truncating:
                continue
            fault.count -= 1
            self.injected[fault.mode] = self.injected.get(fault.mode, 0) + 1
            return fault
        return None

    def handle(self, req: EmuRequest, path: str, now: float) -> EmuResponse:
        parts = path.strip("/").split("/")
        company = self.company(req.query.get("company") or DEFAULT_COMPANY)
        match (req.method, parts):
            case ("POST", ["employees"]):
                return EmuResponse(200, {"ids": company.upsert(self._records(req), now)})
            case ("GET", ["employees"]):
                return EmuResponse(200, company.state())
            case ("DELETE", ["employees", emp_id]):
                if not company.delete(emp_id, now):
                    raise BambooError(404, f"no employee {emp_id}")
                return EmuResponse(200, {"deleted": emp_id})
            case ("POST", ["keys"]):
                return EmuResponse(200, asdict(self._register(req)))
            case ("DELETE", ["keys", key]):
                if self.keys.pop(key, None) is None:
                    raise BambooError(404, "no such key")
                return EmuResponse(200, {"revoked": key})
            case ("POST", ["faults"]):
                self.faults = self._faults(req)
                return EmuResponse(200, {"faults": [asdict(f) for f in self.faults]})
        raise BambooError(404, f"no control call {req.method} {path}")

    @staticmethod
    def json_object(req: EmuRequest) -> dict[str, Any]:
        body = _json(req)
        if not isinstance(body, dict):
            raise BambooError(400, "expected a JSON object")
        return body

    @staticmethod
    def _records(req: EmuRequest) -> list[dict[str, Any]]:
        body = _json(req)
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise BambooError(400, "expected a JSON list of employee objects")
        return body

    def _register(self, req: EmuRequest) -> KeyGrant:
        body = self.json_object(req)
        key, access = body.get("key"), body.get("access", "full")
        if not isinstance(key, str) or not key or access not in ACCESS:
            raise BambooError(400, 'give {"key", "company", "access": "full" or "none"}')
        company = str(body.get("company") or DEFAULT_COMPANY)
        employee = body.get("employee_id")
        grant = KeyGrant(key, company, access, None if employee is None else str(employee))
        self.keys[key] = grant
        self.company(company)
        return grant

    @staticmethod
    def _faults(req: EmuRequest) -> list[Fault]:
        body = _json(req)
        items = body if isinstance(body, list) else [body]
        faults = []
        for item in items:
            if not isinstance(item, dict) or item.get("mode") not in MODES:
                raise BambooError(400, f"a fault is {{mode: {' | '.join(MODES)}, ...}}")
            if item.get("style", "drop") not in STYLES:
                raise BambooError(400, "a truncation's style is drop or end")
            try:
                faults.append(
                    Fault(
                        mode=item["mode"],
                        endpoint=str(item.get("endpoint", "*")),
                        count=int(item.get("count", 1)),
                        style=str(item.get("style", "drop")),
                        retry_after=int(item.get("retry_after", 30)),
                        delay=float(item.get("delay", 2.0)),
                    )
                )
            except (TypeError, ValueError):
                raise BambooError(400, "count, retry_after and delay are numbers") from None
        return faults


def _json(req: EmuRequest) -> Any:
    try:
        return json.loads(req.body or b"null")
    except ValueError:
        raise BambooError(400, "the body is not JSON") from None
