"""An HR script pushes people as it pushes to Microsoft Entra's API-driven inbound
provisioning: a ``BulkRequest`` of ``POST`` operations on ``/Users`` keyed by ``externalId``
(with Microsoft's sample's repeated ``bulkId``), to the path Entra uses, with a custom
extension's attribute mapped by the configuration and the manager by HR id. hrsync answers
202 with a Location that tells what became of each record; ``?dryRun=true`` answers the plan
and keeps nothing; an omitted ``active`` never disables anyone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Serve
from tests.e2e.test_scim import CORE, ENTERPRISE, cliq_user, scim_service
from tests.e2e.test_serve import wait_for

pytestmark = pytest.mark.e2e

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ACME = "urn:ietf:params:scim:schemas:extension:acme:1.0:User"
ENTRA_PATH = "/v1.0/servicePrincipals/8f1d/synchronization/jobs/API2AAD.8f1d/bulkUpload"


def record(eid: str, name: str, *, manager: str = "", **more: Any) -> dict[str, Any]:
    enterprise: dict[str, Any] = {"employeeNumber": eid, "department": "Tour Operations"}
    if manager:
        enterprise["manager"] = {"value": manager}
    return {
        "method": "POST",
        "bulkId": "701984",  # repeated, as in Microsoft's sample
        "path": "/Users",
        "data": {
            "schemas": [CORE, ENTERPRISE, ACME],
            "externalId": eid,
            "userName": f"{name}@example.com",
            "name": {"givenName": name.title(), "familyName": "Jensen"},
            "emails": [{"value": f"{name}@example.com", "type": "work", "primary": True}],
            "title": "Tour Guide",
            ENTERPRISE: enterprise,
            ACME: {"Office": "Hollywood"},
            **more,
        },
    }


def upload(*records: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [BULK], "Operations": list(records), "failOnErrors": None}


def test_a_bulk_upload_reaches_cliq_and_says_what_became_of_each_record(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base, url, scim = scim_service(
        serve, tmp_path, service, source=f'attributes = {{ "{ACME}:Office" = "work_location" }}'
    )
    bulk = httpx.Client(base_url=url, headers=dict(scim.headers), timeout=60)
    with scim, bulk:
        people = (
            record("701984", "babs", active=True),
            record("902831", "kim", manager="701984"),  # no "active": unchanged, never off
            {"method": "DELETE", "path": "/Users/x"},
        )
        dry = bulk.post(f"{ENTRA_PATH}?dryRun=true", json=upload(*people))
        assert dry.status_code == 200, dry.text
        planned = [c["change"] for c in dry.json()["plan"]["changes"]]
        assert any("701984" in c or "babs@example.com" in c for c in planned), planned
        assert scim.get("/Users").json()["totalResults"] == 0  # a dry run keeps nothing

        taken = bulk.post(ENTRA_PATH, json=upload(*people))
        assert taken.status_code == 202, taken.text
        said = taken.json()
        assert (said["stored"], said["refused"], said["withoutActive"]) == (2, 1, 1)
        assert "POST operations" in said["records"][2]["reason"]
        location = taken.headers["location"]

        def applied() -> list[str]:
            states = [r.get("state", "") for r in bulk.get(location).json()["records"][:2]]
            return states if states == ["applied", "applied"] else []

        wait_for(applied, 60, "the upload's records were not applied")
        babs, kim = cliq_user(base, "701984"), cliq_user(base, "902831")
        assert babs and kim and kim["reportingto"]["id"] == babs["id"]
        assert kim["status"] != "inactive"  # omitted active: not disabled
        assert babs.get("office_location") == "Hollywood"  # the custom attribute, mapped
        assert kim["department"]["name"] == "Tour Operations"

        # Kim leaves: active false, sent as the script sends it.
        left = bulk.post("/scim/v2/bulkUpload", json=upload(record("902831", "kim", active=False)))
        assert left.status_code == 202 and left.json()["records"][0]["action"] == "updated"
        wait_for(lambda: (cliq_user(base, "902831") or {}).get("status") == "inactive", 60,
                 "the leaver was not deactivated")  # fmt: skip
        too_many = bulk.post(
            ENTRA_PATH, json=upload(*[record(f"E{n}", f"p{n}") for n in range(51)])
        )
        assert too_many.status_code == 413
