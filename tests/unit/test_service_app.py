"""The service's HTTP face. Who may ask ``hrsync serve`` for a sync: a call with the
integration's secret as is, or signed with it (HMAC-SHA256 of timestamp and body); anything
else is refused and counted. What /readyz and /metrics say."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hrsync.access.vault import Vault
from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.service.app import create_service
from hrsync.service.hooks import set_secret, signature
from tests.asgi import AsgiClient

SECRET = "a webhook secret of thirty-two chars"
NOW = 1_790_000_000.0


Service = Callable[..., AsgiClient]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Callable[..., AsgiClient]]:
    made: list[AsgiClient] = []

    def make(*, signed_only: bool = False) -> AsgiClient:
        made.append(_service(tmp_path, signed_only=signed_only))
        return made[-1]

    yield make
    for client in made:
        client.close()


def _service(tmp_path: Path, *, signed_only: bool = False) -> AsgiClient:
    config = tmp_path / "hrsync.toml"
    config.write_text("", encoding="utf-8")
    store = load_settings(config).store
    set_secret(store.url, Vault.open(store.key_file), "hr", SECRET, signed_only=signed_only)
    return AsgiClient(create_service(config, clock=VirtualClock(NOW)))


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
    assert refused(client) == {"signature": 3.0, "stale": 1.0}
    queue = client.app.state.scheduler.queue
    assert queue == [("hr", frozenset({"E7"}))] * 2  # nothing refused reached the queue


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
