"""An operator's ordinary mistake is one line with the cause and the remedy, not a traceback;
``--debug`` shows the trace. Errors that quote Zoho People never quote people."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from hrsync.access.tokens import ConfigTokenSource
from hrsync.api.auth import TokenAuth
from hrsync.api.http import ZohoHttp
from hrsync.api.people import PeopleClient, PeopleError
from hrsync.api.ratelimit import Pacer
from hrsync.clock import VirtualClock
from hrsync.failures import describe_failure
from hrsync.store import Store
from hrsync.store.tables import Integration
from tests.support import run_main

KEYS = '[cliq]\nclient_id = "1000.X"\nclient_secret = "s"\nrefresh_token = "r"\n'


def hrsync(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str, str]:
    return run_main(capsys, folder / "hrsync.toml", *args)


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "employees.csv").write_text(
        "employee_id,email,first_name,status\nE1,a@x.example,Ana,active\n", encoding="utf-8"
    )
    return tmp_path


def configure(folder: Path, extra: str) -> None:
    (folder / "hrsync.toml").write_text(KEYS + extra, encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[source]\nencoding = "utf-9"\n', "unknown encoding 'utf-9'; write a Python codec"),
        ('[source]\ndelimiter = "::"\n', "source.delimiter: '::' is not one character"),
        ('[store]\nurl = "foo://x"\n', "'foo' databases are not supported; write sqlite:///"),
        (
            '[store]\nurl = "postgresql+psycopg://hr:secret@127.0.0.1:1/hr"\n',
            "the store database cannot be opened (connection failed",
        ),
    ],
)
def test_a_bad_source_or_store_setting_is_one_line(
    capsys: pytest.CaptureFixture[str], folder: Path, extra: str, expected: str
) -> None:
    configure(folder, extra)
    code, _, err = hrsync(capsys, folder, "plan")
    line = one_line(err)
    assert code == 1 and expected in line
    assert "secret" not in line  # the store URL's password is never shown


def test_the_console_script_prints_no_traceback(folder: Path) -> None:
    configure(folder, '[source]\nencoding = "latin-9x"\n')
    done = subprocess.run(
        [sys.executable, "-m", "hrsync", "plan"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert "unknown encoding 'latin-9x'" in done.stderr


def test_debug_adds_the_trace(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    configure(folder, '[store]\nurl = "postgresql+psycopg://hr@127.0.0.1:1/hr"\n')
    code, _, err = hrsync(capsys, folder, "--debug", "plan")
    assert code == 1 and "Traceback" in err and "OperationalError" in err
    assert err.splitlines()[-1].startswith("error: the store database cannot be opened")


@pytest.mark.parametrize(
    "saved",
    ['["a list"]', '{"fingerprint": 5}', '{"changes": []}', "not json", ""],
)
def test_a_malformed_plan_file_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], folder: Path, saved: str
) -> None:
    configure(folder, "")
    (folder / "plan.json").write_text(saved, encoding="utf-8")
    code, _, err = hrsync(capsys, folder, "apply", "--plan", str(folder / "plan.json"))
    line = one_line(err)
    assert code == 1 and "not a saved hrsync plan" in line and "hrsync plan --out" in line


def test_an_unknown_data_centre_names_the_known_ones(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(folder, "")
    monkeypatch.setenv("HRSYNC_CLIENT_SECRET", "s")
    code, _, err = hrsync(
        capsys, folder, "connections", "add", "c", "--client-id", "1", "--dc", "XX"
    )
    assert code == 1
    assert "unknown data centre 'XX'; use one of US, EU, IN" in one_line(err)


def test_an_unreachable_host_in_invoke_is_one_line(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(folder, "")
    monkeypatch.setenv("HRSYNC_PASSWORD", "pw")
    added = hrsync(
        capsys, folder, "connections", "add", "api", "--service", "custom", "--auth", "basic",
        "--base-url", "http://127.0.0.1:1", "--username", "u", "--allow-http",
    )  # fmt: skip
    assert added[0] == 0, added
    code, _, err = hrsync(capsys, folder, "connections", "invoke", "api", "GET", "/me")
    line = one_line(err)
    assert code == 1 and line.startswith("error: cannot reach http://127.0.0.1:1 (")
    assert "check the host name, the network and any proxy" in line


def test_an_integration_saved_with_a_key_now_refused_is_one_line(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(folder, "")
    created = hrsync(capsys, folder, "integrations", "create", "hr", "--source-file", "x.csv")
    assert created[0] == 0, created
    store = Store(f"sqlite:///{folder / 'hrsync.db'}", clock=VirtualClock())
    with store.session() as session, session.begin():
        row = session.scalars(select(Integration)).one()
        row.config = json.dumps(json.loads(row.config) | {"safety": {"max_share": 1}})
    store.close()
    code, _, err = hrsync(capsys, folder, "integrations", "show", "hr")
    line = one_line(err)
    assert code == 1
    assert line == (
        "error: integration hr: safety.max_share: unknown key; did you mean "
        "safety.max_removal_share?"
    )


def test_an_unexpected_failure_is_one_line_that_asks_for_debug(
    capsys: pytest.CaptureFixture[str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(folder, "")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr("hrsync.cli.syncing.build", broken)
    code, _, err = hrsync(capsys, folder, "plan")
    assert code == 1
    assert "unexpected KeyError: 'surprise' (run again with --debug" in one_line(err)


PERSON = {"EmailID": "ana.silva@zylker.example", "FirstName": "Ana", "Mobile": "+351 912"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ([PERSON], "a list without a 'response' object"),
        ({"response": {"status": 0, "result": {"1": [PERSON]}}}, "a 'result' that is an object"),
        ({"response": {"status": 0, "result": [[PERSON]]}}, "a result entry that is a list"),
        ({"response": {"status": 0, "result": [{"1": ["Ana"]}]}}, "record 1 as a string"),
        ({"response": {"status": 1, "errors": [PERSON], "result": [PERSON]}}, "no message"),
        ('{"response": {"result": [{"1": [{"EmailID": "ana.silva@zyl', "without a 'response'"),
        (
            {
                "response": {
                    "status": 1,
                    "errors": {
                        "code": 7042,
                        "message": "ana.silva@zylker.example is not a valid value",
                    },
                }
            },
            "<email> is not a valid value",
        ),
    ],
)
def test_an_odd_people_answer_is_named_by_its_shape_without_personal_data(
    answer: Any, expected: str, tmp_path: Path
) -> None:
    def zoho(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v2/token":
            return httpx.Response(200, json={"access_token": "a", "expires_in": 3600})
        if isinstance(answer, str):  # cut off mid-answer: not JSON at all
            return httpx.Response(200, text=answer)
        return httpx.Response(200, json=answer)

    clock = VirtualClock()
    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=clock)
    with httpx.Client(transport=httpx.MockTransport(zoho)) as client:
        tokens = ConfigTokenSource(
            store,
            client,
            accounts_url="https://accounts.zoho.com",
            client_id="1",
            client_secret=SecretStr("s"),
            refresh_token=SecretStr("r"),
            clock=clock,
        )
        http = ZohoHttp(
            client,
            base_url="https://people.zoho.com",
            auth=TokenAuth(tokens),
            pacer=Pacer(clock, margin=0),
            clock=clock,
        )
        with pytest.raises(PeopleError) as caught:
            list(PeopleClient(http).iter_records("employee"))
    store.close()
    line = describe_failure(caught.value)
    assert expected in line
    for value in (*PERSON.values(), "ana.silva"):
        assert value not in line and value not in json.dumps(caught.value.args)
