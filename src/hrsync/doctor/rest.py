"""Doctor's findings for a ``rest`` source: the HR API answers the key, each mapped field is
in its records, and the pace hrsync keeps against the API's limit."""

from __future__ import annotations

from typing import Any

from hrsync.doctor.checks import Check, failed, noted, passed
from hrsync.errors import SourceError
from hrsync.sources.rest.paths import MISSING, compile_all, compile_first
from hrsync.sources.rest.source import RestSource

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "ratelimit-limit", "retry-after")


def rest_checks(source: RestSource) -> list[Check]:
    """One page of the read: the credentials, the fields, the limit."""
    spec, title = source.spec, source.spec.title or "HR API"
    client = source.client
    needs = "; ".join(spec.needs) or "a key that can read every employee"
    try:
        answer = client.probe()
    except SourceError as problem:
        text = str(problem)
        if "refused the credentials" in text:
            return [failed(f"{title} credentials", text, f"give hrsync {needs}")]
        return [failed(f"{title} API", text, "check [source.rest] base_url and vars")]
    records = compile_all(spec.records)(answer)
    if records is MISSING or not isinstance(records, list):
        return [
            passed(f"{title} credentials", "the API took the key"),
            failed(
                f"{title} answer",
                f"no records at {spec.records!r} in the first page",
                "check [source.rest] records against the API's answer",
            ),
        ]
    found = [
        passed(
            f"{title} credentials",
            f"the API took the key ({len(records)} records on the first page)",
        )
    ]
    found.append(_fields_check(title, spec.fields, records, needs, spec.left_out == "blank"))
    found.append(_pace_check(title, source, client.http.last_headers))
    return found


def _fields_check(
    title: str, fields: dict[str, str | list[str]], records: list[Any], needs: str, blank: bool
) -> Check:
    name = f"{title} fields"
    if not records:
        return noted(name, "no records yet: the fields cannot be seen", "run doctor again later")
    absent = []
    for field, path in fields.items():
        get = compile_first(path)
        if all(get(r) is MISSING for r in records):
            absent.append(f"{field} ({path if isinstance(path, str) else path[0]})")
    if not absent:
        return passed(name, f"all {len(fields)} mapped fields present")
    maybe = " (empty for everyone on the first page, or not visible to the key)" if blank else ""
    return noted(
        name,
        f"{len(fields) - len(absent)} of {len(fields)} mapped fields present; absent: "
        f"{', '.join(absent)}{maybe} (their Cliq fields are left as they are)",
        f"if they should sync, the key needs to see them: {needs}",
    )


def _pace_check(title: str, source: RestSource, headers: Any) -> Check:
    limit = source.spec.rate_limit
    told = [f"{h}: {headers[h]}" for h in RATE_HEADERS if h in headers]
    said = f"; the API says {', '.join(told)}" if told else ""
    return passed(
        f"{title} limit",
        f"hrsync keeps to {limit.per_minute} calls a minute{said}",
    )
