"""The HR systems the emulator plays (BambooHR, Personio, HiBob), as tests meet them: each
one's credentials made through the emulator's control calls, people seeded in the vendor's
own field names, and hrsync's ``[source]`` for its preset pointed at the emulator.

People are written in hrsync's canonical fields (``people(n)``); each vendor turns them into
its own record, the way an HR admin's data would look there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hrsync.cli.demo import sample_employees

Person = dict[str, str]


def people(n: int, seed: int = 42) -> list[Person]:
    """``n`` people with numeric employee ids ("1" is the CEO), as HR APIs number them."""
    found = []
    for row in sample_employees(n, seed):
        person = dict(row)
        person["employee_id"] = str(int(row["employee_id"][1:]))
        person["manager_id"] = str(int(row["manager_id"][1:])) if row["manager_id"] else ""
        person.setdefault("exit_date", "")
        found.append(person)
    return found


@dataclass(frozen=True)
class Vendor:
    name: str  # the preset's
    source: Callable[[httpx.Client, str], dict[str, Any]]  # [source] for the emulator at base
    record: Callable[[Person], dict[str, Any]]  # a person in the vendor's own fields
    control: str  # under /_emulator/hr/

    def seed(self, http: httpx.Client, base: str, persons: list[Person]) -> None:
        answer = http.post(
            f"{base}/_emulator/hr/{self.control}/employees",
            json=[self.record(p) for p in persons],
        )
        assert answer.status_code == 200, answer.text

    def delete(self, http: httpx.Client, base: str, employee_id: str) -> None:
        answer = http.delete(f"{base}/_emulator/hr/{self.control}/employees/{employee_id}")
        assert answer.status_code in (200, 204), answer.text

    def fault(self, http: httpx.Client, base: str, **fault: Any) -> None:
        answer = http.post(f"{base}/_emulator/hr/{self.control}/faults", json=fault)
        assert answer.status_code == 200, answer.text


def _active(person: Person) -> bool:
    return person["status"] == "active"


# --- BambooHR ------------------------------------------------------------------------------
def _bamboohr_source(http: httpx.Client, base: str) -> dict[str, Any]:
    answer = http.post(
        f"{base}/_emulator/hr/bamboohr/keys",
        json={"key": "bamboo-key-1", "company": "acme", "access": "full"},
    )
    assert answer.status_code == 200, answer.text
    return {
        "kind": "rest",
        "preset": "bamboohr",
        "rest": {
            "base_url": f"{base}/bamboohr/acme",
            "allow_http": True,
            "auth": {"token": "bamboo-key-1"},
        },
    }


def _bamboohr_record(p: Person) -> dict[str, Any]:
    return {
        "id": p["employee_id"],
        "workEmail": p["email"],
        "firstName": p["first_name"],
        "lastName": p["last_name"],
        "department": p["department"],
        "jobTitle": p["designation"],
        "location": p["work_location"],
        "mobilePhone": p.get("mobile", ""),
        "workPhone": p.get("work_phone", ""),
        "workPhoneExtension": p.get("extension", ""),
        "status": "Active" if _active(p) else "Inactive",
        "hireDate": p.get("hire_date") or "0000-00-00",
        "terminationDate": p.get("exit_date") or "0000-00-00",
        "supervisorEId": p["manager_id"],
    }


# --- Personio ------------------------------------------------------------------------------
def _personio_source(http: httpx.Client, base: str) -> dict[str, Any]:
    answer = http.post(
        f"{base}/_emulator/hr/personio/credentials",
        json={
            "client_id": "papi-client",
            "client_secret": "papi-secret",
            "scopes": ["employees:read"],
        },
    )
    assert answer.status_code == 200, answer.text
    return {
        "kind": "rest",
        "preset": "personio",
        "rest": {
            "base_url": f"{base}/personio",
            "allow_http": True,
            "auth": {"client_id": "papi-client", "client_secret": "papi-secret"},
        },
    }


def _personio_record(p: Person) -> dict[str, Any]:
    return {
        "id": int(p["employee_id"]),
        "email": p["email"],
        "first_name": p["first_name"],
        "last_name": p["last_name"],
        "department": p["department"],
        "position": p["designation"],
        "office": p["work_location"],
        "status": "active" if _active(p) else "inactive",
        "hire_date": p.get("hire_date") or None,
        "termination_date": p.get("exit_date") or None,
        "supervisor": int(p["manager_id"]) if p["manager_id"] else None,
    }


# --- HiBob ---------------------------------------------------------------------------------
def _hibob_source(http: httpx.Client, base: str) -> dict[str, Any]:
    answer = http.post(
        f"{base}/_emulator/hr/hibob/service-users",
        json={"id": "SERVICE-HRSYNC", "token": "bob-token-1", "permissions": ["*"]},
    )
    assert answer.status_code == 200, answer.text
    return {
        "kind": "rest",
        "preset": "hibob",
        "rest": {
            "base_url": f"{base}/hibob",
            "allow_http": True,
            "auth": {"username": "SERVICE-HRSYNC", "password": "bob-token-1"},
        },
    }


def _hibob_record(p: Person) -> dict[str, Any]:
    work: dict[str, Any] = {
        "department": p["department"],
        "title": p["designation"],
        "site": p["work_location"],
        "startDate": p.get("hire_date") or None,
    }
    if p["manager_id"]:
        work["reportsTo"] = p["manager_id"]
    internal: dict[str, Any] = {"status": "Active" if _active(p) else "Inactive"}
    if p.get("exit_date"):
        internal["terminationDate"] = p["exit_date"]
    return {
        "id": p["employee_id"],
        "email": p["email"],
        "firstName": p["first_name"],
        "surname": p["last_name"],
        "work": work,
        "internal": internal,
    }


VENDORS: dict[str, Vendor] = {
    "bamboohr": Vendor("bamboohr", _bamboohr_source, _bamboohr_record, "bamboohr"),
    "personio": Vendor("personio", _personio_source, _personio_record, "personio"),
    "hibob": Vendor("hibob", _hibob_source, _hibob_record, "hibob"),
}
