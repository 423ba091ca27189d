"""``hrsync serve`` as an IT team leaves it running: it runs an enabled integration by itself,
says so on /metrics (in Prometheus' format), and stops cleanly on SIGTERM, even in the middle
of a run, which the next start finishes with nobody invited twice."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hrsync.access.connections import loopback_redirect_uri
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.clock import RealClock
from hrsync.store import Store
from tests.e2e.conftest import Serve, run_hrsync
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def set_up_integration(
    base: str,
    folder: Path,
    people: int,
    *,
    extra_scopes: tuple[str, ...] = (),
    create: tuple[str, ...] = (),
) -> dict[str, str]:
    """An enabled integration "hr" (an export into Cliq, every 15 min, made with ``create``'s
    options too) with its connection authorised (for ``extra_scopes`` too); returns the
    environment hrsync runs in."""
    client = httpx.get(f"{base}/_emulator/clients").json()["clients"][0]
    env = os.environ | {"HRSYNC_CLIENT_SECRET": client["client_secret"]}

    def hrsync(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "hrsync", *args],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    write_csv(folder / "employees.csv", sample_employees(people))
    hrsync("integrations", "create", "hr", "--source-file", "employees.csv", "--target", "cliq",
           "--schedule", "every 15 min", *create)  # fmt: skip
    hrsync("connections", "add", "cliq", "--client-id", client["client_id"], "--api-url", base,
           "--accounts-url", base, "--allow-http")  # fmt: skip
    scopes = ",".join(
        [f"ZohoCliq.{m}.ALL" for m in ("Users", "Departments", "Designations", "Teams")]
        + list(extra_scopes)
    )
    consent = httpx.get(
        f"{base}/oauth/v2/auth",
        params={"client_id": client["client_id"], "redirect_uri": loopback_redirect_uri(),
                "response_type": "code", "scope": scopes},
    )  # fmt: skip
    code = httpx.URL(consent.headers["location"]).params["code"]
    hrsync("connections", "authorise", "cliq", "--code", code)
    hrsync("integrations", "enable", "hr")
    return env


def metrics(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def wait_for(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def test_serve_runs_a_due_integration_reports_it_and_stops_on_sigterm(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 30)
    process, url = service(env, "--log-format", "json")
    wait_for(lambda: httpx.get(f"{url}/readyz").json()["ready"] is True, 20, "never ready")
    succeeded = ("hrsync_runs_total", (("integration", "hr"), ("outcome", "succeeded")))
    wait_for(lambda: metrics(url).get(succeeded) == 1.0, 90, "the run never succeeded")
    seen = metrics(url)
    assert seen[("hrsync_changes_total", (("integration", "hr"), ("state", "confirmed")))] >= 30
    assert seen[("hrsync_api_calls_total", (("endpoint", "users.add"),))] >= 1
    assert seen[("hrsync_last_success_timestamp_seconds", (("integration", "hr"),))] > 0
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    assert len([u for u in users if u.get("employee_id")]) == 30
    time.sleep(2)  # further checks find nothing due: one run, not one per check
    assert metrics(url).get(succeeded) == 1.0

    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert time.monotonic() - stopping < 10
    lines = [line for line in err.splitlines() if line.startswith("{")]
    assert any('"integration": "hr"' in line for line in lines), err
    invited = [json.loads(line) for line in lines if ':invite"' in line]
    assert len(invited) == 30, err  # one line a change, with its key, run and integration
    assert {(i["integration"], i["run"]) for i in invited} == {("hr", 1)}
    assert {i["change"] for i in invited} == {f"user:E{n:05d}:invite" for n in range(1, 31)}


def test_sigterm_mid_run_stops_before_the_next_call_and_the_next_run_finishes(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 150)  # two invitation batches

    def invited() -> int:
        users = httpx.get(f"{base}/_emulator/state").json()["users"]
        return len([u for u in users if u.get("employee_id")])

    # Cliq holds the answer to the first invitation call for 5 s: SIGTERM comes meanwhile.
    fault = {"mode": "timeout", "endpoint": "users.add", "count": 1, "delay": 5}
    httpx.post(f"{base}/_emulator/faults", json=[fault]).raise_for_status()
    process, _ = service(env)
    wait_for(lambda: invited() > 0, 60, "the run never invited anyone")
    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0
    assert time.monotonic() - stopping < 10  # the call in flight ends; no other goes out
    assert 0 < invited() < 150  # the first call only (the head of the hierarchy goes first)
    listed = subprocess.run(
        [sys.executable, "-m", "hrsync", "--json", "runs", "--integration", "hr", "list"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [r["status"] for r in json.loads(listed.stdout)["runs"]][:1] == ["stopped"]

    finished = subprocess.run(
        [sys.executable, "-m", "hrsync", "sync", "--integration", "hr"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    emails = [u["email_id"].lower() for u in users]
    assert len(emails) == len(set(emails)) and invited() == 150  # nobody twice, nobody lost
    assert httpx.get(f"{base}/_emulator/stats").json()["lock_periods_total"] == 0


def test_an_hr_event_syncs_the_people_it_names_within_seconds(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 30)
    secret = "a webhook secret of thirty-two chars"
    done = subprocess.run(
        [sys.executable, "-m", "hrsync", "integrations", "webhook", "hr"],
        cwd=tmp_path, env=env | {"HRSYNC_WEBHOOK_SECRET": secret},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and secret not in done.stdout + done.stderr, done.stderr
    _, url = service(env)
    succeeded = ("hrsync_runs_total", (("integration", "hr"), ("outcome", "succeeded")))
    wait_for(lambda: metrics(url).get(succeeded) == 1.0, 90, "the scheduled run never succeeded")

    rows = sample_employees(30)
    rows[5]["mobile"], rows[6]["mobile"] = "+1 555 0505", "+1 555 0606"
    write_csv(tmp_path / "employees.csv", rows)
    hook = f"{url}/hooks/people/hr"
    wrong = httpx.post(hook, json={"employee_id": rows[5]["employee_id"]},
                       headers={"X-Hrsync-Secret": "not the secret"})  # fmt: skip
    assert wrong.status_code == 401
    assert (
        httpx.post(f"{url}/hooks/people/other", headers={"X-Hrsync-Secret": secret}).status_code
        == 401
    )
    asked = time.monotonic()
    named = {"employee_ids": [rows[5]["employee_id"], "E99999"]}  # E99999: no such person
    taken = httpx.post(hook, json=named, headers={"X-Hrsync-Secret": secret})
    assert taken.status_code == 202 and taken.json()["queued"] == named["employee_ids"]

    def mobile(eid: str) -> str:
        users = httpx.get(f"{base}/_emulator/state").json()["users"]
        return str(next(u for u in users if u.get("employee_id") == eid).get("mobile", ""))

    wait_for(
        lambda: mobile(rows[5]["employee_id"]) == "+1 555 0505", 30, "the event was not synced"
    )
    assert time.monotonic() - asked < 15
    assert mobile(rows[6]["employee_id"]) != "+1 555 0606"  # not named: waits for its schedule
    settled = wait_for(lambda: events_of(tmp_path, "queued") == [] and events_of(tmp_path), 10,
                       "the events were not settled")  # fmt: skip
    assert settled == [
        (rows[5]["employee_id"], "done", ""),
        ("E99999", "refused", "employee E99999 is not in the HR source, and hrsync manages no "
         "Cliq user for them"),
    ]  # fmt: skip
    seen = metrics(url)
    assert seen[("hrsync_webhook_refused_total", (("reason", "secret"),))] == 2
    assert seen[succeeded] == 2  # the unknown person did not fail the others' run
    assert seen[("hrsync_events_settled", (("integration", "hr"), ("state", "refused")))] == 1


def events_of(folder: Path, state: str = "") -> list[tuple[str, str, str]]:
    """(employee id, state, why) of the HR events the store in ``folder`` keeps, oldest first."""
    store = Store(f"sqlite:///{folder / 'hrsync.db'}", clock=RealClock(), integration="hr")
    try:
        return [
            (e.employee_id, e.state, e.reason)
            for e in reversed(store.events())
            if not state or e.state == state
        ]
    finally:
        store.close()


def test_an_hr_event_taken_before_a_kill_is_synced_after_the_restart(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 20)
    env["HRSYNC_WEBHOOK_SECRET"] = secret = "a webhook secret of thirty-two chars"
    run_hrsync(tmp_path, env, "integrations", "webhook", "hr")
    process, url = service(env)
    succeeded = ("hrsync_runs_total", (("integration", "hr"), ("outcome", "succeeded")))
    wait_for(lambda: metrics(url).get(succeeded) == 1.0, 90, "the scheduled run never succeeded")
    rows = sample_employees(20)
    rows[3]["mobile"] = "+1 555 0303"
    write_csv(tmp_path / "employees.csv", rows)
    # Another worker holds the integration, so the event waits; this one is killed meanwhile.
    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=RealClock(), integration="hr")
    leases = store.leases(owner="elsewhere:1", seconds=600)
    try:
        assert leases.claim("hr")
        named = {"employee_id": rows[3]["employee_id"]}
        taken = httpx.post(f"{url}/hooks/people/hr", json=named,
                           headers={"X-Hrsync-Secret": secret})  # fmt: skip
        assert taken.status_code == 202
        process.kill()
        process.wait(timeout=10)
        assert events_of(tmp_path) == [(rows[3]["employee_id"], "queued", "")]
        leases.release("hr")
    finally:
        store.close()

    service(env)  # the restart: the event is still there, and is synced first

    def mobile() -> str:
        users = httpx.get(f"{base}/_emulator/state").json()["users"]
        found = next(u for u in users if u.get("employee_id") == rows[3]["employee_id"])
        return str(found.get("mobile", ""))

    wait_for(lambda: mobile() == "+1 555 0303", 30, "the event was lost in the kill")
    wait_for(lambda: events_of(tmp_path, "done"), 10, "the event was never settled")


def test_a_held_run_is_said_in_the_cliq_channel_and_by_email(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base = serve("real")
    httpx.post(f"{base}/_emulator/channels", json={"unique_name": "hrsync-alerts"})
    # The status column was renamed in HR's export: a guard holds the run (leavers could hide).
    (tmp_path / "renamed.toml").write_text(
        '[source.columns]\nstatus = "Employment Status"\n', encoding="utf-8"
    )
    with smtp_server() as mailbox:
        (tmp_path / "hrsync.toml").write_text(
            "[notify]\n"
            'cliq_channel = "hrsync-alerts"\n'
            'email_to = ["it-ops@example.com"]\n'
            'email_from = "hrsync@example.com"\n'
            f'smtp_host = "127.0.0.1"\nsmtp_port = {mailbox.port}\nsmtp_starttls = false\n',
            encoding="utf-8",
        )
        env = set_up_integration(
            base, tmp_path, 30,
            extra_scopes=("ZohoCliq.Webhooks.CREATE",), create=("--from", "renamed.toml"),
        )  # fmt: skip
        _, url = service(env)
        held = ("hrsync_runs_total", (("integration", "hr"), ("outcome", "held")))
        wait_for(lambda: metrics(url).get(held) == 1.0, 90, "the run was never held")

        def channel() -> list[str]:
            found = httpx.get(f"{base}/_emulator/channels").json()["channels"]
            return [m["text"] for m in found[0]["messages"]]

        [posted] = wait_for(channel, 20, "nothing was posted in the channel")
        [mail] = wait_for(lambda: mailbox.messages, 20, "no email came")
    for text in (posted, f"{mail['Subject']}\n{mail.get_content()}"):
        assert "of hr is held" in text and "no column for status" in text
        assert "What to do" in text and "@" not in text
    seen = metrics(url)
    for channel_name in ("cliq", "email"):
        sent = (("channel", channel_name), ("outcome", "sent"))
        assert seen[("hrsync_notifications_total", sent)] == 1
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    assert not [u for u in users if u.get("employee_id")]  # held: nobody was invited

    # The admin reads the message and approves the run it names: exactly its plan is applied.
    run_id = re.search(r"hrsync runs approve (\d+)", posted)
    assert run_id, posted
    shown = run_hrsync(tmp_path, env, "--json", "runs", "show", run_id.group(1))
    at_stake = json.loads(shown.stdout)["summary"]["counts"]
    approved = run_hrsync(tmp_path, env, "runs", "approve", run_id.group(1), "--yes")
    assert approved.returncode == 0, approved.stderr
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    assert len([u for u in users if u.get("employee_id")]) == at_stake["invite"] == 30

    fixed_config = '[source]\npath = "employees.csv"\n[cliq]\nconnection = "cliq"\n'
    (tmp_path / "fixed.toml").write_text(fixed_config, encoding="utf-8")  # the mapping put right
    fixed = run_hrsync(tmp_path, env, "integrations", "configure", "hr", "--from", "fixed.toml")
    assert fixed.returncode == 0, fixed.stderr
    synced = run_hrsync(tmp_path, env, "sync", "--integration", "hr")
    assert synced.returncode == 0, synced.stderr
    planned = run_hrsync(tmp_path, env, "plan", "--integration", "hr", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr


def test_metrics_show_the_calls_and_the_lock_while_the_run_waits_it_out(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 30)
    fault = {"mode": "throttle_400", "endpoint": "users.add", "count": 1}
    httpx.post(f"{base}/_emulator/faults", json=[fault]).raise_for_status()
    process, url = service(env)
    throttled = ("hrsync_api_throttled_total", (("endpoint", "users.add"),))
    seen = wait_for(lambda: (m := metrics(url)).get(throttled) == 1.0 and m, 60,
                    "the lock period never showed in /metrics")  # fmt: skip
    assert seen[("hrsync_api_calls_total", (("endpoint", "users.add"),))] >= 1
    assert seen[("hrsync_pacing_wait_seconds_total", (("endpoint", "users.add"),))] > 60
    locked = [v for (name, _), v in seen.items() if name == "hrsync_api_locked_seconds"]
    assert locked and locked[0] > 60
    assert not [k for k in seen if k[0] == "hrsync_runs_total"]  # the run is still waiting
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0


def test_serve_with_only_an_hrsync_toml_runs_it(serve: Serve, tmp_path: Path, service: Any) -> None:
    from hrsync.cli.demo import grant_refresh_token

    base = serve("real")
    with httpx.Client() as http:
        client_id, secret, refresh = grant_refresh_token(http, base)
    write_csv(tmp_path / "employees.csv", sample_employees(30))
    (tmp_path / "hrsync.toml").write_text(  # the one-integration shortcut, secrets outside
        f'[source]\npath = "employees.csv"\n[cliq]\napi_url = "{base}"\n'
        f'accounts_url = "{base}"\nclient_id = "{client_id}"\nallow_http = true\n',
        encoding="utf-8",
    )
    env = os.environ | {"HRSYNC_CLIQ__CLIENT_SECRET": secret, "HRSYNC_CLIQ__REFRESH_TOKEN": refresh}
    process, url = service(env)
    succeeded = ("hrsync_runs_total", (("integration", "default"), ("outcome", "succeeded")))
    wait_for(lambda: metrics(url).get(succeeded) == 1.0, 90, "hrsync.toml's run never succeeded")
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    assert len([u for u in users if u.get("employee_id")]) == 30
    ready = httpx.get(f"{url}/readyz").json()
    assert ready["ready"] is True and ready["degraded"] == []
    time.sleep(2)  # its schedule (every 15 min) is not due again
    assert metrics(url).get(succeeded) == 1.0

    second = run_hrsync(tmp_path, env, "integrations", "create", "hr", "--from", "hrsync.toml")
    assert second.returncode == 1
    assert "managed already by hrsync.toml's own integration" in " ".join(second.stderr.split())
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    said = " ".join(out.split())
    assert "hrsync.toml's own integration runs every 15 min; it is listed as hrsync.toml" in said
    assert "Note:" not in err
    runs = json.loads(run_hrsync(tmp_path, env, "--json", "runs", "list").stdout)["runs"]
    assert [(r["mode"], r["status"]) for r in runs] == [("apply", "succeeded")]
    planned = run_hrsync(tmp_path, env, "plan", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr  # converged
    assert httpx.get(f"{base}/_emulator/stats").json()["lock_periods_total"] == 0
