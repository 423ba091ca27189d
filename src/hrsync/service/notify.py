"""Notifications of ``hrsync serve``: a held, failed or recovered run, and new pending actions,
said in a Cliq channel and/or by email, each with what happened and what to do.

What deserves a message is decided by ``decide``, a pure function of the run's result and of
what was last said about the integration (kept in the store, bookmark ``notify:said``):

- a held or failed run is said once per reason: held again (or failed again) for the same
  reason on the next schedule says nothing; a different reason is said;
- a run that succeeds (or applies all but some people's changes) after a held or failed one is
  said as recovered;
- a pending action is said when it first appears; one still there on later runs is not said
  again, one that went away and came back is.

A message names the integration, the run and counts, never a person: email addresses in an
error's text are blanked. A notification that cannot be sent is logged and counted in
``hrsync_notifications_total{outcome="failed"}``; it never stops a run or the service. What
was said is remembered only once some channel took it, so a message no channel took is tried
again after the next run.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

import httpx

from hrsync.api.cliq import CliqClient
from hrsync.clock import Clock, RealClock
from hrsync.config import NotifyConfig, load_settings
from hrsync.errors import AuthError, ConfigError, HrsyncError
from hrsync.redaction import mask_secrets
from hrsync.service.scheduler import RunResult, integrations_of
from hrsync.store import Store
from hrsync.wiring import build

log = logging.getLogger(__name__)
SAID = "notify:said"  # the store bookmark, per integration
EMAIL = re.compile(r"[^@\s<>()\"',;:]+@[^@\s<>()\"',;:]+\.[A-Za-z]{2,}")
PROBLEMS = ("held", "failed")
SUCCESSES = ("succeeded", "partial")


@dataclass(frozen=True)
class Notice:
    """One message: a subject line, and a body saying what happened and what to do."""

    integration: str
    kind: str  # held | failed | recovered | pending
    subject: str
    body: str

    def text(self) -> str:
        return f"{self.subject}\n{self.body}"


@dataclass(frozen=True)
class Said:
    """What was last said about an integration: its state, the reason given, and the causes
    of the pending actions already announced."""

    state: str = "ok"  # ok | held | failed
    reason: str = ""
    pending: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason, "pending": list(self.pending)}

    @classmethod
    def from_json(cls, value: Any) -> Said:
        if not isinstance(value, dict):
            return cls()
        pending = tuple(str(p) for p in value.get("pending") or ())
        return cls(str(value.get("state") or "ok"), str(value.get("reason") or ""), pending)


def decide(result: RunResult, before: Said) -> tuple[list[Notice], Said]:
    """The messages ``result`` deserves after ``before``, and what is then said (pure)."""
    if result.outcome in PROBLEMS:
        reason = scrub(result.error)
        after = Said(result.outcome, reason, before.pending)
        if (before.state, before.reason) == (result.outcome, reason):
            return [], after  # the same state for the same reason: said already
        notice = held(result, reason) if result.outcome == "held" else failed(result, reason)
        return [notice], after
    if result.outcome not in SUCCESSES:
        return [], before  # stopped: the service is going down, nothing to act on
    notices = [recovered(result, before)] if before.state in PROBLEMS else []
    causes = {cause(action): action for action in result.pending}
    new = [action for key, action in causes.items() if key not in before.pending]
    if new:
        notices.append(pending(result, new))
    return notices, Said("ok", "", tuple(sorted(causes)))


def cause(action: str) -> str:
    """A pending action without its count ("…; 12 people wait for it"): the same task."""
    return scrub(action).split(";", 1)[0].strip()


def scrub(text: str) -> str:
    """No secrets and no email addresses in a message."""
    return EMAIL.sub("(an email address)", mask_secrets(text)).strip()


def _run(result: RunResult) -> str:
    return f"run {result.run_id}" if result.run_id is not None else "a scheduled run"


def held(result: RunResult, reason: str) -> Notice:
    name, run = result.integration, _run(result)
    if result.run_id is not None:
        approve = f"If it is right, approve it: `hrsync runs approve {result.run_id}`."
    else:
        approve = (
            f"If it is right, confirm it as said above with `hrsync sync --integration {name}`."
        )
    return Notice(
        name,
        "held",
        f"hrsync: {run} of {name} is held",
        f"A safety guard held {run} of the integration {name} before it changed anything: "
        f"{reason}\n"
        f"What to do: check the HR data behind this. {approve} Otherwise correct the HR "
        "data; the next scheduled run checks again, and nothing is changed meanwhile.",
    )


def failed(result: RunResult, reason: str) -> Notice:
    name, run = result.integration, _run(result)
    show = f"`hrsync runs show {result.run_id}` shows what it did; " if result.run_id else ""
    return Notice(
        name,
        "failed",
        f"hrsync: {run} of {name} failed",
        f"{run.capitalize()} of the integration {name} failed: {reason}\n"
        f"What to do: correct what the error names ({show}`hrsync doctor` checks the "
        f"connections and the source). The next scheduled run tries again by itself.",
    )


def recovered(result: RunResult, before: Said) -> Notice:
    name, run = result.integration, _run(result)
    was = "held" if before.state == "held" else "failing"
    left = f", {result.failed} failed and will be retried" if result.failed else ""
    return Notice(
        name,
        "recovered",
        f"hrsync: {name} runs again",
        f"{run.capitalize()} of the integration {name} {result.outcome} after it was {was}: "
        f"{result.applied} changes applied{left}.\nWhat to do: nothing.",
    )


def pending(result: RunResult, actions: Sequence[str]) -> Notice:
    name, count = result.integration, len(actions)
    lines = "\n".join(f"- {scrub(action)}" for action in actions)
    return Notice(
        name,
        "pending",
        f"hrsync: {count} new pending action{'s' if count > 1 else ''} for {name}",
        f"{_run(result).capitalize()} of the integration {name} left {count} new pending "
        f"action{'s' if count > 1 else ''}, tasks in Zoho that hold some values back while "
        f"everything else syncs:\n{lines}\n"
        f"What to do: carry them out in Cliq (or change the configuration); "
        f"`hrsync integrations show {name}` lists them, and the next run applies what waited.",
    )


class Sender(Protocol):
    """A way to deliver a notice; raises when it could not."""

    channel: str  # the label of hrsync_notifications_total

    def send(self, notice: Notice) -> None: ...


OpenCliq = Callable[[str], AbstractContextManager[CliqClient]]


class CliqChannelSender:
    """Posts in a Cliq channel through the integration's own Cliq connection."""

    channel = "cliq"

    def __init__(self, unique_name: str, open_cliq: OpenCliq) -> None:
        self.unique_name, self.open_cliq = unique_name, open_cliq

    def send(self, notice: Notice) -> None:
        with self.open_cliq(notice.integration) as cliq:
            try:
                cliq.post_channel_message(self.unique_name, notice.text())
            except AuthError as refused:  # an older connection, consented before notifications
                raise AuthError(
                    f"Cliq refused the message ({refused}): the connection needs the scope "
                    f"ZohoCliq.Webhooks.CREATE (add it and authorise again) and its owner must "
                    f"be in the channel {self.unique_name}"
                ) from refused


