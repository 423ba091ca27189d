"""The emulator is strict where Zoho is: a malformed request is a typed 400, never a 500.

Every refusal carries Zoho's ``{"code", "message"}``; an unknown body key is refused in every
Cliq body (READINGS #22); an organisation holds at most 10 custom user fields (#14); a role
update needs both name and description (#17). A handler that fails on a request anyway answers
400 and is counted, so a bug stays visible; a 500 comes only from the faults control API.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from hrsync.clock import VirtualClock
from hrsync.emulator import Emulator, EmuRequest
from hrsync.emulator import app as emulator_app
from tests.conftest import BASE, World
from tests.support import access_token

API = f"{BASE}/api/v2"


@pytest.fixture
def auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {access_token(world)}"}


def send(world: World, auth: dict[str, str], method: str, path: str, body: Any) -> httpx.Response:
    world.clock.advance(12)  # at most 5 calls a minute: never the rate limit's answer
    return world.http.request(method, f"{API}{path}", json=body, headers=auth)


def ids(world: World) -> dict[str, str]:
    state: Any = world.state()
    members = next(r["id"] for r in state["roles"] if r["name"] == "Members")
    return {"admin": state["admin_id"], "dept": state["departments"][0]["id"], "role": members}


def refusal(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"code", "message"} and body["code"] and body["message"], body
    return body


# Each documented body with one key too many (READINGS #22: every body, not only a user's).
EXTRA_KEY_BODIES = [
    ("POST", "/users", {"users": [{"email_id": "a@zylker.example"}], "notify": True}),
    ("POST", "/users", {"users": [{"email_id": "a@zylker.example", "nickname": "A"}]}),
    ("POST", "/departments", {"name": "Ops", "lead_zuid": "{admin}", "colour": "red"}),
    ("PUT", "/departments/{dept}", {"name": "Z", "colour": "red"}),
    ("POST", "/departments/{dept}/members", {"user_ids": ["{admin}"], "colour": "red"}),
    ("POST", "/designations", {"name": "Lead", "colour": "red"}),
    ("POST", "/profiles", {"name": "Ops", "profile_type": "Members", "colour": "red"}),
    ("PUT", "/profiles/{role}", {"name": "Ops", "description": "", "colour": "red"}),
    ("POST", "/profiles/{role}/users", {"user_ids": ["{admin}"], "colour": "red"}),
    ("POST", "/userfields", {"name": "Shirt size", "colour": "red"}),
    ("POST", "/statuses", {"code": "busy", "message": "Out", "colour": "red"}),
    ("POST", "/teams", {"name": "Ops", "colour": "red"}),
    ("POST", "/channelsbyname/general/message", {"text": "hello", "colour": "red"}),
]


def _filled(value: Any, known: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**known)
    if isinstance(value, list):
        return [_filled(v, known) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, known) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), EXTRA_KEY_BODIES)
def test_an_unknown_key_is_refused_in_every_body(
    world: World, auth: dict[str, str], method: str, path: str, body: dict[str, Any]
) -> None:
    known = ids(world)
    answer = send(world, auth, method, path.format(**known), _filled(body, known))
    extra = "nickname" if "nickname" in str(body) else ("notify" if "notify" in body else "colour")
    assert refusal(answer) == {
        "code": "extra_key_found",
        "message": f"'{extra}' is an extra key in the JSON Object.",
    }


# A list or an object where an id, a name or a code belongs: each of these was a 500.
WRONG_TYPES = [
    ("POST", "/departments", {"name": "Ops", "lead_zuid": ["1"], "parent_department_id": "1"}),
    ("POST", "/statuses", {"code": ["busy"], "message": "Out"}),
    ("PUT", "/statuses/ephemeral", {"code": {"x": 1}, "message": "Out", "expiry": 1}),
    ("PUT", "/profiles/{custom}/permissions", {"list": [{"module": ["direct_message"]}]}),
    (
        "PUT",
        "/profiles/{custom}/permissions",
        {"list": [{"module": "direct_message", "configs": 7}]},
    ),
    ("POST", "/users", {"users": [{"email_id": "a@zylker.example", "department_id": ["1"]}]}),
    ("POST", "/users", {"users": [{"email_id": "a@zylker.example", "team_ids": 5}]}),
    ("PUT", "/userfields/{field}", {"options": [{"id": ["1"], "name": "Yes"}]}),
    ("POST", "/teams", {"name": {"en": "Ops"}}),
    ("POST", "/users", {"users": "a@zylker.example"}),
    ("POST", "/designations", ["Lead"]),
]


@pytest.mark.parametrize(("method", "path", "body"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_a_typed_400(
    world: World, auth: dict[str, str], method: str, path: str, body: Any
) -> None:
    known = ids(world)
    role = send(world, auth, "POST", "/profiles", {"name": "Ops", "profile_type": "Members"})
    state: Any = world.state()
    gender = next(f["id"] for f in state["userfields"] if f["unique_name"] == "gender")
    known |= {"custom": role.json()["data"]["id"], "field": gender}
    answer = send(world, auth, method, path.format(**known), body)
    assert refusal(answer)["code"] in {"input_data_invalid", "input_data_missing"}
    assert world.stats()["unexpected_errors"] == 0


def test_every_400_carries_a_code(world: World, auth: dict[str, str]) -> None:
    for method, path, body in [
        ("GET", "/users?limit=many", None),
        ("GET", "/users?limit=1000", None),
        ("GET", "/users?status=retired", None),
        ("POST", "/designations", None),
        ("GET", "/users?limit=0", None),
    ]:
        answer = send(world, auth, method, path.format(**ids(world)), body)
        assert refusal(answer)["code"] == "input_data_invalid", (method, path)


def test_an_organisation_holds_at_most_ten_custom_fields(
    world: World, auth: dict[str, str]
) -> None:
    state: Any = world.state()
    held = len(state["userfields"])
    for n in range(10 - held):
        made = send(world, auth, "POST", "/userfields", {"name": f"Field {n}"})
        assert made.status_code == 200, made.text
    eleventh = send(world, auth, "POST", "/userfields", {"name": "One too many"})
    assert refusal(eleventh) == {
        "code": "FIELD_MAX_CUSTOM_FIELD_LIMIT_REACHED",
        "message": "The maximum of 10 custom user fields has been reached.",
    }
    fields: Any = world.state()["userfields"]
    assert len(fields) == 10
    gone = send(world, auth, "DELETE", f"/userfields/{fields[-1]['id']}", None)
    assert gone.status_code == 204
    assert send(world, auth, "POST", "/userfields", {"name": "Room again"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "absent"),
    [({"name": "Ops"}, "description"), ({"description": "Operations"}, "name")],
)
def test_a_role_update_needs_both_name_and_description(
    world: World, auth: dict[str, str], body: dict[str, str], absent: str
) -> None:
    made = send(world, auth, "POST", "/profiles", {"name": "Ops", "profile_type": "Members"})
    role = made.json()["data"]["id"]
    answer = send(world, auth, "PUT", f"/profiles/{role}", body)
    assert refusal(answer) == {"code": "input_data_missing", "message": f"'{absent}' is required."}
    both = {"name": "Ops", "description": "Operations"}
    assert send(world, auth, "PUT", f"/profiles/{role}", both).status_code == 204


def test_a_handler_that_fails_answers_400_and_is_counted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The last resort keeps a bug visible (logged, counted) without a bare 500."""
    emulator = Emulator(VirtualClock())

    def broken(*args: object) -> None:
        raise KeyError("a bug")

    path = "/api/v2/designations"
    route = next(r for r in emulator_app.ROUTES if r.method == "GET" and r.pattern.match(path))
    monkeypatch.setattr(emulator_app, "ROUTES", [dataclasses.replace(route, handler=broken)])
    token = _token(emulator)
    with caplog.at_level("ERROR", logger="hrsync.emulator.app"):
        answer = emulator.handle(EmuRequest("GET", path, headers={"authorization": token}))
    assert answer.status == 400 and answer.body["code"] == "input_data_invalid"
    assert emulator.unexpected_errors == 1 and "failed in its handler" in caplog.text
    stats = emulator.handle(EmuRequest("GET", "/_emulator/stats")).body
    assert stats["unexpected_errors"] == 1


