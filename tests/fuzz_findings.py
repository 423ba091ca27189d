"""What a fuzz run found, and which of it the emulator does on purpose.

``Tally`` counts one configuration's answers and failing checks; ``DIFFERENCES`` are the
checks the emulator fails deliberately, each with its reason (the table "Deliberate
differences from Zoho's OpenAPI documents" in docs/architecture/conformance.md says the same);
a failing check none of them covers is ``unexplained`` and fails the run.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Difference:
    """A check the fuzzer reports that the emulator fails on purpose, and why (the table
    "Deliberate differences from Zoho's OpenAPI documents" in docs/architecture/conformance.md
    says the same)."""

    check: str
    operations: str  # a regular expression over "document: METHOD /path"
    reason: str
    configurations: tuple[str, ...] = ()  # only under these; () for any
    said: str = ""  # a regular expression the failure's message must contain

    def covers(self, check: str, operation: str, configuration: str, message: str) -> bool:
        return (
            check == self.check
            and re.fullmatch(self.operations, operation) is not None
            and (not self.configurations or configuration in self.configurations)
            and re.search(self.said, message) is not None
        )


DIFFERENCES = (
    Difference(
        "status_code_conformance",
        ".*",
        "the documents declare only 200; errors come with the seeds' statuses (400 with a code, "
        "401, 403, 404, 405, 429) and a '204 No response' operation answers 204",
    ),
    Difference(
        "positive_data_acceptance",
        ".*",
        "a request the schema allows but the organisation cannot honour is refused as Zoho "
        "does: an id it does not hold, a name taken, a past expiry, an unknown next_token, a "
        "limit outside 1-100, a value the document's description does not list, a key the "
        "document does not name (READINGS #22), the other reading of a disputed body (#8)",
    ),
    Difference(
        "negative_data_rejection",
        ".*",
        "unknown query parameters are ignored: READINGS #22 is about body keys, and no source "
        "shows Zoho refusing a query parameter",
        said=r"parameter `[^`]*` in query - violates `additionalProperties`",
    ),
    Difference(
        "allow_header_conformance",
        r"usersstatus: GET /users/\{USER_ID\}",
        "the path is the users document's too, whose PUT it also takes: Allow names both",
    ),
    Difference(
        "negative_data_rejection",
        r"users: GET /users",
        "the variant's reading: modified_after only in epoch milliseconds, as a public "
        "connector sends it, where the document types it as a date-time",
        ("modified-after-epoch-ms",),
        said=r"parameter `modified_after` in query",
    ),
    Difference(
        "negative_data_rejection",
        r"bamboohr: .*",
        "BambooHR's document names its Accept parameter 'AcceptHeaderParameter' (a header no "
        "client sends; the emulator reads Accept), and the custom report reads Accept only "
        "when format is omitted, as the document says",
        ("bamboohr",),
        said=r"parameter `(AcceptHeaderParameter|Accept)` in header",
    ),
    Difference(
        "status_code_conformance",
        r"bamboohr: .*",
        "BambooHR answers 401 to a missing or wrong key on every endpoint (its Technical "
        "Overview), where an operation of the document lists none",
        ("bamboohr",),
    ),
    Difference(
        "positive_data_acceptance",
        r"bamboohr: (POST /api/v1/reports/custom|GET /api/v1/employees)",
        "as the document's descriptions say where its schemas are looser: the report's XML "
        "needs a <report> root (else 400 Malformed XML), and the list's sort takes only the "
        "fields it names (else BadRequest)",
        ("bamboohr",),
    ),
    Difference(
        "response_schema_conformance",
        r"roles: .*",
        "the variant's reading: role ids as JSON numbers (READINGS #15)",
        ("ids-numeric",),
    ),
)


def unexplained(tally: Tally) -> list[str]:
    """The failing checks no deliberate difference covers."""
    return [
        f"{check} | {op} | {tally.samples[(check, op)]}"
        for check, ops in sorted(tally.other_failures().items())
        for op in sorted(ops)
        if not any(
            d.covers(check, op, tally.configuration, tally.samples[(check, op)])
            for d in DIFFERENCES
        )
    ]


@dataclass
class Tally:
    """What one configuration's run saw."""

    configuration: str
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # "2xx", "4xx", "5xx", ...
    server_errors: list[str] = field(default_factory=list)  # one line per 5xx answer
    failures: dict[str, set[str]] = field(default_factory=dict)  # check -> operations
    samples: dict[tuple[str, str], str] = field(default_factory=dict)  # (check, op) -> message
    errors: list[str] = field(default_factory=list)  # the engine's own errors
    throttled: int = 0  # the emulator's count of throttled calls
    unexpected: int = 0  # requests an emulator handler failed on (answered 400, logged)

    def answer(self, method: str, path: str, status: int, body: str) -> None:
        self.requests += 1
        self.statuses[f"{status // 100}xx"] += 1
        if status >= 500:
            self.server_errors.append(f"{method} {path} -> {status} {body[:160]}")

    def failure(self, check: str, operation: str, message: str) -> None:
        self.failures.setdefault(check, set()).add(operation)
        self.samples.setdefault((check, operation), message)

    def other_failures(self) -> dict[str, set[str]]:
        """Check failures other than server errors, which are counted from the answers."""
        return {k: v for k, v in self.failures.items() if k != "not_a_server_error"}


def report(tallies: list[Tally]) -> str:
    """One line per configuration, then each server error, engine error and failing check
    that no deliberate difference covers."""
    lines = [
        f"{'configuration':22} {'requests':>8} {'2xx':>5} {'4xx':>5} {'5xx':>4} {'throttled':>9} "
        f"{'unexpected':>10} {'unexplained':>11}  other check failures (operations)"
    ]
    for t in tallies:
        others = ", ".join(f"{k} {len(v)}" for k, v in sorted(t.other_failures().items()))
        lines.append(
            f"{t.configuration:22} {t.requests:>8} {t.statuses['2xx']:>5} {t.statuses['4xx']:>5} "
            f"{t.statuses['5xx']:>4} {t.throttled:>9} {t.unexpected:>10} "
            f"{len(unexplained(t)):>11}  {others or '-'}"
        )
    for t in tallies:
        lines += [f"[{t.configuration}] server error: {e}" for e in t.server_errors]
        lines += [f"[{t.configuration}] engine error: {e}" for e in t.errors]
        lines += [f"[{t.configuration}] unexplained: {e}" for e in unexplained(t)]
    return "\n".join(lines)


def clean(tally: Tally) -> bool:
    """No server error, no handler failure, no throttling, no engine error, and every other
    failing check a deliberate difference."""
    return not (
        tally.statuses["5xx"]
        or tally.unexpected
        or tally.throttled
        or tally.errors
        or unexplained(tally)
    )


def details(tallies: list[Tally]) -> str:
    """Each other failing check, by operation, with one message (deduplicated)."""
    seen: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for t in tallies:
        for (check, op), message in t.samples.items():
            if check != "not_a_server_error":
                seen.setdefault((check, op), (message, []))[1].append(t.configuration)
    lines = []
    for (check, op), (message, where) in sorted(seen.items()):
        said = " / ".join(line.strip() for line in message.strip().splitlines() if line.strip())
        lines.append(f"{check} | {op} | {', '.join(where)} | {said[:300]}")
    return "\n".join(lines)