class EmailSender:
    """Sends by SMTP, with STARTTLS and a login when configured; the password is read from
    the environment variable the configuration names, at each sending."""

    channel = "email"

    def __init__(self, config: NotifyConfig, *, clock: Clock | None = None) -> None:
        self.config, self.clock = config, clock or RealClock()

    def send(self, notice: Notice) -> None:
        config = self.config
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.smtp_timeout) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, self._password())
            smtp.send_message(self.message(notice))

    def message(self, notice: Notice) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.config.email_from
        message["To"] = ", ".join(self.config.email_to)
        message["Subject"] = notice.subject
        message["Date"] = formatdate(self.clock.now(), usegmt=True)
        message["Message-ID"] = make_msgid(domain="hrsync")
        message.set_content(notice.body)
        return message

    def _password(self) -> str:
        name = self.config.smtp_password_env
        password = os.environ.get(name, "") if name else ""
        if not password:
            raise ConfigError(
                f"[notify] smtp_user is set but the variable {name or '(smtp_password_env)'} "
                "holding the SMTP password is not"
            )
        return password


class NoticeMemory(Protocol):
    def recall(self, integration: str) -> Said: ...
    def keep(self, integration: str, said: Said) -> None: ...


class StoreMemory:
    """What was said, in the store's bookmarks of each integration."""

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        self.url, self.clock = url, clock or RealClock()

    def recall(self, integration: str) -> Said:
        with self._store(integration) as store:
            return Said.from_json(store.bookmark(SAID))

    def keep(self, integration: str, said: Said) -> None:
        with self._store(integration) as store:
            store.save_bookmark(SAID, said.to_json())

    @contextmanager
    def _store(self, integration: str) -> Iterator[Store]:
        store = Store(self.url, clock=self.clock, integration=integration)
        try:
            yield store
        finally:
            store.close()


