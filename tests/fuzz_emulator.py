"""Schemathesis drives the emulator server from Zoho's Cliq OpenAPI documents: the fuzz target.

``make fuzz`` (``python -m tests.fuzz_emulator``) and ``tests/e2e/test_fuzz_emulator.py`` start
``hrsync emulator serve --clock virtual`` on a free loopback port and, for the default readings
and then for each variant of ``hrsync.emulator.variants.VARIANTS`` alone, reset the emulator,
choose the variant, and let Schemathesis generate requests (valid and invalid) from each
document in ``../shared/external/zoho-cliq/openapi/``; then, in a phase of its own
(``tests/fuzz_bamboohr.py``), the emulator's BambooHR from BambooHR's document. Every answer
is counted by status class; an answer of 500 or more is a server error, and every other check
Schemathesis runs is counted by check and operation (``tests/fuzz_findings.py``: what a run
found, and which failing checks are deliberate differences from the documents).

How rate limits are kept out of the figures: the emulator enforces Zoho's per-minute limits,
the lowest 5 a minute (add users). Every 5 requests the harness moves the emulator's virtual
clock on by 60 s, so no (user, endpoint) pair ever sees more than 5 calls in a rolling minute;
a throttled answer is then a bug in the emulator's counting, and the emulator's own count of
throttled calls is printed beside the figures to show it stays 0.

Tokens: a ``client_credentials`` grant of the emulator's pre-registered client (its id and
secret from ``GET /_emulator/clients``), renewed before an hour of virtual time runs out.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import schemathesis
import yaml
from schemathesis.engine import events, from_schema
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from hrsync.emulator.variants import VARIANTS
from tests.fuzz_findings import Tally, clean, details, report

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPECS = SHARED / "external" / "zoho-cliq" / "openapi"
SCOPES = ",".join(
    f"ZohoCliq.{module}.ALL"
    for module in ("Users", "Departments", "Designations", "Profile", "UserFields", "Organisation")
)
PACE_EVERY = 5  # requests between clock moves: the lowest per-minute limit (add users)
TOKEN_RENEWAL = 3000.0  # virtual seconds; access tokens live 3600
PHASES = ("examples", "coverage", "fuzzing", "stateful")
SEED = 20240601  # a run is reproducible: configuration i fuzzes with SEED + i


class Harness:
    """The emulator server as the fuzzer sees it: its control API and a valid token."""

    def __init__(self, base: str, http: httpx.Client) -> None:
        self.base, self.http = base, http
        self.sent = 0
        self._token = ""
        self._token_age = 0.0

    def control(self, method: str, name: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{self.base}/_emulator/{name}", **kwargs)
        answer.raise_for_status()
        return answer.json()

    def configure(self, variants: list[str]) -> None:
        """A brand-new organisation playing ``variants``; its tokens are new too."""
        self.control("POST", "reset")
        self.control("POST", "variants", json={"variants": variants})
        self._token = ""

    def token(self) -> str:
        if not self._token or self._token_age >= TOKEN_RENEWAL:
            client = self.control("GET", "clients")["clients"][0]
            form = {
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "scope": SCOPES,
            }
            answer = self.http.post(f"{self.base}/oauth/v2/token", data=form).json()
            self._token, self._token_age = answer["access_token"], 0.0
        return self._token

    def pace(self) -> None:
        """Called before each request: every PACE_EVERY requests, a minute passes."""
        self.sent += 1
        if self.sent % PACE_EVERY == 0:
            self.control("POST", "clock/advance", params={"seconds": 60})
            self._token_age += 60

    def stats(self) -> tuple[int, int]:
        """(throttled calls since the last reset, handler failures since the server started)."""
        stats = self.control("GET", "stats")
        # .get: an emulator from before the count existed is measured too (the "before" figures)
        return sum(stats["throttled"].values()), stats.get("unexpected_errors", 0)


def documents() -> list[Path]:
    return sorted(SPECS.glob("*.yml"))


def configurations() -> list[tuple[str, list[str]]]:
    """The default readings, then each variant alone (the table is read, not copied)."""
    return [("default", []), *((name, [name]) for name in VARIANTS)]


def prepared(doc: dict[str, Any], base: str) -> dict[str, Any]:
    """The document aimed at the loopback emulator, read where it contradicts itself: each
    path parameter under the name its template uses (some operations declare it under another
    name, ``User ID`` for ``{USER_ID}``, ``DEPARTMENT_ID`` for ``{DESIGNATION_ID}``, or not at
    all), and the permissions update with the body it documents (its request names the role
    update's body; tests/api/test_openapi_conformance.py reads it the same way)."""
    doc = _plain(doc)
    doc["servers"] = [{"url": f"{base}/api/v2"}]
    for template, operations in doc["paths"].items():
        names = re.findall(r"{(\w+)}", template)
        for method, op in operations.items():
            if method != "parameters":
                op["parameters"] = _path_parameters(op.get("parameters", []), names)
    permissions = doc["paths"].get("/profiles/{PROFILE_ID}/permissions", {}).get("put")
    if permissions is not None:
        content = permissions["requestBody"]["content"]["application/json"]
        content["schema"] = {"$ref": "#/components/schemas/UpdatePermissionRequest"}
    return doc


def _plain(node: Any) -> Any:
    """A copy in JSON's types: YAML reads an unquoted example date as a date, which
    Schemathesis cannot send."""
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def _path_parameters(params: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """The operation's parameters with its path ones renamed, in order, to the template's."""
    others = [p for p in params if p.get("in") != "path"]
    declared = [p for p in params if p.get("in") == "path"]
    fixed = []
    for position, name in enumerate(names):
        base = declared[position] if position < len(declared) else {"schema": {"type": "string"}}
        fixed.append({**base, "name": name, "in": "path", "required": True})
    return [*fixed, *others]


def schema_config(*, max_examples: int, phases: tuple[str, ...], seed: int) -> schemathesis.Config:
    """Schemathesis's own configuration: every check, reproducible, nothing written to disk."""
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "workers": 1,  # one organisation, one clock: requests in a known order
            "continue-on-failure": True,
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "database": "none",
            },
            "phases": {name: {"enabled": name in phases} for name in PHASES},
        }
    )


