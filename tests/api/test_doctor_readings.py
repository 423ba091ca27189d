"""`hrsync doctor` settles each disputed reading of Zoho's answers with the one call that
tells, says it, and remembers it for the first sync; a host it cannot reach ends the network
checks at once, the rest "not checked"."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.cli import doctor as doctor_cli
from hrsync.cli.demo import DEMO_SCOPES
from hrsync.config import load_settings
from hrsync.targets.cliq.learnt import MODIFIED_AFTER
from hrsync.wiring import build
from tests.api.readings import Answers, export
from tests.api.test_doctor import Org, _wire, failures
from tests.conftest import BASE
from tests.support import run_main

ALL_MINE = frozenset(
    {
        "modified-after-epoch-ms",
        "custom-attributes-nested",
        "dropdown-as-object",
        "departments-need-people-scope",
    }
)
PEOPLE_EMPLOYEE = "ZohoPeople.employee.READ"


@pytest.fixture
def org(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    made = organisation(tmp_path, capsys, monkeypatch, frozenset())
    yield made
    made.http.close()


def organisation(tmp_path: Path, capsys: Any, monkeypatch: Any, variants: frozenset[str]) -> Org:
    made = Org(tmp_path, capsys, variants)
    _wire(made, monkeypatch)
    return made


def synced(made: Org, *, scope: str = DEMO_SCOPES) -> Org:
    """The organisation after a first sync of an export with custom values."""
    from hrsync.cli.demo import write_csv

    write_csv(made.folder / "employees.csv", export(12))
    made.write_config(scope=scope)
    made.sync()
    return made


def test_doctor_says_each_reading_of_an_organisation_playing_them_all(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = synced(organisation(tmp_path, capsys, monkeypatch, ALL_MINE))
    code, out, _ = run_main(capsys, made.config, "doctor")
    assert code == 0, out
    for line in ("only in epoch milliseconds", 'under "custom_attributes"', "as {id, name}"):
        assert line in out
    code, checks = made.doctor()
    assert code == 0, failures(checks)
    document = json.loads(run_main(capsys, made.config, "doctor", "--json")[1])
    assert document["readings"] == {
        "update_body": None,  # a first sync only invites: no update has told it yet
        "modified_after": "epoch_ms",
        "custom_values": "custom_attributes",
        "drop_down_values": "{id, name}",
        "departments": "listed",
        "designations_paging": "paged",
        "teams_params": "lenient",
        "teams_listed": None,  # no team yet: nothing tells
        "team_ids": None,
    }


@pytest.mark.parametrize(
    ("variants", "reading"),
    [
        ((), "option id"),
        (("dropdown-as-name",), "option name"),
        (("dropdown-as-object",), "{id, name}"),
    ],
)
def test_drop_down_values_in_each_form(
    tmp_path: Path,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    variants: tuple[str, ...],
    reading: str,
) -> None:
    made = synced(organisation(tmp_path, capsys, monkeypatch, frozenset(variants)))
    document = json.loads(run_main(capsys, made.config, "doctor", "--json")[1])
    assert document["readings"]["drop_down_values"] == reading
    assert document["readings"]["custom_values"] == "top level"
    assert document["readings"]["modified_after"] == "iso"


def test_a_fresh_organisation_has_readings_doctor_cannot_tell_yet(org: Org) -> None:
    document = json.loads(run_main(org.capsys, org.config, "doctor", "--json")[1])
    assert document["ok"]
    assert document["readings"] == {
        "update_body": None,
        "modified_after": "iso",
        "custom_values": None,
        "drop_down_values": None,
        "departments": "listed",
        "designations_paging": None,  # fewer than two designations: nothing tells
        "teams_params": "lenient",
        "teams_listed": None,
        "team_ids": None,
    }


def test_the_first_sync_after_doctor_sends_modified_after_as_doctor_found_it(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = organisation(tmp_path, capsys, monkeypatch, frozenset({"modified-after-epoch-ms"}))
    code, checks = made.doctor()
    assert code == 0, failures(checks)
    assert "only in epoch milliseconds" in checks["modified_after"]["detail"]
    answers = Answers(made.transport)
    app = build(
        load_settings(made.config),
        dry_run=False,
        clock=made.clock,
        client=httpx.Client(transport=answers),
        pacer_margin=0,
    )
    try:
        assert app.store.bookmark(MODIFIED_AFTER) == "epoch_ms"
        outcome = app.engine.run_apply()  # the invitation round reads joiners back
    finally:
        app.close()
    assert outcome.report is not None and outcome.report.failed == []
    assert any("modified_after 200" in k for k in answers.made)
    assert answers.refused_modified_after() == 0


def test_departments_refused_for_the_people_scope_are_a_note_not_a_failure(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = organisation(tmp_path, capsys, monkeypatch, ALL_MINE)
    synced(made, scope=DEMO_SCOPES.replace(f"{PEOPLE_EMPLOYEE},", ""))
    code, checks = made.doctor()
    assert code == 0, failures(checks)
    notes = {n for n, c in checks.items() if c["level"] == "note"}
    # the owner leads the base department: without the listing, doctor cannot tell who it is
    assert notes == {
        "departments, designations",
        "scopes (cliq)",
        "department listing",
        "admin role",
    }
    listing = checks["department listing"]
    assert PEOPLE_EMPLOYEE in listing["detail"] and "sync users" in listing["detail"]
    assert PEOPLE_EMPLOYEE in listing["remedy"] and "[cliq] refresh_token" in listing["remedy"]
    assert PEOPLE_EMPLOYEE in checks["scopes (cliq)"]["detail"]


# a host doctor cannot reach ---------------------------------------------------------------
class Dialled(httpx.BaseTransport):
    """A real transport to loopback, counting the connections it tries."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.attempts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(f"{request.method} {request.url}")
        return self.inner.handle_request(request)


