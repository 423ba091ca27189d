"""The service's HTTP face. Who may ask ``hrsync serve`` for a sync: a call with the
integration's secret as is, or signed with it (HMAC-SHA256 of timestamp and body); anything
else is refused and counted. What /readyz and /metrics say."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hrsync.access.vault import Vault
from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.service.app import NOTHING_ENABLED, create_service
from hrsync.service.hooks import set_secret, signature
from tests.asgi import AsgiClient
from tests.support import queued_events

SECRET = "a webhook secret of thirty-two chars"
NOW = 1_790_000_000.0


Service = Callable[..., AsgiClient]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Callable[..., AsgiClient]]:
    made: list[AsgiClient] = []

    def make(*, signed_only: bool = False, store_url: str = "") -> AsgiClient:
        made.append(_service(tmp_path, signed_only=signed_only, store_url=store_url))
        return made[-1]

    yield make
    for client in made:
        client.close()


def _service(
    tmp_path: Path, *, signed_only: bool = False, store_url: str = "", clock: Any = None
) -> AsgiClient:
    config = tmp_path / "hrsync.toml"
    config.write_text(f'[store]\nurl = "{store_url}"\n' if store_url else "", encoding="utf-8")
    store = load_settings(config).store
    set_secret(store.url, Vault.open(store.key_file), "hr", SECRET, signed_only=signed_only)
    return AsgiClient(create_service(config, clock=clock or VirtualClock(NOW)))


def signed(body: bytes, *, at: float = NOW, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(at))
    return {"X-Hrsync-Timestamp": stamp, "X-Hrsync-Signature": signature(secret, stamp, body)}


def refused(client: AsgiClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        dict(s.labels)["reason"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hrsync_webhook_refused_total"
    }


BODY = json.dumps({"employee_ids": ["E7"]}).encode()


def test_a_signed_call_is_taken_and_a_tampered_or_replayed_one_is_not(
    service: Service,
) -> None:
    client = service()
    hook = "/hooks/people/hr"
    taken = client.post(hook, content=BODY, headers=signed(BODY))
    assert taken.status_code == 202 and taken.json()["queued"] == ["E7"]

    other = json.dumps({"employee_ids": ["E8"]}).encode()
    tampered = client.post(hook, content=other, headers=signed(BODY))
    assert tampered.status_code == 401
    assert "signature does not match" in tampered.json()["error"]
    wrong_key = client.post(hook, content=BODY, headers=signed(BODY, secret="x" * 32))
    assert wrong_key.status_code == 401
    replayed = client.post(hook, content=BODY, headers=signed(BODY, at=NOW - 301))
    assert replayed.status_code == 401 and "more than 5 minutes" in replayed.json()["error"]
    undated = client.post(hook, content=BODY, headers=signed(BODY) | {"X-Hrsync-Timestamp": ""})
    assert undated.status_code == 401

    plain = client.post(hook, content=BODY, headers={"X-Hrsync-Secret": SECRET})
    assert plain.status_code == 202
    assert refused(client) == {"signature": 2.0, "stale": 1.0, "timestamp": 1.0}
    assert queued_events(client.app.state.scheduler) == ["E7"] * 2  # nothing refused did


@pytest.mark.parametrize("signed_only", [True, False])
def test_an_integration_can_take_signed_calls_only(service: Service, signed_only: bool) -> None:
    client = service(signed_only=signed_only)
    plain = client.post("/hooks/people/hr", content=BODY, headers={"X-Hrsync-Secret": SECRET})
    assert plain.status_code == (401 if signed_only else 202)
    if signed_only:
        assert plain.json()["error"] == "this integration takes signed calls only " \
            "(X-Hrsync-Signature)"  # fmt: skip
        assert refused(client) == {"unsigned": 1.0}
    assert client.post("/hooks/people/hr", content=BODY, headers=signed(BODY)).status_code == 202


def test_a_signature_for_an_integration_without_a_secret_is_refused(
    service: Service,
) -> None:
    client = service()
    other = client.post("/hooks/people/other", content=BODY, headers=signed(BODY))
    assert other.status_code == 401 and refused(client) == {"secret": 1.0}


def test_readyz_names_what_is_not_ready(
    service: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = service()
    down = client.get("/readyz")  # no lifespan here: the scheduler never started
    assert down.status_code == 503
    assert down.json()["problems"] == ["the scheduler is not running"]

    (tmp_path / "hrsync.toml").write_text(
        '[store]\nurl = "postgresql+psycopg://hrsync@127.0.0.1:9/hrsync"\n', encoding="utf-8"
    )
    gone = client.get("/readyz").json()["problems"]
    assert gone[0] == "the scheduler is not running"
    assert gone[1] == "the store cannot be opened"  # the driver's words go to the log only
    assert "127.0.0.1" not in client.get("/readyz").text
    logged = [r.getMessage() for r in caplog.records if r.name == "hrsync.service.app"]
    assert len(logged) == 1, logged  # once, not at each look
    assert "the store cannot be opened" in logged[0] and "127.0.0.1" in logged[0]


def test_metrics_count_changes_by_kind_throttles_and_pacing_waits() -> None:
    from hrsync.service.metrics import Metrics
    from hrsync.service.scheduler import RunResult

    metrics = Metrics()
    for _ in range(2):
        metrics.record(
            RunResult(
                "hr",
                "partial",
                7,
                applied=3,
                failed=1,
                calls=(("users.add", 4),),
                throttled=(("users.add", 1),),
                waited=(("users.add", 12.5),),
                kinds=(("invite_user", "confirmed", 3), ("invite_user", "unconfirmed", 1)),
                stalled=2,
            )
        )
    seen = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.text().decode())
        for s in family.samples
    }
    kind = (("integration", "hr"), ("kind", "invite_user"))
    assert seen[("hrsync_changes_by_kind_total", (*kind, ("state", "confirmed")))] == 6
    assert seen[("hrsync_changes_by_kind_total", (*kind, ("state", "unconfirmed")))] == 2
    assert seen[("hrsync_api_throttled_total", (("endpoint", "users.add"),))] == 2
    assert seen[("hrsync_pacing_wait_seconds_total", (("endpoint", "users.add"),))] == 25.0
    assert seen[("hrsync_runs_total", (("integration", "hr"), ("outcome", "partial")))] == 2
    assert seen[("hrsync_stalled_changes", (("integration", "hr"),))] == 2  # now, not a sum


KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'hrsync.db'}"


def test_a_signed_call_is_taken_once_in_every_process_on_the_store(
    service: Service, store_url: str
) -> None:
    first, second = service(store_url=store_url), service(store_url=store_url)  # two workers
    hook = "/hooks/people/hr"
    answers = [c.post(hook, content=BODY, headers=signed(BODY)) for c in (first, first, second)]
    assert [a.status_code for a in answers] == [202, 401, 401]
    assert "was taken already" in answers[1].json()["error"]
    assert refused(first) == {"replayed": 1.0} and refused(second) == {"replayed": 1.0}
    assert queued_events(first.app.state.scheduler) == ["E7"]  # the store both share
    later = first.post(hook, content=BODY, headers=signed(BODY, at=NOW + 1))  # signed again
    assert later.status_code == 202


def test_a_remembered_signature_is_forgotten_once_it_would_be_stale(store_url: str) -> None:
    from hrsync.store import Store

    clock = VirtualClock(NOW)
    store = Store(store_url, clock=clock, integration="hr")
    try:
        assert store.first_use("sig-a", until=NOW + 300)
        assert not store.first_use("sig-a", until=NOW + 300)
        other = Store(store_url, clock=clock, integration="other")
        assert other.first_use("sig-a", until=NOW + 600)  # another integration's own
        other.close()
        clock.advance(301)
        assert store.first_use("sig-b", until=NOW + 601)  # and sweeps what is past
        assert store.remembered_uses() == 2  # sig-b here, sig-a of the other integration
        assert store.first_use("sig-a", until=NOW + 601)  # forgotten here: stale anyway
    finally:
        store.close()


@pytest.mark.parametrize(
    "stamp", ["nan", "NaN", "inf", "-inf", "1e9", "1790000000e0", "", " ", "0x6AB0E880", "-1",
              "1790000000.5.1", "+1790000000", " 1790000000", "1" * 40],
)  # fmt: skip
def test_a_timestamp_that_is_not_unix_seconds_is_refused(service: Service, stamp: str) -> None:
    client = service()
    headers = {"X-Hrsync-Timestamp": stamp, "X-Hrsync-Signature": signature(SECRET, stamp, BODY)}
    answer = client.post("/hooks/people/hr", content=BODY, headers=headers)
    assert answer.status_code == 401, stamp
    assert "X-Hrsync-Timestamp" in answer.json()["error"]
    assert refused(client) == {"timestamp": 1.0}
    assert queued_events(client.app.state.scheduler) == []


def test_a_timestamp_with_a_fraction_of_a_second_is_taken(service: Service) -> None:
    client = service()
    stamp = f"{NOW + 0.25:.3f}"
    headers = {"X-Hrsync-Timestamp": stamp, "X-Hrsync-Signature": signature(SECRET, stamp, BODY)}
    assert client.post("/hooks/people/hr", content=BODY, headers=headers).status_code == 202


class Sent:
    """A body sent a piece at a time, counting what the service has asked for."""

    def __init__(self, size: int, piece: int = 64 * 1024) -> None:
        self.size, self.piece, self.read = size, piece, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.read < self.size:
            self.read += self.piece
            yield b"x" * self.piece


def test_a_webhook_body_over_one_megabyte_is_refused_before_it_is_read(service: Service) -> None:
    client = service()
    declared = Sent(50_000_000)
    length = {"Content-Length": "50000000", "X-Hrsync-Secret": SECRET}
    answer = client.post("/hooks/people/hr", content=declared, headers=length)
    assert answer.status_code == 413 and declared.read == 0
    chunked = Sent(50_000_000)
    answer = client.post("/hooks/people/hr", content=chunked, headers={"X-Hrsync-Secret": SECRET})
    assert answer.status_code == 413
    assert chunked.read <= 1024 * 1024 + chunked.piece  # it stopped at the limit
    assert refused(client) == {"too_large": 2.0}
    assert queued_events(client.app.state.scheduler) == []
    padded = json.dumps({"employee_ids": ["E7"], "pad": "x" * 900_000}).encode()
    taken = client.post("/hooks/people/hr", content=padded, headers={"X-Hrsync-Secret": SECRET})
    assert taken.status_code == 202  # under the limit, however sent


def test_a_call_without_the_secret_is_refused_without_reading_its_body(service: Service) -> None:
    client = service()
    sent = Sent(900_000)
    answer = client.post("/hooks/people/hr", content=sent, headers={"X-Hrsync-Secret": "wrong"})
    assert answer.status_code == 401 and sent.read == 0
    unknown = Sent(900_000)
    answer = client.post("/hooks/people/nobody", content=unknown, headers=signed(b"{}"))
    assert answer.status_code == 401 and unknown.read == 0


def test_a_call_naming_too_many_people_is_refused(service: Service) -> None:
    client = service()
    crowd = json.dumps({"employee_ids": [f"E{n}" for n in range(1001)]}).encode()
    answer = client.post("/hooks/people/hr", content=crowd, headers=signed(crowd))
    assert answer.status_code == 413 and "at most 1000" in answer.json()["error"]
    assert refused(client) == {"too_many": 1.0} and queued_events(client.app.state.scheduler) == []
    enough = json.dumps({"employee_ids": [f"E{n}" for n in range(1000)]}).encode()
    taken = client.post("/hooks/people/hr", content=enough, headers=signed(enough))
    assert taken.status_code == 202


def test_a_lock_period_and_runs_of_any_process_are_read_from_the_store(
    service: Service, tmp_path: Path
) -> None:
    from hrsync.api.ratelimit import Pacer
    from hrsync.store import Store

    client = service()
    url = load_settings(tmp_path / "hrsync.toml").store.url
    store = Store(url, clock=VirtualClock(NOW), integration="hr")
    try:  # another process: a run from the command line, and a lock Zoho set on it
        store.finish_run(store.start_run("apply"), "succeeded", {})
        pacer = Pacer(VirtualClock(NOW), log=store.call_log("https://cliq.zoho.eu"))
        pacer.locked("users.add", 600)
    finally:
        store.close()
    ready = client.get("/readyz").json()
    assert ready["degraded"] == [
        "Zoho locked users.add at https://cliq.zoho.eu for 600 s more: its calls wait",
        NOTHING_ENABLED,
    ]
    seen = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for s in family.samples
    }
    host = (("endpoint", "users.add"), ("host", "https://cliq.zoho.eu"))
    assert seen[("hrsync_api_locked_seconds", host)] == 600
    run = (("integration", "hr"), ("mode", "apply"), ("status", "succeeded"))
    assert seen[("hrsync_runs_recorded", run)] == 1


def test_readyz_says_when_no_integration_is_enabled(service: Service, tmp_path: Path) -> None:
    from hrsync.store import Store
    from hrsync.store import integrations as rows

    client = service()
    assert client.get("/readyz").json()["degraded"] == [NOTHING_ENABLED]
    store = Store(load_settings(tmp_path / "hrsync.toml").store.url, clock=VirtualClock(NOW))
    try:
        rows.add(store, name="hr", config="{}", schedule="", now=NOW)
        rows.set_status(store, "hr", "enabled", now=NOW)
    finally:
        store.close()
    assert client.get("/readyz").json()["degraded"] == []


def samples(client: AsgiClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for s in family.samples
    }


def test_each_person_named_is_queued_or_refused_with_why_and_kept_in_the_store(
    tmp_path: Path,
) -> None:
    clock = VirtualClock(NOW)
    client = _service(tmp_path, clock=clock)
    named = {"employee_ids": ["E4", "", {"id": "E5"}, "E4", 17, "x" * 101, "E\x00"]}
    body = json.dumps(named).encode()
    answer = client.post("/hooks/people/hr", content=body, headers=signed(body))
    assert answer.status_code == 202
    said = answer.json()
    assert said["queued"] == ["E4", "17"]  # once each, in the order named
    assert [e["employee_id"] for e in said["events"]] == ["E4", "17"]
    assert said["refused"] == [
        {"employee_id": "", "why": "empty"},
        {"employee_id": '{"id": "E5"}', "why": "an employee id is a string (or a number)"},
        {"employee_id": "x" * 40 + "…", "why": "longer than 100 characters"},
        {"employee_id": "E\\x00", "why": "holds control characters"},
    ]
    nobody = json.dumps({"employee_ids": ["", None]}).encode()
    answer = client.post("/hooks/people/hr", content=nobody, headers=signed(nobody))
    assert answer.status_code == 400 and len(answer.json()["refused"]) == 2
    clock.advance(90)
    seen = samples(client)
    assert seen[("hrsync_events_queued", (("integration", "hr"),))] == 2
    assert seen[("hrsync_events_oldest_age_seconds", (("integration", "hr"),))] == 90
    assert seen[("hrsync_webhook_people_total", (("outcome", "queued"),))] == 2
    assert seen[("hrsync_webhook_people_total", (("outcome", "refused"),))] == 6

    client.close()
    restarted = _service(tmp_path)  # a restart (or a kill) after the 202 loses nothing
    try:
        assert queued_events(restarted.app.state.scheduler) == ["E4", "17"]
    finally:
        restarted.close()


class Client:
    """What ``Traffic`` reads of a run's Zoho client while the run goes on."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.pacer = type("Pacer", (), {"throttled": {}, "waited": {}})()


