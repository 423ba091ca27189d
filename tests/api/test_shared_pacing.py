"""Pacing shared for real: every process using the store counts every call that reached Zoho,
its own and the others', including one cut off by a kill."""

from __future__ import annotations

import httpx
import pytest

from hrsync.wiring import App
from tests.conftest import World

LIST_USERS = ("GET", "/api/v2/users")


def list_users(app: App) -> None:
    app.http.call(*LIST_USERS, endpoint="users.list", params={"limit": 100})


def test_a_killed_call_and_two_plans_at_once_stay_inside_the_limit(world: World) -> None:
    start = world.clock.now()
    killed = world.app()
    for _ in range(20):  # users.list allows 30 a minute
        list_users(killed)
    original = world.http._transport

    class DiesWhileWaiting(httpx.BaseTransport):
        """Zoho receives the call; the process is killed before the answer arrives."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            original.handle_request(request)
            raise KeyboardInterrupt

    world.http._transport = DiesWhileWaiting()
    with pytest.raises(KeyboardInterrupt):
        list_users(killed)
    world.http._transport = original

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
