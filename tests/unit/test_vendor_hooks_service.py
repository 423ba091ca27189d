"""HR systems' webhooks in ``hrsync serve``, in process: a verified delivery queues HR events
for the people its records are (as the last read kept them); a record not read yet is queued
for the scheduler to read; anything unverified, stale, replayed, too large or naming too
much is refused and counted; nothing of a body is logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.errors import SourceError
from hrsync.service.app import create_service
from hrsync.service.record_events import is_record_event, resolve_records
from hrsync.service.vendor_signatures import hibob_signature
from hrsync.store import Store
from tests.asgi import AsgiClient

NOW = 1_790_000_000.0
KEY = "a private key the HR system signs with"
HOOK = "/hooks/bamboohr/default"
PRIVATE = "someone.private@example.com"  # a value a body may carry: never logged
KEPT = {
    "fields": ["employee_id", "email"],
    "records": {"123": ["E123", PRIVATE], "124": ["E124", "b"]},
}


def toml(kind: str = "bamboohr", *, secret: str = KEY, employee_id: str = "number") -> str:
    return f"""
[source]
kind = "rest"
[source.rest]
base_url = "https://hr.example"
path = "/employees"
id = "id"
[source.rest.fields]
employee_id = "{employee_id}"
email = "workEmail"
[source.rest.webhook]
kind = "{kind}"
secret = "{secret}"
"""


Service = Callable[..., AsgiClient]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    made: list[AsgiClient] = []

    def make(text: str = "") -> AsgiClient:
        config = tmp_path / "hrsync.toml"
        config.write_text(text or toml(), encoding="utf-8")
        with _store(config) as store:
            store.save_bookmark("rest:custom:records", KEPT)
        made.append(AsgiClient(create_service(config, clock=VirtualClock(NOW))))
        return made[-1]

    yield make
    for client in made:
        client.close()


class _store:
    def __init__(self, config: Path, integration: str = "default") -> None:
        url = load_settings(config).store.url
        self.store = Store(url, clock=VirtualClock(NOW), integration=integration)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *_: Any) -> None:
        self.store.close()


def bamboo(body: bytes, *, at: float = NOW, key: str = KEY) -> dict[str, str]:
    stamp = str(int(at))
    mac = hmac.new(key.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    return {"X-BambooHR-Signature": mac, "X-BambooHR-Timestamp": stamp}


def delivery(*ids: str) -> bytes:
    employees = [{"id": i, "action": "Updated", "fields": {"workEmail": PRIVATE}} for i in ids]
    return json.dumps({"employees": employees}).encode()


def events(client: AsgiClient) -> list[tuple[str, str]]:
    config = client.app.state.scheduler.config
    with _store(config) as store:
        return [(e.employee_id, e.sender) for e in reversed(store.events(limit=100))]


def refused(client: AsgiClient) -> dict[tuple[str, str], float]:
    text = client.get("/metrics").text
    return {
        (dict(s.labels)["vendor"], dict(s.labels)["reason"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hrsync_vendor_webhook_refused_total"
    }


def test_a_delivery_queues_the_people_its_records_are_and_the_records_not_read_yet(
    service: Service,
) -> None:
    client = service()
    body = delivery("123", "999", "123")
    answer = client.post(HOOK, content=body, headers=bamboo(body))
    assert answer.status_code == 202, answer.text
    said = answer.json()
    assert said["queued"] == ["E123"] and said["records_to_read"] == ["999"]
    assert events(client) == [("E123", "bamboohr"), ("999", "bamboohr:record")]


def test_a_record_not_read_yet_is_the_person_when_the_employee_id_is_the_record_id(
    service: Service,
) -> None:
    client = service(toml(employee_id="id"))
    body = delivery("555")
    answer = client.post(HOOK, content=body, headers=bamboo(body))
    assert answer.json()["queued"] == ["555"] and answer.json()["records_to_read"] == []
    assert events(client) == [("555", "bamboohr")]


def test_a_wrong_stale_or_replayed_delivery_is_refused_and_counted(service: Service) -> None:
    client = service()
    body = delivery("124")
    assert client.post(HOOK, content=body, headers=bamboo(body, key="other")).status_code == 401
    stale = bamboo(body, at=NOW - 301)
    assert client.post(HOOK, content=body, headers=stale).status_code == 401
    assert client.post(HOOK, content=body + b" ", headers=bamboo(body)).status_code == 401
    assert client.post(HOOK, content=body, headers={}).status_code == 401
    assert client.post(HOOK, content=body, headers=bamboo(body)).status_code == 202
    again = client.post(HOOK, content=body, headers=bamboo(body))
    assert again.status_code == 401 and "taken already" in again.json()["error"]
    assert events(client) == [("E124", "bamboohr")]
    assert refused(client) == {
        ("bamboohr", "signature"): 2.0,
        ("bamboohr", "stale"): 1.0,
        ("bamboohr", "unsigned"): 1.0,
        ("bamboohr", "replayed"): 1.0,
    }


def test_unknown_integrations_and_vendors_are_not_found_alike(service: Service) -> None:
    client = service()
    body = delivery("123")
    for path in ("/hooks/bamboohr/nobody", "/hooks/hibob/default", "/hooks/workday/default"):
        answer = client.post(path, content=body, headers=bamboo(body))
        assert (answer.status_code, answer.json()) == (404, {"error": "no such webhook"})
    assert events(client) == []


def test_an_integration_without_a_webhook_secret_refuses_every_delivery(
    service: Service,
) -> None:
    client = service(toml(secret=""))
    body = delivery("123")
    answer = client.post(HOOK, content=body, headers=bamboo(body, key=""))
    assert answer.status_code == 401 and "no secret" in answer.json()["error"]


def test_too_large_too_many_or_no_records_are_refused(service: Service) -> None:
    client = service()
    large = b"{" + b" " * (1024 * 1024) + b"}"
    answer = client.post(HOOK, content=large, headers=bamboo(large))
    assert answer.status_code == 413
    crowd = delivery(*[str(n) for n in range(1001)])
    assert client.post(HOOK, content=crowd, headers=bamboo(crowd)).status_code == 413
    nothing = b'{"employees": []}'
    answer = client.post(HOOK, content=nothing, headers=bamboo(nothing))
    assert answer.status_code == 400 and "names no record" in answer.json()["error"]
    odd = b'{"employees": [{"id": {"a": 1}}]}'
    answer = client.post(HOOK, content=odd, headers=bamboo(odd))
    assert answer.status_code == 400 and answer.json()["refused"][0]["why"]
    assert events(client) == []


def test_hibob_deliveries_and_its_ping(service: Service) -> None:
    client = service(toml("hibob"))
    hook = "/hooks/hibob/default"
    body = json.dumps({"type": "employee.updated", "data": {"employeeId": "124"}}).encode()
    signed = {"Bob-Signature": base64.b64encode(hibob_signature(KEY, body)).decode()}
    assert client.post(hook, content=body, headers=signed).json()["queued"] == ["E124"]
    assert client.post(hook, content=body, headers=signed).status_code == 401  # taken once
    ping = b"Ping test"
    pinged = {"Bob-Signature": hibob_signature(KEY, ping).hex()}
    answer = client.post(hook, content=ping, headers=pinged)
    assert answer.status_code == 202 and answer.json()["queued"] == []
    assert client.post(hook, content=ping, headers={}).status_code == 401
    assert events(client) == [("E124", "hibob")]


def test_personio_deliveries_carry_the_token(service: Service) -> None:
    client = service(toml("personio"))
    hook = "/hooks/personio/default"
    body = b'{"company_id":"1","event_name":"person.updated","payload":{"id":"123"}}'
    assert client.post(hook, content=body, headers={"Authorization": "wrong"}).status_code == 401
    answer = client.post(hook, content=body, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 202 and answer.json()["queued"] == ["E123"]


def test_nothing_of_a_body_is_logged(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    client = service()
    caplog.set_level(logging.DEBUG)
    body = delivery("123", "998")
    client.post(HOOK, content=body, headers=bamboo(body))
    client.post(HOOK, content=body, headers=bamboo(body, key="wrong"))
    logged = [r.getMessage() + repr(r.args) for r in caplog.records]
    assert [line for line in logged if PRIVATE in line or "workEmail" in line] == []


def test_record_events_become_the_people_a_read_finds(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}", clock=VirtualClock(NOW), integration="hr")
    try:
        store.queue_events(["123", "777"], sender="bamboohr:record")
        records = [e for e in store.due_events() if is_record_event(e)]
        reads: list[int] = []
        queued = resolve_records(
            store,
            records,
            read=lambda: reads.append(1),
            employee_ids=lambda ids: {i: f"E{i}" for i in ids if i == "123"},
        )
        assert (queued, reads) == (1, [1])
        due = store.due_events()
        assert [(e.employee_id, e.sender) for e in due] == [("E123", "bamboohr")]
        states = {e.employee_id: (e.state, e.reason) for e in store.events()}
        assert states["123"] == ("done", "record 123 is employee E123")
        assert states["777"][0] == "queued" and "no record 777 yet" in states["777"][1]

        def fails() -> None:
            raise SourceError("HR answered 503")

        later = [e for e in store.events() if e.employee_id == "777"]
        resolve_records(store, later, read=fails, employee_ids=lambda ids: {})
        (again,) = [e for e in store.events() if e.employee_id == "777"]
        assert again.attempts == 2 and "HR answered 503" in again.reason
    finally:
        store.close()


def test_the_scheduler_reads_hr_once_and_runs_the_people_the_records_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from hrsync.access.integrations import Integrations
    from hrsync.service import scheduler as scheduling
    from hrsync.service.scheduler import RunResult, Scheduler

    config = tmp_path / "hrsync.toml"
    config.write_text(toml(), encoding="utf-8")
    base = load_settings(config)
    with _store(config) as store:
        store.queue_events(["555", "123"], sender="bamboohr:record")

    def read() -> None:  # HR's answer now holds the joiner
        with _store(config) as store:
            store.save_bookmark(
                "rest:custom:records", KEPT | {"records": KEPT["records"] | {"555": ["E555", "c"]}}
            )

    app = SimpleNamespace(
        engine=SimpleNamespace(source=SimpleNamespace(read=read)), close=lambda: None
    )
    monkeypatch.setattr(scheduling, "build", lambda *a, **k: app)
    monkeypatch.setattr(Integrations, "runnable", lambda self, name, base: base)
    ran: list[tuple[str, ...]] = []

    def run_one(self: Scheduler, name: str, base: Any, **kwargs: Any) -> RunResult:
        ran.append(kwargs["events"])
        return RunResult(name, "succeeded", 1, people=())

    monkeypatch.setattr(Scheduler, "run_one", run_one)
    scheduler = Scheduler(config)
    with scheduling.integrations_of(base) as integrations:
        assert scheduler._run_events(integrations, "default", base)
    assert ran == [("E555", "E123")]
    with _store(config) as store:
        assert {e.employee_id: e.state for e in store.events()} == {
            "555": "done",
            "123": "done",
            "E555": "done",
            "E123": "done",
        }
