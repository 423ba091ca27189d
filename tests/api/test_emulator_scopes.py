"""The emulator refuses a call whose token lacks the documented scope."""

from __future__ import annotations

from hrsync.cli.demo import grant_refresh_token
from tests.conftest import BASE, World


def headers_for(world: World, scope: str) -> dict[str, str]:
    client_id, secret, refresh = grant_refresh_token(world.http, BASE, scope=scope)
    token = world.http.post(
        f"{BASE}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": refresh,
        },
    ).json()["access_token"]
    return {"Authorization": f"Zoho-oauthtoken {token}"}


def test_each_call_needs_its_documented_scope(world: World) -> None:
    reader = headers_for(world, "ZohoCliq.Users.READ")
    assert world.http.get(f"{BASE}/api/v2/users", headers=reader).status_code == 200
    assert world.http.get(f"{BASE}/api/v2/userfields", headers=reader).status_code == 200
    refused = world.http.post(
        f"{BASE}/api/v2/users", json={"users": [{"email_id": "a@b.example"}]}, headers=reader
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "invalid_oauthscope"
    assert world.http.get(f"{BASE}/api/v2/teams", headers=reader).status_code == 403
    people = world.http.get(f"{BASE}/people/api/forms/employee/getRecords", headers=reader)
    assert people.json()["response"]["errors"]["code"] == 7040
    connect = world.http.get(
        f"{BASE}/pulse/api/allGroups", params={"scopeID": "105000017039001"}, headers=reader
    )
    assert connect.status_code == 403

    admin = headers_for(world, "ZohoCliq.Organisation.ALL,zohopulse.userDetail.READ")
    assert world.http.get(f"{BASE}/api/v2/profiles", headers=admin).status_code == 200
    assert (
        world.http.get(
            f"{BASE}/pulse/api/allGroups", params={"scopeID": "105000017039001"}, headers=admin
        ).status_code
        == 200
    )


def test_a_sync_without_team_rules_needs_no_teams_scope(world: World) -> None:
    from hrsync.access.integrations import CLIQ_SCOPES
    from hrsync.cli.demo import sample_employees
    from tests.conftest import service
    from tests.support import converge, planned

    client_id, secret, refresh = grant_refresh_token(world.http, BASE, scope=",".join(CLIQ_SCOPES))
    world.settings.cliq = service(BASE, client_id, secret, refresh)
    world.write(sample_employees(30))
    converge(world)
    assert planned(world) == []
    assert "teams" not in world.stats()["calls"]  # type: ignore[operator]