def fuzz_document(
    harness: Harness,
    spec: Path,
    tally: Tally,
    *,
    max_examples: int,
    phases: tuple[str, ...],
    seed: int,
) -> None:
    """Run Schemathesis's engine (as ``st run`` does) over one document into ``tally``."""
    config = schema_config(max_examples=max_examples, phases=phases, seed=seed)
    doc = prepared(yaml.safe_load(spec.read_text()), harness.base)
    schema = schemathesis.openapi.from_dict(doc, config=config)
    schema.config.update(base_url=f"{harness.base}/api/v2")

    class ZohoToken:
        def get(self, case: Any, context: Any) -> str:
            return harness.token()

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Zoho-oauthtoken {data}"}

    schema.auth(refresh_interval=None)(ZohoToken)

    def after_call(context: Any, case: Any, response: Any) -> None:
        tally.answer(case.method, case.formatted_path, response.status_code, response.text)

    schema.hooks.register_hook_with_name(after_call, "after_call")
    for event in from_schema(schema).execute():
        _record(event, tally, spec.stem)


def _record(event: Any, tally: Tally, document: str) -> None:
    if isinstance(event, events.ScenarioFinished):
        recorder = event.recorder
        for case_id, nodes in recorder.checks.items():
            for node in nodes:
                if node.failure_info is not None:
                    failure = node.failure_info.failure
                    operation = f"{document}: {failure.operation or recorder.label}"
                    seen = _exchange(recorder.interactions.get(case_id))
                    said = " / ".join(failure.message.split("\n"))
                    tally.failure(node.name, operation, f"{failure.title}: {said} || {seen}")
    elif isinstance(event, events.NonFatalError):
        tally.errors.append(f"{document}: {event.label}: {event.info.title}: {event.info.message}")
    elif isinstance(event, events.FatalError):
        raise RuntimeError(f"{document}: Schemathesis stopped: {event.exception}") from None


