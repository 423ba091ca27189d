"""Notifications reach a real SMTP server on loopback (plain, and STARTTLS with a login whose
password comes from the environment) and the emulator's Cliq channel through hrsync's own Cliq
client; a refused scope or a missing password is counted, never raised."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hrsync.api.cliq import CliqClient
from hrsync.cli.demo import grant_refresh_token
from hrsync.config import NotifyConfig
from hrsync.service.notify import (
    CliqChannelSender,
    EmailSender,
    Notifier,
    OpenCliq,
    StoreMemory,
)
from hrsync.service.scheduler import RunResult
from tests.conftest import BASE, World, service
from tests.smtp_server import self_signed, smtp_server

HOLD = "this run would deactivate 27 of 30 managed users (90%), above the limit of 10"


def email_config(port: int, **extra: object) -> NotifyConfig:
    return NotifyConfig.model_validate(
        {
            "email_to": ["it-ops@example.com", "hr-ops@example.com"],
            "email_from": "hrsync@example.com",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_timeout": 10,
            **extra,
        }
    )


def memory(world_or_path: Path) -> StoreMemory:
    return StoreMemory(f"sqlite:///{world_or_path / 'hrsync.db'}")


def test_a_held_run_is_mailed(tmp_path: Path) -> None:
    counted: list[tuple[str, str]] = []
    with smtp_server() as box:
        sender = EmailSender(email_config(box.port))
        notify = Notifier([sender], memory(tmp_path), lambda c, o: counted.append((c, o)))
        notify(RunResult("hr", "held", 12, error=HOLD))
    [mail] = box.messages
    assert mail["Subject"] == "hrsync: run 12 of hr is held"
    assert mail["From"] == "hrsync@example.com" and mail["Date"]
    assert box.recipients == [["it-ops@example.com", "hr-ops@example.com"]]
    body = mail.get_content()
    assert "27 of 30 managed users" in body and "hrsync runs approve 12" in body
    assert counted == [("email", "sent")] and box.tls == [False]


def test_starttls_and_a_login_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's certificate
    monkeypatch.setenv("HRSYNC_TEST_SMTP_PASSWORD", "correct horse battery")
    caplog.set_level(logging.DEBUG)
    with smtp_server(tls=(cert, key), login=("hrsync", "correct horse battery")) as box:
        config = email_config(
            box.port,
            smtp_starttls=True,
            smtp_user="hrsync",
            smtp_password_env="HRSYNC_TEST_SMTP_PASSWORD",
        )
        Notifier([EmailSender(config)], memory(tmp_path))(
            RunResult("hr", "failed", 4, error="Cliq answered 500")
        )
    assert box.logins == ["hrsync"] and box.tls == [True]
    assert box.messages[0]["Subject"] == "hrsync: run 4 of hr failed"
    assert "correct horse" not in caplog.text


def test_a_missing_password_or_server_is_counted_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HRSYNC_TEST_SMTP_PASSWORD", raising=False)
    counted: list[tuple[str, str]] = []
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with smtp_server(tls=(cert, key), login=("hrsync", "x")) as box:
        config = email_config(
            box.port,
            smtp_starttls=True,
            smtp_user="hrsync",
            smtp_password_env="HRSYNC_TEST_SMTP_PASSWORD",
        )
        notify = Notifier(
            [EmailSender(config)], memory(tmp_path), lambda c, o: counted.append((c, o))
        )
        notify(RunResult("hr", "held", 1, error=HOLD))
    assert box.messages == [] and counted == [("email", "failed")]
    gone = Notifier(
        [EmailSender(email_config(box.port))], memory(tmp_path), lambda c, o: counted.append((c, o))
    )
    gone(RunResult("hr", "held", 2, error=HOLD))  # the server is down now
    assert counted[-1] == ("email", "failed")


def world_cliq(world: World) -> OpenCliq:
    """hrsync's Cliq client on the in-process emulator, as the service opens one."""

    @contextmanager
    def open_cliq(name: str) -> Iterator[CliqClient]:
        app = world.app()
        try:
            yield CliqClient(app.http)
        finally:
            app.close()

    return open_cliq


def test_a_held_run_is_posted_in_the_cliq_channel(world: World, tmp_path: Path) -> None:
    world.http.post(f"{BASE}/_emulator/channels", json={"unique_name": "hrsync-alerts"})
    counted: list[tuple[str, str]] = []
    sender = CliqChannelSender("hrsync-alerts", world_cliq(world))
    notify = Notifier([sender], memory(tmp_path), lambda c, o: counted.append((c, o)))
    notify(RunResult("hr", "held", 12, error=HOLD))
    notify(RunResult("hr", "held", 13, error=HOLD))  # same reason: not posted again
    [channel] = world.http.get(f"{BASE}/_emulator/channels").json()["channels"]
    [message] = channel["messages"]
    assert message["text"].startswith("hrsync: run 12 of hr is held\n")
    assert "hrsync runs approve 12" in message["text"]
    assert counted == [("cliq", "sent")]


def test_a_connection_without_the_webhooks_scope_is_a_failed_notification(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world.http.post(f"{BASE}/_emulator/channels", json={"unique_name": "hrsync-alerts"})
    scopes = "ZohoCliq.Users.ALL,ZohoCliq.Departments.ALL,ZohoCliq.Designations.ALL"
    world.settings.cliq = service(BASE, *grant_refresh_token(world.http, BASE, scope=scopes))
    counted: list[tuple[str, str]] = []
    sender = CliqChannelSender("hrsync-alerts", world_cliq(world))
    Notifier([sender], memory(tmp_path), lambda c, o: counted.append((c, o)))(
        RunResult("hr", "failed", 3, error="Cliq answered 500")
    )
    assert counted == [("cliq", "failed")]
    assert "ZohoCliq.Webhooks.CREATE" in caplog.text
    [channel] = world.http.get(f"{BASE}/_emulator/channels").json()["channels"]
    assert channel["messages"] == []