@dataclass
class Notifier:
    """Fed each run's result (``Scheduler(on_result=...)``): decides, sends, remembers."""

    senders: Sequence[Sender]
    memory: NoticeMemory
    counted: Callable[[str, str], None] = field(default=lambda channel, outcome: None)

    def __call__(self, result: RunResult) -> None:
        if not self.senders:
            return
        try:
            notices, after = decide(result, self.memory.recall(result.integration))
            delivered = [self._deliver(notice) for notice in notices]
            if all(delivered):
                self.memory.keep(result.integration, after)
        except Exception:  # a notification never stops a run or the service
            log.exception("notifying about %s failed", result.integration)

    def _deliver(self, notice: Notice) -> bool:
        """Send by every channel; True if at least one took it."""
        taken = False
        for sender in self.senders:
            try:
                sender.send(notice)
            except Exception as problem:  # any failure is logged and counted, never raised
                log.warning(
                    "the %s notice about %s could not go by %s: %s",
                    notice.kind,
                    notice.integration,
                    sender.channel,
                    scrub(str(problem)) or type(problem).__name__,
                    extra={"integration": notice.integration},
                )
                self.counted(sender.channel, "failed")
                continue
            log.info(
                "%s notice about %s sent by %s",
                notice.kind,
                notice.integration,
                sender.channel,
                extra={"integration": notice.integration},
            )
            self.counted(sender.channel, "sent")
            taken = True
        return taken


def senders_for(config: NotifyConfig, open_cliq: OpenCliq) -> list[Sender]:
    """The channels ``[notify]`` names."""
    found: list[Sender] = []
    if config.cliq_channel:
        found.append(CliqChannelSender(config.cliq_channel, open_cliq))
    if config.email_to:
        found.append(EmailSender(config))
    return found


def service_notifier(
    config: Path, counted: Callable[[str, str], None]
) -> Callable[[RunResult], None]:
    """For ``hrsync serve``: reads ``[notify]`` of ``config`` at each result (as the
    scheduler reads the schedules), so a change needs no restart."""

    def notify(result: RunResult) -> None:
        try:
            base = load_settings(config)
        except HrsyncError as problem:
            log.warning("no notification: %s", problem)
            return
        senders = senders_for(base.notify, integration_cliq(config))
        Notifier(senders, StoreMemory(base.store.url), counted)(result)

    return notify


def integration_cliq(config: Path) -> OpenCliq:
    """Opens the Cliq client of an integration, on its own connection or keys."""

    @contextmanager
    def open_cliq(name: str) -> Iterator[CliqClient]:
        base = load_settings(config)
        with integrations_of(base) as integrations:
            settings = integrations.settings(name, base)
        app = build(
            settings,
            dry_run=False,
            integration=name,
            transport=httpx.HTTPTransport(),
            retry_handlers=(),  # a throttled or lost message is not waited for
        )
        try:
            yield CliqClient(app.http)
        finally:
            app.close()

    return open_cliq
