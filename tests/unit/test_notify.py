"""What ``hrsync serve`` says about its runs: a held, failed or recovered run and a new pending
action, each once, with what to do and no personal data; a channel that fails is counted and
never stops anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.errors import ConfigError
from hrsync.service.notify import Notice, Notifier, StoreMemory
from hrsync.service.scheduler import RunResult

HOLD = (
    "this run would deactivate 27 of 30 managed users (90%), above the limit of 10. Check the "
    "HR export; if it is right, run again with --confirm-deactivations 27"
)
FIELD = (
    "Cliq has no user field 'Gender': create it (Admin Panel → User Fields) or change "
    "[custom_fields]; {n} people's values wait for it"
)
ROLE = (
    "Cliq has no role 'Sales Lead': declare it under [[roles]] or create it in Cliq; "
    "3 people wait for it"
)


class Inbox:
    """A channel that keeps what it is given, or refuses everything."""

    def __init__(self, channel: str = "cliq", *, broken: bool = False) -> None:
        self.channel, self.broken = channel, broken
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        if self.broken:
            raise ConnectionRefusedError("no route to the mail server")
        self.notices.append(notice)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def memory(tmp_path: Path, clock: VirtualClock) -> StoreMemory:
    return StoreMemory(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=clock)


def said(inbox: Inbox) -> list[str]:
    kinds = [n.kind for n in inbox.notices]
    inbox.notices.clear()
    return kinds


def test_a_held_run_is_said_once_per_reason(memory: StoreMemory, clock: VirtualClock) -> None:
    inbox = Inbox()
    notify = Notifier([inbox], memory)
    notify(RunResult("hr", "held", 7, error=HOLD))
    [notice] = inbox.notices
    assert notice.kind == "held" and "run 7 of hr is held" in notice.subject
    assert "27 of 30 managed users" in notice.body
    assert "What to do" in notice.body and "`hrsync runs approve 7`" in notice.body
    said(inbox)
    for run in (8, 9):  # the next schedules, held for the same reason: nothing new to say
        clock.advance(900)
        notify(RunResult("hr", "held", run, error=HOLD))
    assert said(inbox) == []
    clock.advance(900)
    notify(RunResult("hr", "held", 10, error=HOLD.replace("27", "28")))
    assert said(inbox) == ["held"]  # another reason is news


def test_a_hold_without_a_run_id_says_how_to_confirm(memory: StoreMemory) -> None:
    inbox = Inbox()
    Notifier([inbox], memory)(RunResult("hr", "held", None, error=HOLD))
    body = inbox.notices[0].body
    assert "runs approve" not in body and "`hrsync sync --integration hr`" in body


def test_a_failure_is_said_without_email_addresses(memory: StoreMemory) -> None:
    inbox = Inbox()
    notify = Notifier([inbox], memory)
    error = "Cliq refused ada.lovelace@example.com: HTTP 400 (client_secret=abc123)"
    notify(RunResult("hr", "failed", 3, error=error))
    [notice] = inbox.notices
    assert notice.kind == "failed" and "run 3 of hr failed" in notice.subject
    assert "ada.lovelace" not in notice.text() and "abc123" not in notice.text()
    assert "(an email address)" in notice.body and "`hrsync runs show 3`" in notice.body
    said(inbox)
    notify(RunResult("hr", "failed", 4, error=error))
    assert said(inbox) == []


def test_success_after_a_failure_or_a_hold_is_said_as_recovered(
    memory: StoreMemory, clock: VirtualClock
) -> None:
    inbox = Inbox()
    notify = Notifier([inbox], memory)
    notify(RunResult("hr", "succeeded", 1, applied=30))
    assert said(inbox) == []  # a success after nothing wrong is not news
    notify(RunResult("hr", "failed", 2, error="Cliq answered 500"))
    assert said(inbox) == ["failed"]
    clock.advance(900)
    notify(RunResult("hr", "succeeded", 3, applied=4))
    [recovered] = inbox.notices
    assert recovered.kind == "recovered" and "hr runs again" in recovered.subject
    assert "4 changes applied" in recovered.body and "after it was failing" in recovered.body
    said(inbox)
    notify(RunResult("hr", "succeeded", 4))
    assert said(inbox) == []
    notify(RunResult("hr", "held", 5, error=HOLD))
    notify(RunResult("hr", "partial", 6, applied=20, failed=2))
    assert said(inbox) == ["held", "recovered"]
    notify(RunResult("hr", "failed", 7, error="Cliq answered 500"))
    assert said(inbox) == ["failed"]  # failing again after a recovery is news again


def test_a_new_pending_action_is_said_once(memory: StoreMemory) -> None:
    inbox = Inbox()
    notify = Notifier([inbox], memory)
    notify(RunResult("hr", "succeeded", 1, pending=(FIELD.format(n=120),)))
    [notice] = inbox.notices
    assert notice.kind == "pending" and "1 new pending action for hr" in notice.subject
    assert "'Gender'" in notice.body and "`hrsync integrations show hr`" in notice.body
    said(inbox)
    notify(RunResult("hr", "succeeded", 2, pending=(FIELD.format(n=121),)))  # one more waits
    assert said(inbox) == []
    notify(RunResult("hr", "succeeded", 3, pending=(FIELD.format(n=121), ROLE)))
    [notice] = inbox.notices
    assert "Sales Lead" in notice.body and "Gender" not in notice.body
    said(inbox)
    notify(RunResult("hr", "succeeded", 4, pending=(ROLE,)))  # the field was created
    notify(RunResult("hr", "succeeded", 5, pending=(ROLE, FIELD.format(n=1))))
    assert said(inbox) == ["pending"]  # gone, then back: said again


def test_integrations_are_remembered_apart(memory: StoreMemory) -> None:
    inbox = Inbox()
    notify = Notifier([inbox], memory)
    notify(RunResult("hr", "held", 1, error=HOLD))
    notify(RunResult("contractors", "held", 2, error=HOLD))
    assert [n.integration for n in inbox.notices] == ["hr", "contractors"]


def test_a_stopped_run_says_nothing(memory: StoreMemory) -> None:
    inbox = Inbox()
    Notifier([inbox], memory)(RunResult("hr", "stopped", error="the service stopped"))
    assert inbox.notices == []


def test_a_channel_that_fails_is_counted_and_the_message_tried_again(
    memory: StoreMemory,
) -> None:
    counted: list[tuple[str, str]] = []
    mail = Inbox("email", broken=True)
    notify = Notifier([mail], memory, lambda channel, outcome: counted.append((channel, outcome)))
    notify(RunResult("hr", "held", 1, error=HOLD))  # raises nothing
    assert counted == [("email", "failed")]
    mail.broken = False
    notify(RunResult("hr", "held", 2, error=HOLD))  # no channel took it: said at the next run
    assert said(mail) == ["held"] and counted[-1] == ("email", "sent")


def test_one_channel_taking_the_message_is_enough(memory: StoreMemory) -> None:
    counted: list[tuple[str, str]] = []
    cliq, mail = Inbox("cliq", broken=True), Inbox("email")
    notify = Notifier([cliq, mail], memory, lambda c, o: counted.append((c, o)))
    notify(RunResult("hr", "held", 1, error=HOLD))
    notify(RunResult("hr", "held", 2, error=HOLD))
    assert said(mail) == ["held"]
    assert counted == [("cliq", "failed"), ("email", "sent")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('email_to = ["it@example.com"]\n', "email_to needs smtp_host and email_from"),
        (
            'email_to = ["it@example.com"]\nemail_from = "h@example.com"\n'
            'smtp_host = "smtp.example.com"\nsmtp_user = "h"\nsmtp_starttls = false\n',
            "would send the password in clear",
        ),
        ('smtp_pasword_env = "X"\n', "did you mean notify.smtp_password_env?"),
    ],
)
def test_an_incomplete_notify_section_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text("[notify]\n" + text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    assert expected in str(refused.value)


def test_a_channel_may_be_written_with_its_hash(tmp_path: Path) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text('[notify]\ncliq_channel = "#hrsync-alerts"\n', encoding="utf-8")
    assert load_settings(config).notify.cliq_channel == "hrsync-alerts"
