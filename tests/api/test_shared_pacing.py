"""Pacing shared for real: every process using the store counts every call that reached Zoho,
its own and the others', including one cut off by a kill, whichever integration it runs."""

from __future__ import annotations

import contextlib
import multiprocessing
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.api.ratelimit import ZOHO_LIMITS, Pacer
from hrsync.config import Settings, StoreConfig
from hrsync.store import Store
from hrsync.wiring import App, build
from tests.conftest import World

LIST_USERS = ("GET", "/api/v2/users")


def list_users(app: App) -> None:
    app.http.call(*LIST_USERS, endpoint="users.list", params={"limit": 100})


def test_a_killed_call_and_two_plans_at_once_stay_inside_the_limit(world: World) -> None:
    start = world.clock.now()

    class DiesWhileWaiting(httpx.BaseTransport):
        """Zoho receives every call; the process is killed before the answer to the 21st
        list arrives."""

        lists = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = world.transport.handle_request(request)
            if "/oauth/" not in request.url.path:
                self.lists += 1
            if self.lists > 20:
                raise KeyboardInterrupt
            return answer

    killed = world.app(transport=DiesWhileWaiting())
    for _ in range(20):  # users.list allows 30 a minute
        list_users(killed)
    with pytest.raises(KeyboardInterrupt):
        list_users(killed)

    first, second = world.app(), world.app()  # two plans start together
    for _ in range(10):
        list_users(first)
        list_users(second)
    first.close()
    second.close()
    stats = world.stats()
    assert stats["lock_periods_total"] == 0
    assert stats["calls"]["users.list"] == 41  # type: ignore[index]
    assert world.clock.now() - start >= 60  # the last calls waited for the first ones to age out


class MustWait(Exception):
    pass


class StoppedClock:
    """Time that stands still; asked to wait, the process stops taking places."""

    def now(self) -> float:
        return 1_767_225_600.0

    def sleep(self, seconds: float) -> None:
        raise MustWait


def take_places(url: str, rounds: int, barrier: Any, taken: Any) -> None:
    """In a child process: at each round, with the other process, take every place of a
    fresh minute of "add users" calls; report how many this process got."""
    clock = StoppedClock()
    store = Store(url, clock=clock)
    for n in range(rounds):
        pacer = Pacer(clock, margin=0, log=store.call_log(f"round-{n}"))
        barrier.wait()
        got = 0
        with contextlib.suppress(MustWait):
            while True:
                pacer.wait("users.add")
                got += 1
        taken.put((n, got))
    store.close()


def two_processes_take_places(url: str, rounds: int) -> dict[int, int]:
    Store(url, clock=StoppedClock()).close()  # migrated once, before the race
    spawn = multiprocessing.get_context("spawn")
    barrier, taken = spawn.Barrier(2), spawn.Queue()
    children = [
        spawn.Process(target=take_places, args=(url, rounds, barrier, taken)) for _ in range(2)
    ]
    for child in children:
        child.start()
    totals: dict[int, int] = {}
    for _ in range(2 * rounds):
        n, got = taken.get(timeout=60)
        totals[n] = totals.get(n, 0) + got
    for child in children:
        child.join(timeout=30)
    return totals


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_processes_never_take_more_places_than_the_limit(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'hrsync.db'}"
    if kind == "postgresql":
        url = request.getfixturevalue("postgres_url")
    totals = two_processes_take_places(url, rounds=10)
    assert totals == dict.fromkeys(range(10), ZOHO_LIMITS["users.add"].per_minute)


def take_places_for(settings: Settings, integration: str, barrier: Any, taken: Any) -> None:
    """In a child process: a run of ``integration`` takes every place it can of a fresh
    minute of "add users" calls; report how many it got."""
    app = build(settings, dry_run=True, clock=StoppedClock(), integration=integration)
    barrier.wait()
    got = 0
    with contextlib.suppress(MustWait):
        while True:
            app.http.pacer.wait("users.add")
            got += 1
    app.close()
    taken.put(got)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_integrations_on_one_organisation_share_its_pacing(
    kind: str, world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Zoho's limits are the organisation's (its API host's), not an integration's: two
    workers running two integrations against it at once stay within them together."""
    if kind == "postgresql":
        world.settings.store = StoreConfig(url=request.getfixturevalue("postgres_url"))
    Store(world.settings.store.url, clock=StoppedClock()).close()  # migrated before the race
    spawn = multiprocessing.get_context("spawn")
    barrier, taken = spawn.Barrier(2), spawn.Queue()
    children = [
        spawn.Process(target=take_places_for, args=(world.settings, name, barrier, taken))
        for name in ("hr-to-cliq", "payroll-to-cliq")
    ]
    for child in children:
        child.start()
    got = [taken.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert sum(got) == ZOHO_LIMITS["users.add"].per_minute
