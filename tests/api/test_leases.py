"""Leases in the store: one worker at a time holds an integration, until it releases the lease
or stops renewing it; then another takes over, and the runs the first left "running" read as
interrupted. On SQLite and on a real PostgreSQL server, with claims racing from threads; and a
run whose lease was taken over sends no further call."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from hrsync.clock import RealClock, VirtualClock
from hrsync.service.claims import LeaseGate, LeaseLost, held
from hrsync.store import Store
from hrsync.store.tables import Lease, Run

KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'hrsync.db'}"


def test_one_worker_holds_a_lease_until_it_is_released_or_expires(url: str) -> None:
    clock = VirtualClock()
    store = Store(url, clock=clock, integration="hr")
    first = store.leases(owner="host-a:101", seconds=30)
    second = store.leases(owner="host-b:202", seconds=30)
    assert first.claim("hr") and first.claim("hr")  # claimed, and ours again
    assert not second.claim("hr")
    assert second.claim("payroll")  # another integration is another lease
    run_id = store.start_run("apply")
    with store.engine.begin() as connection:  # a run of the first worker
        connection.execute(update(Run).where(Run.id == run_id).values(owner="host-a:101"))
    clock.advance(20)
    assert first.renew("hr")
    with store.session() as s:
        assert s.get_one(Run, run_id).heartbeat_at == clock.now()  # the run's too
    clock.advance(20)
    assert not second.claim("hr")  # renewed 20 s ago: still live
    first.release("hr")
    assert second.claim("hr")
    assert second.holder("hr") == ("host-b:202", clock.now() + 30)
    store.close()


def test_an_expired_lease_is_taken_over_and_its_run_reads_as_interrupted(url: str) -> None:
    clock = VirtualClock()
    store = Store(url, clock=clock, integration="hr")
    dead = store.leases(owner="host-a:101", seconds=30)
    assert dead.claim("hr")
    run_id = store.start_run("apply")
    with store.engine.begin() as connection:  # the run of a worker on another machine
        connection.execute(update(Run).where(Run.id == run_id).values(owner="host-a:101"))
    assert store.interrupted("hr") == ""  # its lease is live: the run may still be going on
    clock.advance(31)
    assert store.interrupted("hr") == "died"
    alive = store.leases(owner="host-b:202", seconds=30)
    assert alive.claim("hr")
    record = store.run(run_id)
    assert record is not None and record.status == "interrupted"
    assert not dead.renew("hr")  # the first worker learns it lost the lease
    assert alive.renew("hr")
    store.close()


def test_a_run_that_left_changes_unconfirmed_is_unfinished(url: str) -> None:
    store = Store(url, clock=VirtualClock(), integration="hr")
    run_id = store.start_run("apply")
    store.journal_intend(run_id, [("invite:E1", "invite", "Invite a", json.dumps({}))])
    store.finish_run(run_id, "failed", {"error": "Stopping"})
    assert store.interrupted("hr") == "unconfirmed"
    store.journal_mark(run_id, ["invite:E1"], "confirmed")
    assert store.interrupted("hr") == ""
    assert store.interrupted("never-ran") == ""
    store.close()


def test_of_workers_claiming_at_once_exactly_one_gets_the_lease(url: str) -> None:
    Store(url, clock=VirtualClock()).close()  # migrated once, before the race
    workers = 6
    stores = [Store(url, clock=VirtualClock()) for _ in range(workers)]
    start = threading.Barrier(workers)
    won: list[bool] = []

    def claim(n: int) -> None:
        leases = stores[n].leases(owner=f"host-{n}:1", seconds=30)
        for _ in range(5):  # a new lease at first, then a free one
            start.wait()
            won.append(leases.claim("hr"))
            start.wait()
            leases.release("hr")

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in stores:
        store.close()
    assert len(won) == 5 * workers and won.count(True) == 5


def test_a_run_whose_lease_was_taken_over_sends_no_further_call(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=RealClock())
    # Renewed every third of a second: a second's lease survives a loaded machine's pauses.
    mine = store.leases(owner="host-a:101", seconds=1.0)
    other = store.leases(owner="host-b:202", seconds=30)
    sent: list[str] = []
    zoho = httpx.MockTransport(lambda request: sent.append(request.url.path) or httpx.Response(200))
    with held(mine, "hr") as hold:
        assert hold is not None
        with held(other, "hr") as refused:
            assert refused is None  # live: another worker passes on
        client = httpx.Client(transport=LeaseGate(zoho, hold.valid))
        client.get("http://zoho.test/api/v2/users")
        time.sleep(1.5)
        assert hold.valid()  # renewed meanwhile
        with store.engine.begin() as connection:  # another worker took it over
            connection.execute(update(Lease).values(owner="host-b:202", expires_at=2e9))
        deadline = time.monotonic() + 5
        while hold.valid():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(LeaseLost):
            client.get("http://zoho.test/api/v2/users")
        client.close()
    assert sent == ["/api/v2/users"]
    assert other.holder("hr") == ("host-b:202", 2e9)  # not freed by the worker that lost it
    store.close()