def closed_port() -> int:
    """A loopback port nothing listens on (taken, then let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_host_ends_the_network_checks_at_once(org: Org, monkeypatch: Any) -> None:
    """Before, each check tried the host five times with growing waits, over a minute."""
    port = closed_port()
    org.config.write_text(org.config.read_text().replace(BASE, f"http://127.0.0.1:{port}"))
    dialled = Dialled()
    monkeypatch.setattr(
        doctor_cli, "build", partial(build, transport=dialled, clock=org.clock, pacer_margin=0)
    )
    started = org.clock.now()
    code, out, _ = run_main(org.capsys, org.config, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert len(dialled.attempts) == 1  # one connection tried, never again
    assert org.clock.now() - started < 1.0  # no waits between tries, in virtual time
    (failure,) = [c for c in checks.values() if c["level"] == "fail"]
    assert f"cannot connect to 127.0.0.1:{port}" in failure["detail"]
    assert "Zoho Cliq with the keys of [cliq] in hrsync.toml" in failure["detail"]
    assert "[cliq] api_url and accounts_url" in failure["remedy"]
    budget = f"call budget (http://127.0.0.1:{port})"
    local = {"configuration", "redirect URI", "update body", "stalled changes", budget}
    network = {n: c["level"] for n, c in checks.items() if n not in local and c is not failure}
    assert network and set(network.values()) == {"skip"}, network
    unreached = f"not checked: 127.0.0.1:{port} could not be reached"
    assert all(checks[n]["detail"] == unreached for n in network)
    code, table, _ = run_main(org.capsys, org.config, "doctor")
    assert "not checked" in table and "–" in table and "1 check failed" in table


TEAMS_AND_DESIGNATIONS = frozenset(
    {"designations-unpaged", "teams-strict-params", "teams-joined-only", "team-ids-numeric"}
)


def test_doctor_says_how_teams_and_designations_are_listed(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = organisation(tmp_path, capsys, monkeypatch, TEAMS_AND_DESIGNATIONS)
    made.write_config('[rules]\nteams_per = ["department"]\n')
    made.sync()
    code, checks = made.doctor()
    assert code == 0, failures(checks)
    assert "one page of designations and no next_token" in checks["designations listing"]["detail"]
    assert "refuses a parameter" in checks["teams parameters"]["detail"]
    listed = checks["teams listed"]
    assert listed["level"] == "note" and "may list only those" in listed["detail"]
    assert "add hrsync's account to every team" in listed["remedy"]
    assert "team ids as numbers" in checks["team ids"]["detail"]
    document = json.loads(run_main(capsys, made.config, "doctor", "--json")[1])
    readings = document["readings"]
    assert readings["designations_paging"] == "one page"
    assert readings["teams_params"] == "strict"
    assert readings["teams_listed"] == "joined only"
    assert readings["team_ids"] == "numbers"


def test_doctor_sees_every_team_listed_when_one_is_not_joined(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = organisation(tmp_path, capsys, monkeypatch, frozenset())
    made.write_config('[rules]\nteams_per = ["department"]\n')
    made.sync()
    state = made.state()
    team = state["teams"][0]
    app = build(load_settings(made.config), dry_run=False, clock=made.clock, client=made.http)
    try:  # the admin leaves one team
        path = f"/api/v2/teams/{team['team_id']}/members/{state['admin_id']}"
        app.http.call("DELETE", path, endpoint="teams")
    finally:
        app.close()
    readings = json.loads(run_main(capsys, made.config, "doctor", "--json")[1])["readings"]
    assert readings["teams_listed"] == "every team"
    assert readings["team_ids"] == "text"
    assert readings["teams_params"] == "lenient"
