"""Schemathesis drives the emulator's BambooHR from BambooHR's own OpenAPI document
(``../shared/external/hr-apis/bamboohr/public.yaml``), restricted to the operations the
emulator serves: the BambooHR phase of ``tests/fuzz_emulator.py``.

The emulator is reset, an API key registered for the company ``acme`` with a few employees,
and the rate limit lifted (BambooHR publishes none; a throttled answer here would only measure
the fuzzer's speed). Every request carries the key as HTTP Basic, as BambooHR's ``basic``
scheme says, whatever security the operation lists.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import schemathesis
import yaml
from schemathesis.engine import from_schema

from tests.fuzz_emulator import SHARED, Harness, _plain, _record, schema_config
from tests.fuzz_findings import Tally

DOCUMENT = SHARED / "external" / "hr-apis" / "bamboohr" / "public.yaml"
SERVED = {  # path -> the methods the emulator serves there
    "/api/v1/employees": ("get",),
    "/api/v1/employees/changed": ("get",),
    "/api/v1/employees/directory": ("get",),
    "/api/v1/employees/{id}": ("get",),
    "/api/v1/reports/custom": ("post",),
    "/api/v1/meta/fields": ("get",),
}
KEY = "fuzz-key"
COMPANY = "acme"


def restricted(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """The document with only the served operations, aimed at the loopback emulator."""
    doc = _plain(doc)
    doc["paths"] = {
        path: {m: op for m, op in doc["paths"][path].items() if m in methods}
        for path, methods in SERVED.items()
    }
    doc["servers"] = [{"url": f"{base}/bamboohr/{COMPANY}"}]
    doc.pop("webhooks", None)
    return doc


def prepare(harness: Harness) -> None:
    """A fresh emulator: the key, a few employees, no rate limit."""
    harness.control("POST", "reset")
    harness.control("POST", "hr/bamboohr/keys", json={"key": KEY, "company": COMPANY})
    people = [
        {"firstName": f"F{n}", "lastName": f"L{n}", "workEmail": f"p{n}@acme.example"}
        for n in range(1, 6)
    ]
    harness.control("POST", "hr/bamboohr/employees", json=people)
    harness.control("POST", "hr/bamboohr/limits", json={"per_minute": None})


def run_bamboohr(
    harness: Harness, *, max_examples: int, phases: tuple[str, ...], seed: int
) -> Tally:
    """The BambooHR phase: Schemathesis over the served operations into a new tally."""
    tally = Tally("bamboohr")
    prepare(harness)
    before = harness.control("GET", "stats").get("unexpected_errors", 0)
    config = schema_config(max_examples=max_examples, phases=phases, seed=seed)
    schema = schemathesis.openapi.from_dict(
        restricted(yaml.safe_load(DOCUMENT.read_text()), harness.base), config=config
    )
    schema.config.update(base_url=f"{harness.base}/bamboohr/{COMPANY}")
    basic = "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode()

    class ApiKey:
        def get(self, case: Any, context: Any) -> str:
            return basic

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    schema.auth(refresh_interval=None)(ApiKey)

    def after_call(context: Any, case: Any, response: Any) -> None:
        tally.answer(case.method, case.formatted_path, response.status_code, response.text)

    schema.hooks.register_hook_with_name(after_call, "after_call")
    for event in from_schema(schema).execute():
        _record(event, tally, "bamboohr")
    stats = harness.control("GET", "stats")
    tally.throttled = sum(stats["hr"]["bamboohr"]["throttled"].values())
    tally.unexpected = stats.get("unexpected_errors", 0) - before
    return tally


def available() -> bool:
    return Path(DOCUMENT).is_file()
