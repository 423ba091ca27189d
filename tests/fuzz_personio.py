"""The fuzz harness's Personio phase: Schemathesis drives the emulator's ``/personio/v1`` from
Personio's personnel-data document (``../shared/external/hr-apis/personio/``), restricted to the
calls the emulator serves (the employee reads), in the default readings and under each
``personio-…`` variant alone.

The emulator is seeded with a few employees first, so the generated ids sometimes hit one.
Tokens come from ``POST /personio/v1/auth`` with the emulator's own credential (``GET
/_emulator/hr/personio/credentials``); they are stable for 24 hours of virtual time and renewed
before. Rate limits stay out of the figures as in the Zoho phases: the harness moves the clock
by a minute every 5 requests, far under Personio's 15 a second and 300 a minute.

A run must find no answer of 500 or more and no request a handler failed on; the other failing
checks must each be one of ``DIFFERENCES``: where the emulator answers as Personio's other
sources say and the document is silent or contradicts itself (docs/readings/personio.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
import yaml
from schemathesis.engine import from_schema

from hrsync.emulator.hr.personio import VARIANTS as PERSONIO_VARIANTS
from tests.fuzz_emulator import SHARED, Harness, _plain, _record, paced, schema_config
from tests.fuzz_findings import Difference, Tally

SPEC = SHARED / "external" / "hr-apis" / "personio" / "personio-personnel-data-api-oa3.yaml"
# The calls the emulator serves, each with the methods it takes.
SERVED = {
    "/company/employees": ("get",),
    "/company/employees/{employee_id}": ("get",),
    "/company/employees/attributes": ("get",),
    "/company/employees/custom-attributes": ("get",),
}
TOKEN_RENEWAL = 80000.0  # virtual seconds; Personio's tokens live 86400
# Every relationship set: the document types each one's value as an object and is silent on an
# unset one (the emulator answers null there: readings #16).
SEEDED = [
    {
        "id": n,
        "first_name": f"F{n}",
        "last_name": f"L{n}",
        "email": f"p{n}@example.com",
        "status": "active",
        "department": "Sales",
        "office": "Munich",
        "team": "T",
        "subcompany": "S",
        "cost_centers": ["CC"],
        "supervisor": 2 if n == 1 else 1,
        "hire_date": "2020-01-01",
    }
    for n in (1, 2, 3)
]

DIFFERENCES = (
    Difference(
        "status_code_conformance",
        r"personio: GET .*",
        "the employee reads document only 200 (and 404 for one employee); errors come as "
        "Personio's other calls document them (401, 403) and as its developer site says "
        "(400 for a limit over 100, 429 over a rate limit): readings #5, #7, #23",
    ),
    Difference(
        "positive_data_acceptance",
        r"personio: GET /company/employees.*",
        "the document bounds neither limit nor updated_since's text, nor employee ids to "
        "existing ones: a limit over 100 (readings #7), an updated_since that is no date "
        "(#11) and an unknown id (#21) are refused as Personio does",
    ),
    Difference(
        "negative_data_rejection",
        r"personio: GET .*",
        "query parameters the document does not name, and attributes[] values it does not "
        "list, are ignored, as Personio ignores them (readings #14)",
    ),
    Difference(
        "response_schema_conformance",
        r"personio: GET /company/employees",
        "EmployeesResponse is allOf Response (data: an object) and data: an array, which no "
        "answer can satisfy; the document's own example has an array",
        said=r"is not of type .object.",
    ),
)


def configurations() -> list[tuple[str, list[str]]]:
    """The default readings, then each Personio variant alone."""
    return [("personio", []), *((v.name, [v.name]) for v in PERSONIO_VARIANTS)]


def prepared(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """The document aimed at the loopback emulator, with only the calls it serves."""
    doc = _plain(doc)
    doc["servers"] = [{"url": f"{base}/personio/v1"}]
    doc["paths"] = {
        path: {
            key: value
            for key, value in doc["paths"][path].items()
            if key == "parameters" or key in methods
        }
        for path, methods in SERVED.items()
    }
    return doc


class Token:
    """A Personio bearer token of the emulator's own credential, renewed before it expires."""

    def __init__(self, harness: Harness, *, one_time: bool = False) -> None:
        self.harness = harness
        self.one_time = one_time  # personio-rotating-token: a token serves one call
        self.value = ""
        self.issued_at = 0.0

    def age(self) -> float:
        return self.harness.sent // 5 * 60.0 - self.issued_at

    def get(self, case: Any, context: Any) -> str:
        if self.one_time or not self.value or self.age() >= TOKEN_RENEWAL:
            credential = self.harness.control("GET", "hr/personio/credentials")["credentials"][0]
            body = {k: credential[k] for k in ("client_id", "client_secret")}
            answer = self.harness.http.post(f"{self.harness.base}/personio/v1/auth", json=body)
            answer.raise_for_status()
            self.value = answer.json()["data"]["token"]
            self.issued_at = self.harness.sent // 5 * 60.0
        return self.value

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def fuzz(
    harness: Harness,
    tally: Tally,
    *,
    max_examples: int,
    phases: tuple[str, ...],
    seed: int,
    one_time_tokens: bool = False,
    spec: Path = SPEC,
) -> None:
    """Run Schemathesis's engine over the served part of Personio's document into ``tally``."""
    config = schema_config(max_examples=max_examples, phases=phases, seed=seed)
    doc = prepared(yaml.safe_load(spec.read_text(encoding="utf-8")), harness.base)
    schema = schemathesis.openapi.from_dict(doc, config=config)
    schema.config.update(base_url=f"{harness.base}/personio/v1")
    token = Token(harness, one_time=one_time_tokens)

    class PersonioToken:
        def get(self, case: Any, context: Any) -> str:
            return token.get(case, context)

        def set(self, case: Any, data: str, context: Any) -> None:
            token.set(case, data, context)

    schema.auth(refresh_interval=None)(PersonioToken)

    def after_call(context: Any, case: Any, response: Any) -> None:
        tally.answer(case.method, case.formatted_path, response.status_code, response.text)

    schema.hooks.register_hook_with_name(after_call, "after_call")
    for event in from_schema(schema).execute():
        _record(event, tally, "personio")


