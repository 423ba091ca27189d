"""`hrsync doctor` against the in-process emulator: every check ✓ on a healthy organisation
(in the default reading and in each variant), reads only, and each thing an organisation can
get wrong (a missing scope, a drop-down without options, a non-admin token) given its ✗."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.access.connections import Connections
from hrsync.access.integrations import Integrations
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.api.ratelimit import LOCKED
from hrsync.cli import doctor as doctor_cli
from hrsync.cli.demo import DEMO_SCOPES, grant_refresh_token, sample_employees, write_csv
from hrsync.cli.main import main
from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.emulator import Emulator
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.emulator.transport import mock_transport
from hrsync.emulator.variants import VARIANTS
from hrsync.store import Store
from hrsync.wiring import build
from tests.api.test_people_source import people_records
from tests.conftest import BASE
from tests.support import run_main


class Org:
    """An emulated organisation, an export, and `hrsync doctor` run against them."""

    def __init__(self, tmp_path: Path, capsys: Any, variants: frozenset[str] = frozenset()):
        self.clock = VirtualClock()
        self.emulator = Emulator(self.clock, variants=variants)
        self.transport = mock_transport(self.emulator)
        self.http = httpx.Client(transport=self.transport)
        self.capsys = capsys
        self.folder = tmp_path
        self.config = tmp_path / "hrsync.toml"
        write_csv(tmp_path / "employees.csv", sample_employees(20))
        self.write_config()

    def write_config(self, extra: str = "", *, scope: str = DEMO_SCOPES) -> None:
        client_id, secret, refresh = grant_refresh_token(self.http, BASE, scope=scope)
        keys = (
            f'api_url = "{BASE}"\naccounts_url = "{BASE}"\nclient_id = "{client_id}"\n'
            f'client_secret = "{secret}"\nrefresh_token = "{refresh}"\nallow_http = true\n'
        )
        self.config.write_text(
            f'[store]\nurl = "sqlite:///{self.folder / "hrsync.db"}"\n'
            f'key_file = "{self.folder / "hrsync.key"}"\n'
            f'[source]\npath = "{self.folder / "employees.csv"}"\n'
            f"[cliq]\n{keys}{extra.replace('{keys}', keys)}",
            encoding="utf-8",
        )

    def doctor(self, *args: str) -> tuple[int, dict[str, Any]]:
        """`hrsync doctor --json ARGS`: the exit code and the checks by name."""
        code, out, err = run_main(self.capsys, self.config, "doctor", "--json", *args)
        document = json.loads(out)
        assert document["schema_version"] == 1, err
        assert document["ok"] == (code == 0)
        return code, {c["name"]: c for c in document["checks"]}

    def sync(self) -> None:
        """One `hrsync sync` of the export, as a run before doctor's would be."""
        app = build(
            load_settings(self.config),
            dry_run=False,
            clock=self.clock,
            client=self.http,
            pacer_margin=0,
        )
        try:
            outcome = app.engine.run_apply()
            assert outcome.report is not None and outcome.report.failed == []
        finally:
            app.close()

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{BASE}/_emulator/state").json()
        return result