def _exchange(interaction: Any) -> str:
    """One request and its answer, in a line: what a reader needs to judge a failure."""
    if interaction is None:
        return "(no request recorded)"
    request, response = interaction.request, interaction.response
    sent = (request.body or b"")[:160].decode("utf-8", "replace")
    answer = (
        "no answer" if response is None else f"{response.status_code} {response.content[:200]!r}"
    )
    return f"{request.method} {request.uri.split('/api/v2', 1)[-1]} {sent} -> {answer}"


@contextmanager
def paced(harness: Harness) -> Iterator[None]:
    """Every request Schemathesis sends first passes through ``harness.pace``."""

    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        harness.pace()

    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(before_call, "before_call")
    try:
        yield
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)


def run_configuration(
    harness: Harness,
    name: str,
    variants: list[str],
    *,
    max_examples: int,
    phases: tuple[str, ...] = PHASES,
    seed: int = SEED,
) -> Tally:
    """A new organisation playing ``variants``, fuzzed from every document in turn."""
    tally = Tally(name)
    harness.configure(variants)
    _, unexpected_before = harness.stats()
    with paced(harness):
        for spec in documents():
            fuzz_document(harness, spec, tally, max_examples=max_examples, phases=phases, seed=seed)
    tally.throttled, unexpected = harness.stats()
    tally.unexpected = unexpected - unexpected_before
    return tally


# HiBob's Bob API (emulator/hr/hibob.py), fuzzed from HiBob's own document, restricted to the
# operations the emulator serves. Its own phase, apart from Zoho's configurations.
HIBOB_SPEC = SHARED / "external" / "hr-apis" / "hibob" / "openapi.yaml"
HIBOB_SERVED = {
    "/people/search": ("post",),
    "/people/{identifier}": ("get", "post"),
    "/company/people/fields": ("get",),
    "/company/named-lists": ("get",),
    "/company/named-lists/{listName}": ("get",),
}
HIBOB_SEED = [
    {
        "email": "ann@example.com",
        "firstName": "Ann",
        "surname": "Lee",
        "work": {"department": "Engineering", "title": "CTO", "site": "London"},
    },
    {
        "email": "cy@example.com",
        "firstName": "Cy",
        "surname": "Old",
        "work": {"department": "Sales"},
        "internal": {"status": "Inactive"},
    },
]


def hibob_document(base: str) -> dict[str, Any]:
    """HiBob's document with only the operations served, aimed at the emulator."""
    doc = _plain(yaml.safe_load(HIBOB_SPEC.read_text(encoding="utf-8")))
    doc["paths"] = {
        path: {m: op for m, op in doc["paths"][path].items() if m in methods}
        for path, methods in HIBOB_SERVED.items()
    }
    doc["servers"] = [{"url": f"{base}/hibob/v1"}]
    return doc


def run_hibob(harness: Harness, *, max_examples: int, phases: tuple[str, ...], seed: int) -> Tally:
    """A new emulator's HiBob, seeded, fuzzed with its ready-made service user; its limits
    raised so that no answer is a throttled one (the limits have their own tests)."""
    tally = Tally("hibob")
    harness.configure([])
    control = "hr/hibob"
    harness.control("POST", f"{control}/employees", json=HIBOB_SEED)
    harness.control("POST", f"{control}/limits", json={e: 100_000 for e in _hibob_endpoints()})
    user = harness.control("GET", f"{control}/service-users")["serviceUsers"][0]
    _, unexpected_before = harness.stats()
    config = schema_config(max_examples=max_examples, phases=phases, seed=seed)
    schema = schemathesis.openapi.from_dict(hibob_document(harness.base), config=config)
    schema.config.update(base_url=f"{harness.base}/hibob/v1")
    basic = base64.b64encode(f"{user['id']}:{user['token']}".encode()).decode()

    class ServiceUser:
        def get(self, case: Any, context: Any) -> str:
            return basic

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Basic {data}"}

    schema.auth(refresh_interval=None)(ServiceUser)

    def after_call(context: Any, case: Any, response: Any) -> None:
        tally.answer(case.method, case.formatted_path, response.status_code, response.text)

    schema.hooks.register_hook_with_name(after_call, "after_call")
    for event in from_schema(schema).execute():
        _record(event, tally, "hibob")
    stats = harness.control("GET", "stats")
    tally.throttled = sum(stats["hr"]["hibob"]["throttled"].values())
    tally.unexpected = harness.stats()[1] - unexpected_before
    return tally


