"""Client id, secret and refresh token in hrsync.toml: one access token shared by every process,
like a connection's, and an "Access Denied" from Zoho Accounts explained as what it is."""

from __future__ import annotations

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.errors import AuthError
from tests.conftest import BASE, World


def plan_in_a_new_process(world: World) -> None:
    app = world.app(dry_run=True)  # a new process: its own clients, the same store
    try:
        app.engine.run_plan()
    finally:
        app.close()


def test_processes_with_keys_in_the_config_share_one_access_token(world: World) -> None:
    world.write(sample_employees(10))
    for _ in range(12):  # twelve runs in nine minutes: Zoho allows ten tokens in ten
        plan_in_a_new_process(world)
        world.clock.advance(45)
    assert world.stats()["token_refreshes"] == 1
    world.clock.advance(3600)  # the token expired: the next process fetches one, once
    plan_in_a_new_process(world)
    plan_in_a_new_process(world)
    assert world.stats()["token_refreshes"] == 2
    assert world.stats()["lock_periods_total"] == 0


def test_access_denied_is_said_as_such_and_not_asked_again_for_ten_minutes(
    world: World,
) -> None:
    world.write(sample_employees(10))
    cliq = world.settings.cliq
    for _ in range(10):  # another tool used the refresh token up
        world.http.post(
            f"{BASE}/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": cliq.refresh_token.get_secret_value(),
                "client_id": cliq.client_id,
                "client_secret": cliq.client_secret.get_secret_value(),
            },
        )
    with pytest.raises(AuthError, match=r"Access Denied.*too many token requests") as denied:
        plan_in_a_new_process(world)
    assert "client_id" not in str(denied.value)
    with pytest.raises(AuthError, match="will not ask again for 10 min"):
        plan_in_a_new_process(world)
    assert world.stats()["token_refreshes"] == 10  # the second process did not ask
