"""Cliq's "post message in a channel" as its messages document has it: by the channel's unique
name, with ``ZohoCliq.Webhooks.CREATE``, answered 204; the control API shows what was posted."""

from __future__ import annotations

from tests.api.test_emulator_scopes import headers_for
from tests.conftest import BASE, World

PATH = f"{BASE}/api/v2/channelsbyname/hrsync-alerts/message"


def test_a_message_is_kept_in_its_channel(world: World) -> None:
    made = world.http.post(f"{BASE}/_emulator/channels", json={"unique_name": "hrsync-alerts"})
    assert made.status_code == 200 and made.json()["messages"] == []
    poster = headers_for(world, "ZohoCliq.Webhooks.CREATE")
    posted = world.http.post(PATH, json={"text": "Run 4 of hr is held"}, headers=poster)
    assert posted.status_code == 204 and posted.content == b""
    channels = world.http.get(f"{BASE}/_emulator/channels").json()["channels"]
    assert [m["text"] for m in channels[0]["messages"]] == ["Run 4 of hr is held"]
    assert world.stats()["calls"]["channels.message"] == 1  # type: ignore[index]


def test_the_webhooks_scope_is_needed(world: World) -> None:
    world.http.post(f"{BASE}/_emulator/channels", json={"unique_name": "hrsync-alerts"})
    syncer = headers_for(world, "ZohoCliq.Users.ALL,ZohoCliq.Departments.ALL")
    refused = world.http.post(PATH, json={"text": "hello"}, headers=syncer)
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_oauthscope"
    assert world.http.post(PATH, json={"text": "hello"}).status_code == 401  # no token
    channels = world.http.get(f"{BASE}/_emulator/channels").json()["channels"]
    assert channels[0]["messages"] == []


def test_an_unknown_channel_or_a_bad_body_is_refused(world: World) -> None:
    poster = headers_for(world, "ZohoCliq.Webhooks.CREATE")
    unknown = world.http.post(PATH, json={"text": "hello"}, headers=poster)
    assert unknown.status_code == 404 and unknown.json()["code"] == "channel_not_found"
    world.http.post(
        f"{BASE}/_emulator/channels", json={"unique_name": "hrsync-alerts", "participants": []}
    )
    not_in_it = world.http.post(PATH, json={"text": "hello"}, headers=poster)
    assert not_in_it.status_code == 404  # not a participant: the same answer as unknown
    world.http.post(f"{BASE}/_emulator/channels", json={"unique_name": "hrsync-alerts"})
    for body in ({}, {"text": ""}, {"text": "x" * 5001}, {"text": 7}):
        assert world.http.post(PATH, json=body, headers=poster).status_code == 400
    assert world.http.post(PATH, json={"text": "x" * 5000}, headers=poster).status_code == 204
