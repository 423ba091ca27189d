"""An identity provider pushes people to ``hrsync serve`` over SCIM 2.0, as Microsoft Entra
ID's provisioning does it (create, query by userName and by externalId, PATCH ``Replace``,
``active`` as the string "False", the manager by its dotted path as a bare string), and
they reach the Cliq emulator with their department, designation and manager; a
deactivation arrives; nothing is sent to Zoho inside a request."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.cli.demo import grant_refresh_token
from tests.e2e.conftest import Serve, run_hrsync
from tests.e2e.test_serve import wait_for

pytestmark = pytest.mark.e2e

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HRSYNC = "urn:ietf:params:scim:schemas:extension:hrsync:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def scim_service(
    serve: Serve,
    tmp_path: Path,
    service: Any,
    *,
    source: str = "",
    serve_args: tuple[str, ...] = (),
) -> tuple[str, str, httpx.Client]:
    """The Cliq emulator, hrsync.toml's own integration as a SCIM source into it (with
    ``source``'s lines in its [source] too), its token and ``hrsync serve``: (emulator URL,
    service URL, a client carrying the token)."""
    base = serve("real")
    with httpx.Client() as http:
        client_id, secret, refresh = grant_refresh_token(http, base)
    (tmp_path / "hrsync.toml").write_text(
        f'[source]\nkind = "scim"\ndebounce_seconds = 1\n{source}\n'
        f'[cliq]\napi_url = "{base}"\naccounts_url = "{base}"\nclient_id = "{client_id}"\n'
        "allow_http = true\n",
        encoding="utf-8",
    )
    env = os.environ | {"HRSYNC_CLIQ__CLIENT_SECRET": secret, "HRSYNC_CLIQ__REFRESH_TOKEN": refresh}
    made = run_hrsync(tmp_path, env, "--json", "integrations", "scim-token", "hrsync.toml")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    _, url = service(env, *serve_args)
    client = httpx.Client(
        base_url=f"{url}/scim/v2",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=30,
    )
    return base, url, client


def cliq_user(base: str, employee_id: str) -> dict[str, Any] | None:
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    return next((u for u in users if u.get("employee_id") == employee_id), None)


def test_entra_provisioning_reaches_cliq(serve: Serve, tmp_path: Path, service: Any) -> None:
    base, _, scim = scim_service(serve, tmp_path, service)
    with scim:
        # Entra asks whether the user exists, by userName, before creating them.
        asked = scim.get("/Users", params={"filter": 'userName eq "ada@example.com"'})
        assert asked.status_code == 200 and asked.json()["totalResults"] == 0
        ada = scim.post(
            "/Users",
            json={
                "schemas": [CORE, ENTERPRISE, HRSYNC],
                "externalId": "E1",
                "userName": "ada@example.com",
                "active": True,
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"primary": True, "type": "work", "value": "ada@example.com"}],
                ENTERPRISE: {"department": "Engineering", "employeeNumber": "1001"},
                HRSYNC: {"designation": "Director", "workLocation": "London"},
            },
        )
        assert ada.status_code == 201, ada.text
        ada_id = ada.json()["id"]
        by_external = scim.get("/Users", params={"filter": 'externalId eq "E2"'})
        assert by_external.json()["totalResults"] == 0
        bob = scim.post(
            "/Users",
            json={
                "schemas": [CORE, ENTERPRISE],
                "externalId": "E2",
                "userName": "bob@example.com",
                "active": "True",  # Entra's string
                "name": {"givenName": "Bob", "familyName": "Babbage"},
                "emails": [{"primary": True, "type": "work", "value": "bob@example.com"}],
                "title": "Engineer",
                ENTERPRISE: {"department": "Engineering"},
            },
        )
        assert bob.status_code == 201, bob.text
        bob_id = bob.json()["id"]
        manager = scim.patch(
            f"/Users/{bob_id}",
            json={
                "schemas": [PATCH],
                "Operations": [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": ada_id}],
            },
        )
        assert manager.status_code == 204, manager.text
        # GET returns what was pushed: Entra then has nothing more to PATCH.
        got = scim.get(f"/Users/{bob_id}").json()
        assert got[ENTERPRISE]["manager"]["value"] == ada_id and got["active"] is True

        def synced() -> bool:
            a, b = cliq_user(base, "E1"), cliq_user(base, "E2")
            return bool(
                a and b and b.get("reportingto", {}).get("id") == a["id"]
                and a.get("designation", {}).get("name") == "Director"
                and a.get("office_location") == "London"  # a Cliq custom field
                and b.get("designation", {}).get("name") == "Engineer"
                and b.get("department", {}).get("name") == "Engineering"
            )  # fmt: skip

        wait_for(synced, 60, "the pushed people did not reach Cliq with their fields")

        moved = scim.patch(
            f"/Users/{ada_id}",
            json={
                "schemas": [PATCH],
                "Operations": [
                    {"op": "Replace", "value": {f"{ENTERPRISE}:department": "Research"}}
                ],
            },
        )
        assert moved.status_code == 204
        inactive = {"op": "Replace", "path": "active", "value": "False"}
        left = scim.patch(f"/Users/{bob_id}", json={"schemas": [PATCH], "Operations": [inactive]})
        assert left.status_code == 204
        assert scim.get(f"/Users/{bob_id}").json()["active"] is False  # still returned
        wait_for(
            lambda: (
                (cliq_user(base, "E2") or {}).get("status") == "inactive"
                and (cliq_user(base, "E1") or {}).get("department", {}).get("name") == "Research"
            ),
            60,
            "the leaver was not deactivated, or the mover not moved",
        )


def test_a_push_is_synced_once_its_debounce_is_over_not_at_the_next_tick(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    """Schedules are looked at every minute here: a push (due a second after it came) is
    synced within seconds all the same."""
    import time

    base, _, scim = scim_service(serve, tmp_path, service, serve_args=("--check-every", "60"))
    with scim:
        time.sleep(2)  # the scheduler's first look is over: it now waits its minute
        pushed = time.monotonic()
        body = {"schemas": [CORE], "externalId": "E9", "userName": "grace@example.com"}
        assert scim.post("/Users", json=body).status_code == 201
        wait_for(lambda: cliq_user(base, "E9"), 30, "the push waited for the next tick")
        assert time.monotonic() - pushed < 20
