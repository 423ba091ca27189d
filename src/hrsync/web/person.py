"""A person's page, field by field: HR's value (as hrsync would send it), Cliq's value now
(one read of that one user, within Zoho's pace and quickly given up), and whether the two
agree; when hrsync last synced them. No SQL and no route here: the store's and the Cliq
client's methods, and plain records the template draws."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from hrsync.api.cliq import CliqClient
from hrsync.errors import HrsyncError, NotFound
from hrsync.store import RunRecord
from hrsync.sync.explain import Explanation
from hrsync.sync.mapping import decode, same_value
from hrsync.sync.state import CurrentUser, UserFieldMeta
from hrsync.targets.cliq.seen import Seen
from hrsync.targets.cliq.wire import current_user
from hrsync.wiring import App

log = logging.getLogger(__name__)
KEPT = "(left as it is)"  # explain's value for a field hrsync leaves as Cliq has it
SYNCED = ("succeeded", "partial")  # an apply that went through: everyone in it compared
COMPARED = ("profile", "organisation", "custom field")  # explain's sections with one value


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of a person: HR's side, Cliq's side, and whether they agree."""

    section: str
    name: str
    hr: str
    cliq: str | None  # None: Cliq's side was not read
    state: str  # agree | differ | kept | unread
    because: str

    @property
    def said(self) -> str:
        """The state in words (shown beside the mark, read by screen readers)."""
        return STATE_WORDS[self.state]


STATE_WORDS = {
    "agree": "agree",
    "differ": "differ: the next sync changes Cliq",
    "kept": "left as Cliq has it",
    "unread": "Cliq not read",
}


@dataclass(frozen=True, slots=True)
class CliqNow:
    """Cliq's user for a person as read just now, or why it was not read."""

    user: CurrentUser | None
    said: str


def read_cliq_now(app: App, zuid: str, email: str) -> CliqNow:
    """One read of the person's Cliq user (by its linked ``zuid``, else by email), never
    waiting: when Zoho's limit would make the call wait, the page says so instead."""
    client = CliqClient(app.http)
    endpoint = "users.get" if zuid else "users.list"
    wait = app.http.pacer.delay(endpoint)
    if wait > 0:
        return CliqNow(
            None,
            f"Cliq not read now: hrsync keeps within Zoho's limit on {endpoint} "
            f"(free again in {wait:.0f} s); reload then",
        )
    try:
        if not zuid:
            listed = client.iter_users(search=email)
            found = next((u for u in listed if same_value("email_id", u.email_id, email)), None)
            if found is None:
                return CliqNow(None, f"Cliq has no user with the email {email}")
            return CliqNow(current_user(found), "read from Cliq just now (found by email)")
        return CliqNow(current_user(client.get_user(zuid)), "read from Cliq just now")
    except NotFound:
        return CliqNow(None, f"Cliq no longer has the user hrsync linked ({zuid})")
    except (HrsyncError, httpx.HTTPError) as error:
        log.warning("Cliq could not be read for %s: %s", email, error)
        return CliqNow(None, f"Cliq cannot be reached: {error}")


def managers_by_zuid(links: Mapping[str, str], emails: Mapping[str, str]) -> dict[str, str]:
    """Zuid -> "email (employee id)", as explain names a manager, for the people linked."""
    return {zuid: f"{emails[eid]} ({eid})" for eid, zuid in links.items() if eid in emails}


def userfields_seen(app: App) -> list[UserFieldMeta]:
    """Cliq's custom user fields as the last run listed them (no call to Zoho)."""
    seen = Seen.load(app.store, users=False)
    return list(seen.fields or []) if seen is not None else []


@dataclass(frozen=True, slots=True)
class CliqSide:
    """What Cliq's values are read against: managers by zuid, custom fields as listed."""

    managers: Mapping[str, str]  # zuid -> "email (employee id)", as explain names one
    userfields: Sequence[UserFieldMeta] = ()


def field_rows(explained: Explanation, cliq: CurrentUser | None, side: CliqSide) -> list[FieldRow]:
    """Each field hrsync sets, HR's value against Cliq's."""
    rows = []
    for line in explained.lines:
        if line.section not in COMPARED:
            continue
        now = None if cliq is None else _cliq_value(cliq, line.section, line.name, side)
        if line.section == "custom field" and not line.value:
            # hrsync never clears a custom field HR has no value for
            state = "agree" if now == "" else "unread" if now is None else "kept"
            rows.append(FieldRow(line.section, line.name, "—", now, state, line.because))
            continue
        rows.append(_row(line.section, line.name, line.value, now, line.because))
    wanted = "active" if explained.active else "inactive"
    status = None if cliq is None else cliq.status
    rows.insert(0, _status_row(wanted, status, explained.status))
    return rows


def _row(section: str, name: str, hr: str, cliq: str | None, because: str) -> FieldRow:
    if hr == KEPT:
        return FieldRow(section, name, "—", cliq, "kept", because)
    if cliq is None:
        return FieldRow(section, name, hr, None, "unread", because)
    hr_shown = "" if hr == "(none)" else hr
    state = "agree" if same_value(name, cliq, hr_shown) else "differ"
    return FieldRow(section, name, hr, cliq, state, because)


def _status_row(wanted: str, status: str | None, because: str) -> FieldRow:
    if status is None:
        return FieldRow("status", "status", wanted, None, "unread", because)
    # An invitation not yet accepted is as active as hrsync can make someone.
    agree = (status == "inactive") == (wanted == "inactive")
    shown = "pending (invited)" if status == "pending" else status
    return FieldRow("status", "status", wanted, shown, "agree" if agree else "differ", because)


def _cliq_value(cliq: CurrentUser, section: str, name: str, side: CliqSide) -> str:
    if section == "profile":
        return cliq.fields.get(name, "")
    if section == "custom field":
        return _custom_value(cliq, name, side.userfields)
    if name == "reporting_to":
        return side.managers.get(cliq.manager_zuid, cliq.manager_zuid)
    return str(getattr(cliq, name, ""))


def _custom_value(cliq: CurrentUser, ref: str, userfields: Sequence[UserFieldMeta]) -> str:
    """A custom field's value as people read it (a date as ISO, an option by its name); the
    field named by unique name or label, as [custom_fields] may name it."""
    wanted = ref.strip().lower()
    meta = next((m for m in userfields if m.unique_name.lower() == wanted), None) or next(
        (m for m in userfields if m.name.lower() == wanted), None
    )
    if meta is None:
        return cliq.custom.get(ref, "")
    return decode(meta, cliq.custom.get(meta.unique_name, ""))


def last_sync(runs: Iterable[RunRecord], employee_id: str) -> RunRecord | None:
    """The latest apply that went through and took this person in (a run for a few people
    only takes those)."""
    for run in runs:
        went_through = run.mode == "apply" and run.status in SYNCED and run.finished_at
        only = run.summary.get("only") or ()
        if went_through and (not only or employee_id in only):
            return run
    return None
