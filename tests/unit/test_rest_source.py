"""The ``rest`` source's engine against a small HR API of the test's own (an
``httpx.MockTransport``): pages of every kind, totals that expose a short read, incremental
reads, fields left out, authentication, throttling. The vendors' own APIs are played by the
emulator (tests/api/test_rest_presets.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hrsync.api.http import ZohoHttp
from hrsync.api.ratelimit import EndpointLimit, Pacer
from hrsync.api.rest import ENDPOINT, RestClient, auth_for
from hrsync.clock import VirtualClock
from hrsync.errors import SourceError
from hrsync.model import Status
from hrsync.sources.rest.source import RestSource
from hrsync.sources.rest.spec import RestSpec

BASE = "https://hr.example.test"
Handler = Callable[[httpx.Request], httpx.Response]


class Marks(dict[str, Any]):
    def bookmark(self, name: str) -> Any:
        return self.get(name)

    def save_bookmark(self, name: str, value: Any) -> None:
        self[name] = json.loads(json.dumps(value))


def people(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": 100 + i,
            "profile": {"number": f"E{i}", "mail": f"p{i}@acme.test", "first": f"P{i}"},
            "boss": 100 if i else None,
            "state": "Active",
            **extra,
        }
        for i in range(n)
    ]


def spec(**over: Any) -> RestSpec:
    keys: dict[str, Any] = {
        "title": "Acme HR",
        "base_url": BASE,
        "path": "/people",
        "records": "$.items[*]",
        "id": "id",
        "fields": {
            "employee_id": "profile.number",
            "email": "profile.mail",
            "first_name": "profile.first",
            "manager_id": "boss",
            "status": "state",
        },
        "values": {"status": {"Active": "active", "Gone": "inactive"}},
        "rate_limit": {"per_minute": 10, "lock_seconds": 60},
    }
    keys.update(over)
    return RestSpec.model_validate(keys)


def source(handler: Handler, the_spec: RestSpec, clock: VirtualClock | None = None) -> RestSource:
    clock = clock or VirtualClock()
    client = httpx.Client(transport=httpx.MockTransport(handler))
    http = ZohoHttp(
        client,
        base_url=BASE,
        auth=auth_for(the_spec.auth, client, base_url=BASE, clock=clock) or httpx.Auth(),
        pacer=Pacer(clock, limits={ENDPOINT: EndpointLimit(10, 60)}, margin=0),
        clock=clock,
    )
    return RestSource(RestClient(http, the_spec), the_spec, bookmarks=Marks(), clock=clock)


def paged_by_cursor(records: list[dict[str, Any]], size: int = 3) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        at = int(request.url.params.get("after") or 0)
        page = records[at : at + size]
        following = str(at + size) if at + size < len(records) else None
        return httpx.Response(200, json={"items": page, "next": following})

    return answer


def test_a_cursor_read_maps_every_field_and_resolves_managers_by_record_id() -> None:
    the_spec = spec(paging={"kind": "cursor", "param": "after", "next": "next"})
    read = source(paged_by_cursor(people(7)), the_spec)
    snapshot = read.read()
    assert [e.employee_id for e in snapshot.employees] == [f"E{i}" for i in range(7)]
    assert snapshot.employees[3].manager_id == "E0"
    assert snapshot.employees[3].email == "p3@acme.test"
    assert snapshot.employees[0].status is Status.ACTIVE
    assert read.last_read is not None and read.last_read.calls == 3
    assert not snapshot.errors


def test_a_repeated_cursor_fails_the_read() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": people(2), "next": "same"})

    the_spec = spec(paging={"kind": "cursor", "param": "after", "next": "next"})
    with pytest.raises(SourceError, match="already read"):
        source(loop, the_spec).read()


def test_fewer_records_than_declared_is_a_failed_read_and_nothing_is_kept() -> None:
    everyone = people(10)

    def short(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        items = everyone[(page - 1) * 4 : page * 4]
        if page == 2:
            items = items[:1]  # the API drops three records from the middle page
        return httpx.Response(200, json={"items": items, "total": 10})

    the_spec = spec(
        paging={"kind": "page", "param": "page", "start": 1, "size": 4, "size_param": "per",
                "total_records": "total"}
    )  # fmt: skip
    read = source(short, the_spec)
    with pytest.raises(SourceError, match="5 of the 10 records"):
        read.read()
    assert read.bookmarks == {}


def test_offset_paging_ends_at_a_short_page() -> None:
    everyone = people(9)
    asked: list[str] = []

    def offset(request: httpx.Request) -> httpx.Response:
        at = int(request.url.params["offset"])
        asked.append(str(at))
        return httpx.Response(200, json={"items": everyone[at : at + 4]})

    the_spec = spec(paging={"kind": "offset", "param": "offset", "size": 4, "size_param": "limit"})
    snapshot = source(offset, the_spec).read()
    assert len(snapshot.employees) == 9
    assert asked == ["0", "4", "8"]


def test_a_next_page_on_another_host_is_refused() -> None:
    def elsewhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": people(1), "next": "https://evil.test/p2"})

    the_spec = spec(paging={"kind": "next_url", "next": "next"})
    with pytest.raises(SourceError, match=r"evil\.test"):
        source(elsewhere, the_spec).read()


def test_an_answer_without_its_records_is_a_failed_read() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"items": [{"id": 1')

    with pytest.raises(SourceError, match="no records"):
        source(broken, spec()).read()


def test_refused_credentials_are_a_clear_error() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"].startswith("Basic ")
        return httpx.Response(401, json={"error": {"code": 401, "message": "Invalid API key"}})

    the_spec = spec(auth={"type": "basic", "username": "key", "password": "x"})
    with pytest.raises(SourceError, match=r"refused the credentials.*Invalid API key"):
        source(refused, the_spec).read()


def test_a_throttled_read_waits_what_retry_after_says_and_goes_on() -> None:
    calls: list[float] = []
    clock = VirtualClock()

    def throttled(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now())
        if len(calls) == 1:
            return httpx.Response(503, headers={"retry-after": "42"})
        return httpx.Response(200, json={"items": people(2)})

    snapshot = source(throttled, spec(), clock).read()
    assert len(snapshot.employees) == 2
    assert calls[1] - calls[0] >= 42


def test_calls_are_paced_at_the_documented_limit() -> None:
    clock = VirtualClock()
    times: list[float] = []
    everyone = people(30)

    def one_each(request: httpx.Request) -> httpx.Response:
        times.append(clock.now())
        at = int(request.url.params.get("after") or 0)
        following = str(at + 1) if at + 1 < len(everyone) else None
        return httpx.Response(200, json={"items": everyone[at : at + 1], "next": following})

    the_spec = spec(paging={"kind": "cursor", "param": "after", "next": "next"})
    source(one_each, the_spec, clock).read()
    assert len(times) == 30
    for i in range(10, 30):
        assert times[i] - times[i - 10] >= 60  # never more than 10 in a rolling minute


def test_later_reads_ask_only_for_changes_and_a_full_read_comes_weekly() -> None:
    clock = VirtualClock()
    everyone = people(4)
    asked: list[dict[str, str]] = []

    def api(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        if "since" in request.url.params:
            return httpx.Response(200, json={"items": [everyone[2]]})
        return httpx.Response(200, json={"items": everyone})

    the_spec = spec(since={"param": "since", "format": "iso", "overlap_seconds": 60})
    read = source(api, the_spec, clock)
    read.read()
    everyone[2] = {**everyone[2], "state": "Gone"}
    clock.advance(3600)
    snapshot = read.read()
    assert asked[1]["since"] == "2025-12-31T23:59:00Z"  # the last read's start, less overlap
    assert read.last_read is not None and read.last_read.kind == "incremental"
    assert {e.employee_id: e.status for e in snapshot.employees}["E2"] is Status.INACTIVE
    assert len(snapshot.employees) == 4
    clock.advance(7 * 86_400)
    read.read()
    assert read.last_read.kind == "full"


def test_changed_ids_are_fetched_by_id_in_batches() -> None:
    everyone = {str(p["id"]): p for p in people(5)}
    asked: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/changed":
            return httpx.Response(
                200, json={"employees": {"101": {"id": "101"}, "103": {"id": "103"}}}
            )
        ids = request.url.params.get("ids")
        asked.append(ids or "")
        chosen = [everyone[i] for i in ids.split(",")] if ids else list(everyone.values())
        return httpx.Response(200, json={"items": chosen})

    the_spec = spec(
        since={"changed_path": "/changed", "changed_params": {"since": "{since}"},
               "changed_ids": "$.employees.*.id", "ids_param": "ids", "ids_per_call": 1}
    )  # fmt: skip
    read = source(api, the_spec)
    read.read()
    snapshot = read.read()
    assert asked == ["", "101", "103"]
    assert len(snapshot.employees) == 5


def test_a_field_no_record_has_is_a_lost_column_and_one_left_out_is_left_alone() -> None:
    everyone = people(3)
    del everyone[1]["state"]
    the_spec = spec(fields={**spec().fields, "department": "dept"})
    snapshot = source(lambda r: httpx.Response(200, json={"items": everyone}), the_spec).read()
    assert snapshot.unmapped == ("department",)
    assert [e.employee_id for e in snapshot.employees] == ["E0", "E2"]
    assert "E1" in snapshot.held  # whether they still work here is unknown: left alone
    assert "leaves out status" in snapshot.errors[0].message


def test_a_token_exchange_sends_the_token_and_takes_the_next_one_handed_out() -> None:
    tokens = iter(["t2", "t3", "t4"])
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth":
            body = json.loads(request.content)
            assert body == {"client_id": "cid", "client_secret": "sec"}
            return httpx.Response(200, json={"success": True, "data": {"token": "t1"}})
        seen.append(request.headers["authorization"])
        at = int(request.url.params.get("offset") or 0)
        items = people(4)[at : at + 2]
        return httpx.Response(
            200, json={"items": items}, headers={"authorization": f"Bearer {next(tokens)}"}
        )

    the_spec = spec(
        auth={"type": "token_exchange", "token_url": "/auth", "client_id": "cid",
              "client_secret": "sec", "token_body": "json", "token_path": "data.token",
              "rotating_header": "authorization"},
        paging={"kind": "offset", "param": "offset", "size": 2},
    )  # fmt: skip
    source(api, the_spec).read()
    assert seen == ["Bearer t1", "Bearer t2", "Bearer t3"]


def test_a_listing_kept_apart_is_read_too_in_full_and_incremental_reads() -> None:
    clock = VirtualClock()
    current, former = people(5), [{**p, "id": 200 + i, "state": "Gone"} for i, p in
                                   enumerate(people(7)[5:])]  # fmt: skip
    for i, p in enumerate(former):
        p["profile"] = {**p["profile"], "number": f"F{i}", "mail": f"f{i}@acme.test"}
    asked: list[dict[str, str]] = []

    def api(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        asked.append(params)
        chosen = former if params.get("status") == "former" else current
        if "since" in params:
            chosen = chosen[:1]
        return httpx.Response(200, json={"items": chosen})

    the_spec = spec(also=[{"params": {"status": "former"}}], since={"param": "since"})
    read = source(api, the_spec, clock)
    snapshot = read.read()
    assert sorted(e.employee_id for e in snapshot.employees) == [
        "E0",
        "E1",
        "E2",
        "E3",
        "E4",
        "F0",
        "F1",
    ]
    assert {e.employee_id: e.status for e in snapshot.employees}["F1"] is Status.INACTIVE
    clock.advance(600)
    read.read()
    assert [a.get("status") for a in asked[2:]] == [None, "former"]
    assert all("since" in a for a in asked[2:])