def test_a_500_comes_only_from_the_faults_control_api(world: World, auth: dict[str, str]) -> None:
    fault = {"mode": "error_500", "endpoint": "designations", "count": 1}
    world.http.post(f"{BASE}/_emulator/faults", json=fault).raise_for_status()
    answer = send(world, auth, "GET", "/designations", None)
    assert answer.status_code == 500 and "message" in answer.json()
    assert send(world, auth, "GET", "/designations", None).status_code == 200


def _token(emulator: Emulator) -> str:
    client = emulator.accounts.client
    form = (
        f"grant_type=client_credentials&client_id={client.client_id}"
        f"&client_secret={client.client_secret}&scope=ZohoCliq.Designations.ALL"
    )
    answer = emulator.handle(EmuRequest("POST", "/oauth/v2/token", body=form.encode()))
    return f"Zoho-oauthtoken {answer.body['access_token']}"


@pytest.mark.parametrize(
    "query", ["sort_by=name", "plan_type=trial", "fields=", "fields=all,", "modified_after="]
)
def test_list_users_refuses_a_value_its_document_does_not_list(
    world: World, auth: dict[str, str], query: str
) -> None:
    answer = send(world, auth, "GET", f"/users?{query}", None)
    # A time that is no time is refused naming its parameter, as either reading of its form is.
    wanted = (
        "invalid_parameter_value" if query.startswith("modified_after") else "input_data_invalid"
    )
    assert refusal(answer)["code"] == wanted


def test_designation_members_need_the_limit_the_document_requires(
    world: World, auth: dict[str, str]
) -> None:
    made = send(world, auth, "POST", "/designations", {"name": "Lead"}).json()["data"]["id"]
    answer = send(world, auth, "GET", f"/designations/{made}/members", None)
    assert refusal(answer) == {"code": "input_data_missing", "message": "'limit' is required."}
    assert send(world, auth, "GET", f"/designations/{made}/members?limit=5", None).is_success


def test_a_method_the_path_does_not_take_is_405_naming_those_it_does(
    world: World, auth: dict[str, str]
) -> None:
    answer = send(world, auth, "POST", "/users/700000001", {})
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, PUT"
    # a literal path answers with its own methods, not those of /users/{id}
    assert send(world, auth, "POST", "/users/layout", {}).headers["allow"] == "GET"


def test_a_path_ending_in_a_newline_is_not_its_parent(world: World, auth: dict[str, str]) -> None:
    """``$`` matches before a final newline: ``/profiles/%0A`` once reached ``/profiles``."""
    answer = send(world, auth, "DELETE", "/profiles/%0A", None)
    assert answer.status_code == 404