@pytest.fixture
def org(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    made = Org(tmp_path, capsys)
    _wire(made, monkeypatch)
    yield made
    made.http.close()


def _wire(made: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    wired = partial(build, client=made.http, clock=made.clock, pacer_margin=0)
    monkeypatch.setattr(doctor_cli, "build", wired)


def failures(checks: dict[str, Any]) -> dict[str, str]:
    return {n: c["detail"] for n, c in checks.items() if not c["ok"]}


def test_a_healthy_organisation_passes_every_check(org: Org) -> None:
    code, checks = org.doctor()
    assert code == 0, failures(checks)
    assert {c["level"] for c in checks.values()} == {"ok"}, checks
    for name in ("configuration", "token (cliq)", "scopes (cliq)", "users", "teams", "roles"):
        assert name in checks
    assert "status on 1" in checks["users"]["detail"]
    assert "4 options from GET /api/v2/userfields/" in checks["user field Gender"]["detail"] or (
        "4 options on the listing" in checks["user field Gender"]["detail"]
    )
    assert (
        "admin@zylker.example (the organisation's owner) holds Admin"
        in (checks["admin role"]["detail"])
    )
    assert "http://127.0.0.1:8765/callback" in checks["redirect URI"]["detail"]
    assert checks["call budget (http://127.0.0.1:9)"]["detail"].startswith("no calls")


def test_doctor_prints_a_table_of_checks(org: Org) -> None:
    code, out, _ = run_main(org.capsys, org.config, "doctor")
    assert code == 0
    assert "✓" in out and "users" in out and "Ready" in out
    assert (
        "refresh_token" not in out
        and org.config.read_text().split('refresh_token = "')[1][:20] not in out
    )


def test_doctor_writes_nothing(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    before = org.state()
    sent: list[str] = []

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(f"{request.method} {request.url.path}")
            return org.transport.handle_request(request)

    spied = partial(build, transport=Spy(), clock=org.clock, pacer_margin=0)
    monkeypatch.setattr(doctor_cli, "build", spied)
    code, checks = org.doctor()
    assert code == 0, failures(checks)
    writes = [s for s in sent if not s.startswith("GET") and "/oauth/" not in s]
    assert sent and writes == []
    assert org.state() == before
    calls = org.http.get(f"{BASE}/_emulator/stats").json()["calls"]
    assert not {"users.add", "users.update", "people.write"} & calls.keys()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_of_zoho_still_passes(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    made = Org(tmp_path, capsys, frozenset({variant}))
    _wire(made, monkeypatch)
    code, checks = made.doctor()
    assert code == 0, failures(checks)
    notes = {n for n, c in checks.items() if c["level"] == "note"}
    if variant == "users-no-status":
        assert notes == {"users"}
        assert "lists the inactive and the pending users" in checks["users"]["remedy"]
    elif variant == "people-managed":
        assert notes == {"departments, designations", "admin role"}
        assert "the admins are admin@zylker.example" in checks["admin role"]["detail"]
    else:
        assert notes == set()


def test_a_missing_scope_is_named_with_how_to_grant_it(org: Org) -> None:
    without_teams = DEMO_SCOPES.replace("ZohoCliq.Teams.ALL,", "")
    assert without_teams != DEMO_SCOPES
    org.write_config(scope=without_teams)
    code, checks = org.doctor()
    assert code == 1
    failed = {n for n, c in checks.items() if c["level"] == "fail"}
    assert failed == {"scopes (cliq)", "teams"}
    # What only the teams listing tells is not checked, never passed.
    unread = {n for n, c in checks.items() if c["level"] == "skip"}
    assert unread == {"teams parameters", "teams listed", "team ids"}
    assert "ZohoCliq.Teams.ALL" in checks["teams"]["detail"]
    assert "missing ZohoCliq.Teams.ALL" in checks["scopes (cliq)"]["detail"]
    assert "[cliq] refresh_token" in checks["scopes (cliq)"]["remedy"]
    assert checks["token (cliq)"]["ok"]


def test_a_refused_refresh_token_stops_the_reads_and_says_so(org: Org) -> None:
    text = org.config.read_text()
    token = text.split('refresh_token = "')[1].split('"')[0]
    org.config.write_text(text.replace(token, "1000.not-a-token"))
    code, out, _ = run_main(org.capsys, org.config, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert "invalid_code" in checks["token (cliq)"]["detail"]
    assert "refresh_token" in checks["token (cliq)"]["remedy"]
    assert checks["teams"]["detail"].startswith("not read")
    assert token not in out


def test_a_mapped_drop_down_without_options_fails(org: Org) -> None:
    gender = next(f for f in org.emulator.org.userfields.values() if f.unique_name == "gender")
    gender.options = []  # neither the listing nor the field itself shows any
    code, checks = org.doctor()
    assert code == 1
    assert set(failures(checks)) == {"user field Gender"}
    assert (
        "neither the listing nor GET /api/v2/userfields/" in checks["user field Gender"]["detail"]
    )
    assert "remove gender from [custom_fields]" in checks["user field Gender"]["remedy"]


def test_a_mapped_field_cliq_lacks_fails(org: Org) -> None:
    org.write_config('[custom_fields]\nhire_date = "Joined On"\n')
    code, checks = org.doctor()
    assert code == 1
    assert "which Cliq does not have" in checks["user field Joined On"]["detail"]


def test_a_token_owner_without_an_admin_role_fails(org: Org) -> None:
    emulated = org.emulator.org
    emulated.role_of[emulated.admin_id] = emulated.default_role("Members").id
    code, checks = org.doctor()
    assert code == 1
    assert set(failures(checks)) == {"admin role"}
    assert "holds no role of type Admin or Cliq Admin" in checks["admin role"]["detail"]
    code, checks = org.doctor("--admin", "nobody@zylker.example")
    assert checks["admin role"]["level"] == "note"


def test_roles_named_in_the_configuration_have_readable_permissions(org: Org) -> None:
    org.write_config(
        '[[roles]]\nname = "Managers"\nclone_of = "Members"\n'
        '[[rules.roles]]\nname = "Managers"\nwhen = {designation = "Manager"}\n'
    )
    code, checks = org.doctor()
    assert code == 0, failures(checks)
    assert "permissions readable" in checks["role Members"]["detail"]
    assert "creates it" in checks["role Managers"]["detail"]


def test_people_and_connect_are_checked_when_configured(org: Org) -> None:
    answer = org.http.post(f"{BASE}/_emulator/people/employees", json=people_records(5)).json()
    assert answer["failed"] == {}
    org.write_config('[people]\n{keys}[connect]\n{keys}network_id = "' + SCOPE_ID + '"\n')
    text = org.config.read_text().replace("[source]\n", '[source]\nkind = "zoho_people"\n', 1)
    org.config.write_text(text)
    code, checks = org.doctor()
    assert code == 0, failures(checks)
    for name in ("token (people)", "scopes (people)", "token (connect)", "Connect network"):
        assert checks[name]["level"] == "ok", checks[name]
    assert checks["People form employee"]["ok"]


def test_probe_writes_needs_a_test_user(org: Org) -> None:
    code, _, err = run_main(org.capsys, org.config, "doctor", "--probe-writes")
    assert code == 1 and "--test-user" in err


@pytest.mark.parametrize(("variant", "body"), [("", "flat"), ("update-wrapped", "wrapped")])
def test_probe_writes_settles_the_update_body(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, variant: str, body: str
) -> None:
    made = Org(tmp_path, capsys, frozenset({variant} - {""}))
    _wire(made, monkeypatch)
    code, checks = made.doctor("--probe-writes", "--test-user", "admin@zylker.example")
    assert code == 0, failures(checks)
    assert f"Cliq took the {body} body" in checks["update body (probe)"]["detail"]
    code, checks = made.doctor()
    assert f"Cliq took the {body} body" in checks["update body"]["detail"]


def test_after_a_sync_the_users_carry_their_work_fields_and_the_budget_shows_the_calls(
    org: Org,
) -> None:
    org.sync()
    code, checks = org.doctor()
    assert code == 0, failures(checks)
    assert (
        "the first 21 read with fields=all: status on 21, department on 21"
        in (checks["users"]["detail"])
    )
    budget = checks["call budget (http://127.0.0.1:9)"]["detail"]
    assert budget.startswith("calls in the last minute:") and "users.list" in budget


def test_a_lock_period_zoho_set_is_shown_and_not_waited_out(org: Org) -> None:
    store = Store(load_settings(org.config).store.url, clock=org.clock)
    store.call_log(BASE).add("users.list" + LOCKED, org.clock.now() + 600)
    store.close()
    code, checks = org.doctor()
    assert code == 1
    assert (
        "Zoho has locked users.list for 10 min"
        in (checks["call budget (http://127.0.0.1:9)"]["detail"])
    )
    assert checks["users"]["detail"] == "not read: Zoho has locked users.list for another 10 min"
    assert org.clock.now() < 1_767_225_600.0 + 60  # nothing waited for the lock


def test_an_integration_in_draft_is_checked_through_its_connection(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_KEY, new_key())
    settings = load_settings(org.config)
    store = Store(settings.store.url, clock=org.clock)
    connections = Connections(store, Vault.open(settings.store.key_file), org.http, org.clock)
    client = org.http.get(f"{BASE}/_emulator/clients").json()["clients"][0]
    connections.add_zoho(
        "cliq",
        "zoho_cliq",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        api_url=BASE,
        accounts_url=BASE,
        allow_http=True,
    )
    redirect = "http://127.0.0.1:8765/callback"
    consent = org.http.get(connections.authorize_url("cliq", redirect_uri=redirect, state="s"))
    code = httpx.URL(consent.headers["location"]).params["code"]
    connections.authorise("cliq", code=code, redirect_uri=redirect)
    config = {"source": {"path": str(settings.source.path)}, "cliq": {"connection": "cliq"}}
    assert Integrations(store, connections).create("hr", config).status == "draft"
    store.close()
    exit_code, checks = org.doctor("--integration", "hr")
    assert exit_code == 0, failures(checks)
    assert checks["token (cliq)"]["detail"].startswith("connection cliq gives an access token")


def test_doctor_records_what_it_read_for_replay(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    def wired(settings: Any, *, recorder: Any = None, **kwargs: Any) -> Any:
        hooks = recorder.event_hooks() if recorder else None
        client = httpx.Client(transport=mock_transport(org.emulator), event_hooks=hooks)
        return build(
            settings, clock=org.clock, client=client, pacer_margin=0, recorder=recorder, **kwargs
        )

    monkeypatch.setattr(doctor_cli, "build", wired)
    recording = org.folder / "doctor.jsonl"
    code, _ = org.doctor("--record", str(recording))
    assert code == 0
    lines = recording.read_text(encoding="utf-8").splitlines()
    paths = {json.loads(line)["path"] for line in lines}
    assert {"/api/v2/users", "/api/v2/teams", "/api/v2/userfields"} <= paths
    assert all(json.loads(line)["method"] == "GET" for line in lines if "/api/" in line)
    with pytest.raises(SystemExit) as ended:
        main(["--json", "emulator", "replay", str(recording)])
    assert ended.value.code in (0, None), capsys.readouterr().out