def test_calls_throttles_and_waits_count_as_they_happen_not_when_the_run_ends() -> None:
    from hrsync.service.metrics import Metrics
    from hrsync.service.scheduler import RunResult

    metrics = Metrics()

    def seen() -> dict[tuple[str, str], float]:
        return {
            (s.name, s.labels["endpoint"]): s.value
            for family in text_string_to_metric_families(metrics.text().decode())
            for s in family.samples
            if "endpoint" in s.labels
        }

    client = Client()
    metrics.watch([client])  # type: ignore[list-item]
    client.calls["users.add"] = 1
    client.pacer.throttled["users.add"] = 1
    client.pacer.waited["users.add"] = 300.0  # waiting out the lock period now
    assert seen() == {
        ("hrsync_api_calls_total", "users.add"): 1,
        ("hrsync_api_throttled_total", "users.add"): 1,
        ("hrsync_pacing_wait_seconds_total", "users.add"): 300.0,
    }
    client.calls["users.list"] = 2
    metrics.record(RunResult("hr", "stopped"))  # stopped in the wait: its calls still count
    client.calls["users.list"] = 99  # a finished run's client no longer counts
    following = Client()
    metrics.watch([following])  # type: ignore[list-item]
    following.calls["users.add"] = 4
    assert seen() == {
        ("hrsync_api_calls_total", "users.add"): 5,
        ("hrsync_api_calls_total", "users.list"): 2,
        ("hrsync_api_throttled_total", "users.add"): 1,
        ("hrsync_pacing_wait_seconds_total", "users.add"): 300.0,
    }