def _hibob_endpoints() -> tuple[str, ...]:
    return ("people.search", "people.read", "fields", "named-lists")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_emulator(log: Path) -> Iterator[str]:
    """``hrsync emulator serve --clock virtual`` on a free loopback port: its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "hrsync", "emulator", "serve", "--port", str(port)]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*command, "--clock", "virtual"], stdout=sink, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited: {log.read_text(errors='replace')}")
        try:
            httpx.get(f"{base}/_emulator/clock", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("emulator did not start within 20 s")


def _bamboohr_phase(harness: Harness, max_examples: int, phases: tuple[str, ...]) -> Tally:
    """BambooHR's document against the emulator's BambooHR (tests/fuzz_bamboohr.py)."""
    from tests.fuzz_bamboohr import run_bamboohr

    started = time.monotonic()
    stateless = tuple(p for p in phases if p != "stateful")  # it declares no links
    tally = run_bamboohr(harness, max_examples=max_examples, phases=stateless, seed=SEED)
    print(f"bamboohr: {tally.requests} requests in {time.monotonic() - started:.0f} s")
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=15)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--only", default="", help="configurations to run (comma-separated)")
    parser.add_argument("--details", action="store_true", help="list each failing check")
    parser.add_argument("--log", type=Path, default=Path(".venv/fuzz-emulator.log"))
    args = parser.parse_args(argv)
    if not SPECS.is_dir():
        print(f"Zoho's Cliq OpenAPI documents are not at {SPECS}", file=sys.stderr)
        return 2
    wanted = {n for n in args.only.split(",") if n}
    phases = tuple(p for p in args.phases.split(",") if p)
    tallies = []
    with served_emulator(args.log) as base, httpx.Client(timeout=30) as http:
        harness = Harness(base, http)
        for index, (name, variants) in enumerate(configurations()):
            if wanted and name not in wanted:
                continue
            started = time.monotonic()
            tally = run_configuration(
                harness,
                name,
                variants,
                max_examples=args.max_examples,
                phases=phases,
                seed=SEED + index,
            )
            print(f"{name}: {tally.requests} requests in {time.monotonic() - started:.0f} s")
            tallies.append(tally)
        if not wanted or "bamboohr" in wanted:
            tallies.append(_bamboohr_phase(harness, args.max_examples, phases))
        if not wanted or "hibob" in wanted:
            tallies.append(_hibob_phase(harness, args.max_examples, phases))
        personio_clean = _personio_phase(harness, wanted, args.max_examples, phases)
    print(report(tallies))
    print(f"The emulator's log: {args.log}")
    if args.details:
        print(details(tallies))
    return 0 if all(clean(t) for t in tallies) and personio_clean else 1


def _personio_phase(
    harness: Harness, wanted: set[str], max_examples: int, phases: tuple[str, ...]
) -> bool:
    """Personio's employee reads, from its own document (tests/fuzz_personio.py)."""
    from tests import fuzz_personio  # it builds on this module

    return fuzz_personio.run_all(
        harness, wanted=wanted, max_examples=max_examples, phases=phases, seed=SEED
    )


def _hibob_phase(harness: Harness, max_examples: int, phases: tuple[str, ...]) -> Tally:
    if not HIBOB_SPEC.is_file():
        print(f"HiBob's OpenAPI document is not at {HIBOB_SPEC}", file=sys.stderr)
        return Tally("hibob (skipped)")
    started = time.monotonic()
    tally = run_hibob(harness, max_examples=max_examples, phases=phases, seed=SEED)
    print(f"hibob: {tally.requests} requests in {time.monotonic() - started:.0f} s")
    return tally


if __name__ == "__main__":
    sys.exit(main())