def run_configuration(
    harness: Harness,
    name: str,
    variants: list[str],
    *,
    max_examples: int,
    phases: tuple[str, ...],
    seed: int,
) -> Tally:
    """A new emulator playing ``variants``, seeded with a few employees, then fuzzed."""
    tally = Tally(name)
    harness.configure(variants)
    harness.control("POST", "hr/personio/employees", json=SEEDED)
    _, unexpected_before = harness.stats()
    with paced(harness):
        one_time = "personio-rotating-token" in variants
        fuzz(
            harness,
            tally,
            max_examples=max_examples,
            phases=phases,
            seed=seed,
            one_time_tokens=one_time,
        )
    stats = harness.control("GET", "stats")
    tally.throttled = sum(stats["hr"]["personio"]["throttled"].values())
    tally.unexpected = stats.get("unexpected_errors", 0) - unexpected_before
    return tally


def unexplained(tally: Tally) -> list[str]:
    """The failing checks none of the Personio differences covers."""
    return [
        f"{check} | {op} | {tally.samples[(check, op)]}"
        for check, ops in sorted(tally.other_failures().items())
        for op in sorted(ops)
        if not any(
            d.covers(check, op, tally.configuration, tally.samples[(check, op)])
            for d in DIFFERENCES
        )
    ]


def report(tallies: list[Tally]) -> str:
    lines = []
    for t in tallies:
        lines.append(
            f"{t.configuration:30} {t.requests:>6} requests, 5xx {t.statuses['5xx']}, throttled "
            f"{t.throttled}, unexpected {t.unexpected}, unexplained {len(unexplained(t))}"
        )
        lines += [f"[{t.configuration}] server error: {e}" for e in t.server_errors]
        lines += [f"[{t.configuration}] engine error: {e}" for e in t.errors]
        lines += [f"[{t.configuration}] unexplained: {e}" for e in unexplained(t)]
    return "\n".join(lines)


def clean(tally: Tally) -> bool:
    return not (
        tally.statuses["5xx"]
        or tally.unexpected
        or tally.throttled
        or tally.errors
        or unexplained(tally)
    )


def run_all(
    harness: Harness, *, wanted: set[str], max_examples: int, phases: tuple[str, ...], seed: int
) -> bool:
    """Every Personio configuration (those in ``wanted`` if any), reported; True if clean."""
    if not SPEC.is_file():
        print(f"Personio's personnel-data document is not at {SPEC}: its phase is skipped")
        return True
    tallies = []
    for name, variants in configurations():
        if wanted and name not in wanted:
            continue
        tally = run_configuration(
            harness, name, variants, max_examples=max_examples, phases=phases, seed=seed
        )
        tallies.append(tally)
    print(report(tallies))
    return all(clean(t) for t in tallies)
