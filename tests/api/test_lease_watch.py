"""Leases watched all the time, and a worker that lost its lease: every worker, idle or not
yet looking at its schedules, is woken as soon as another worker's lease runs out unrenewed;
a run whose lease was taken over stops inside its pacing wait and never rewrites the record
the other worker made of it. On SQLite and on a real PostgreSQL server, on virtual clocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from hrsync.clock import VirtualClock
from hrsync.service.claims import Hold, LeaseLost, LeaseWatch
from hrsync.service.stopping import StoppableClock, Stopping
from hrsync.store import Store
from hrsync.store.db import this_process
from hrsync.store.tables import Lease, Run

KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
LEASE = 30.0


@pytest.fixture(params=KINDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'hrsync.db'}"


def test_an_idle_worker_is_woken_as_soon_as_another_workers_lease_runs_out(url: str) -> None:
    clock = VirtualClock()
    store = Store(url, clock=clock)
    dead = store.leases(owner="host-a:101", seconds=LEASE)
    assert dead.claim("hr") and dead.claim("payroll")
    dead.release("payroll")  # released: free, not run out
    wake = threading.Event()
    watch = LeaseWatch(lambda: url, wake, owner="host-b:202", seconds=LEASE, clock=clock)

    assert watch.look() == pytest.approx(LEASE / 3)  # a live lease: looked at again soon
    clock.advance(25)
    assert watch.look() == pytest.approx(5 + 0.05)  # ... just after it would run out
    assert not wake.is_set()
    clock.advance(5.05)  # the holder died: its lease ran out unrenewed
    watch.look()
    assert wake.is_set()  # the scheduler looks now, whatever its tick
    wake.clear()
    watch.look()
    assert not wake.is_set()  # told once
    assert store.leases(owner="host-b:202", seconds=LEASE).claim("hr")  # and taken over
    assert watch.look() == pytest.approx(LEASE / 3) and not wake.is_set()
    watch.close()
    store.close()


def test_a_run_taken_over_is_never_rewritten_by_the_worker_that_lost_it(url: str) -> None:
    clock = VirtualClock()
    store = Store(url, clock=clock, integration="hr")
    frozen = store.leases(owner=this_process(), seconds=LEASE)  # this process, then frozen
    assert frozen.claim("hr")
    run_id = store.start_run("apply")
    clock.advance(LEASE + 1)
    assert store.leases(owner="host-b:202", seconds=LEASE).claim("hr")  # taken over
    taken = store.run(run_id)
    assert taken is not None and taken.status == "interrupted"

    clock.advance(60)  # resumed: the run ends as the frozen worker saw it end
    assert store.finish_run(run_id, "failed", {"error": "lease lost"}) is False
    kept = store.run(run_id)
    assert kept == taken  # still interrupted, when it was taken over, by its own worker

    mine = store.start_run("apply")  # the owner of a running run does finish it
    assert store.finish_run(mine, "succeeded", {}) is True
    with store.engine.begin() as connection:  # a run another process started
        connection.execute(update(Run).where(Run.id == mine).values(status="running"))
        connection.execute(update(Run).where(Run.id == mine).values(owner="host-b:202"))
    assert store.finish_run(mine, "failed", {}) is False
    record = store.run(mine)
    assert record is not None and record.status == "running"
    store.close()


def test_a_hold_past_its_length_asks_the_store_before_a_call(url: str) -> None:
    clock = VirtualClock()
    store = Store(url, clock=clock, integration="hr")
    leases = store.leases(owner="host-a:101", seconds=LEASE)
    assert leases.claim("hr")
    hold = Hold(leases, "hr", since=time.monotonic())  # its renewals are this test's
    hold.valid_until = 0.0  # frozen past its length: nobody took it meanwhile
    assert hold.valid() and not hold.lost.is_set()  # renewed: still ours
    hold.valid_until = 0.0
    with store.engine.begin() as connection:  # another worker took it over meanwhile
        connection.execute(update(Lease).values(owner="host-b:202", expires_at=2e9))
    assert not hold.valid() and hold.lost.is_set()
    assert not hold.valid()  # and stays lost
    store.close()


def test_a_pacing_wait_ends_as_soon_as_the_lease_is_lost() -> None:
    stop, lost = threading.Event(), threading.Event()
    clock = StoppableClock(stop, lost.is_set)
    clock.sleep(0.01)  # an ordinary wait
    lost.set()
    with pytest.raises(LeaseLost):
        clock.sleep(60)  # at once, never 60 s
    lost.clear()
    threading.Timer(0.05, lost.set).start()  # lost while it waits
    began = time.monotonic()
    with pytest.raises(LeaseLost):
        clock.sleep(60)
    assert time.monotonic() - began < 2
    stop.set()
    lost.clear()
    with pytest.raises(Stopping):
        clock.sleep(60)


def test_a_run_in_its_pacing_wait_stops_once_its_lease_was_taken_over(tmp_path: Path) -> None:
    from hrsync.clock import RealClock

    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=RealClock())
    # Renewed every fifth of a second: the renewal after the takeover says so.
    leases = store.leases(owner="host-a:101", seconds=0.6)
    assert leases.claim("hr")
    hold = Hold(leases, "hr", since=time.monotonic())
    hold.start()
    clock = StoppableClock(threading.Event(), hold.lost.is_set)
    with store.engine.begin() as connection:  # another worker took it over
        connection.execute(update(Lease).values(owner="host-b:202", expires_at=2e9))
    began = time.monotonic()
    with pytest.raises(LeaseLost):
        clock.sleep(58)  # Zoho's rolling minute, as the frozen worker was waiting it out
    assert time.monotonic() - began < 5
    hold.end()
    store.close()
