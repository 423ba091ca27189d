"""Doctor's readings: where the evidence on how Zoho answers disagrees (the emulator plays
each reading as a variant), which one this organisation plays.

Each reading is one function from ``Context`` to ``Settled``: the one call that tells (most
look again at what the listings showed: the reader answers a GET it made already without a
call), said in one line, ✓ with the reading, or ⚠ with what hrsync will do. Where hrsync
acts on the reading, it is remembered in the store, so the first sync starts from it. They
are listed in ``READINGS`` under the name ``hrsync doctor --json`` gives them; a new reading
is a function and an entry there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hrsync.api.cliq import CUSTOM_ATTRIBUTES, UserField, UserFieldOption
from hrsync.doctor.checks import Check, failed, not_checked, noted, passed
from hrsync.doctor.cliq import DESIGNATIONS, SAMPLE, TEAMS, USERS, CliqChecks, find_user
from hrsync.doctor.local import update_body_check
from hrsync.doctor.reads import Reader, Refused
from hrsync.errors import BadRequest
from hrsync.targets.cliq import UPDATE_BODY
from hrsync.targets.cliq.learnt import as_sent, forms_to_try, refuses_form, remember
from hrsync.targets.cliq.seen import Memory

DAY = 86_400.0


class UpdateBodyProbe(Protocol):
    """Settles which update body Cliq takes with one harmless write (``CliqTarget``)."""

    def probe_update_body(self, zuid: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Settled:
    """What one reading's call showed: the reading played (None: doctor cannot tell yet)
    and the line that says it."""

    reading: str | None
    check: Check


@dataclass
class Context:
    """What a reading may look at: the Cliq reader, the store, what the listings showed."""

    reader: Reader
    memory: Memory
    listed: CliqChecks
    target: UpdateBodyProbe
    test_user: str = ""  # with --probe-writes: whose first name is set to itself


Reading = Callable[[Context], Settled]


def settle(
    context: Context, readings: Mapping[str, Reading] | None = None
) -> tuple[list[Check], dict[str, str | None]]:
    """Every reading's line, and name → the reading found."""
    found = [(name, read(context)) for name, read in (readings or READINGS).items()]
    return [s.check for _, s in found], {name: s.reading for name, s in found}


# update body (READINGS #8) ----------------------------------------------------------------
def update_body(context: Context) -> Settled:
    """No read tells it: the harmless write of ``--probe-writes``, or what was learnt."""
    if context.test_user:
        check = probe_update_body(context.reader, context.target, context.test_user)
    else:
        check = update_body_check(context.memory)
    learnt = context.memory.bookmark(UPDATE_BODY)
    return Settled(learnt if isinstance(learnt, str) else None, check)


def probe_update_body(reader: Reader, target: UpdateBodyProbe, email: str) -> Check:
    """The one harmless write: ``email``'s first name set to what it is."""
    name = "update body (probe)"
    try:
        zuid = find_user(reader, email)
        if not zuid:
            return failed(
                name,
                f"no Cliq user {email}",
                "give --test-user an existing, active Cliq user (a test account)",
            )
        taken = reader.run(
            f"PUT /api/v2/users/{zuid}",
            lambda: target.probe_update_body(zuid),
            endpoint="users.update",
            scope=USERS,
        )
    except Refused as refused:
        return refused.check(name)
    return passed(
        name,
        f"Cliq took the {taken} body: {email}'s first name set to what it was; remembered for "
        "later runs",
    )


# modified_after ---------------------------------------------------------------------------
MODIFIED_AFTER_FOUND = {
    "iso": "Cliq takes modified_after as an ISO 8601 date-time, as the users document types "
    "it; remembered for the incremental reads",
    "epoch_ms": "Cliq takes modified_after only in epoch milliseconds, not as the users "
    "document's date-time; remembered: the incremental reads send it so",
}


def modified_after(context: Context) -> Settled:
    """One page of users changed in the last day, asked in the remembered form (else the
    document's); a refusal naming the parameter is answered by asking in the other form."""
    name = "modified_after"
    since = context.reader.service.http.server_now() - DAY
    for form in forms_to_try(context.memory):
        params = {"modified_after": as_sent(form, since), "limit": SAMPLE}
        try:
            context.reader.get("/api/v2/users", endpoint="users.list", scope=USERS, params=params)
        except Refused as refused:
            if isinstance(refused.__cause__, BadRequest) and refuses_form(refused.__cause__):
                continue
            return Settled(None, refused.check(name))
        remember(context.memory, form)
        return Settled(form, passed(name, MODIFIED_AFTER_FOUND[form]))
    return Settled(
        None,
        failed(
            name,
            "Cliq refused modified_after both as a date-time and in epoch milliseconds",
            "hrsync cannot read changes since its last read here: open an issue with this line",
        ),
    )


# custom-field values ----------------------------------------------------------------------
def custom_values(context: Context) -> Settled:
    """Where the users listed with fields=all carry their custom values."""
    name = "custom-field values"
    users, fields = context.listed.sample, context.listed.fields
    if users is None or fields is None:
        return Settled(None, _unread(context, name, "the users and their fields"))
    nested = [u for u in users if isinstance(u.get(CUSTOM_ATTRIBUTES), dict)]
    if any(u[CUSTOM_ATTRIBUTES] for u in nested):
        return Settled(
            CUSTOM_ATTRIBUTES,
            passed(
                name,
                f'under "{CUSTOM_ATTRIBUTES}" ({len(nested)} of the {len(users)} users read), '
                "not at the top level; hrsync reads either",
            ),
        )
    uniques = {f.unique_name for f in fields}
    carrying = sum(bool(uniques & u.keys()) for u in users)
    if carrying:
        detail = f"at the top level of a user ({carrying} of the {len(users)} users read)"
        return Settled("top level", passed(name, f"{detail}; hrsync reads either"))
    return Settled(None, passed(name, f"not seen: none of the {len(users)} users read has one"))


# drop-down values -------------------------------------------------------------------------
DROP_DOWN_FOUND = {
    "option id": "a user's drop-down value is its option id, as hrsync writes it",
    "option name": "a user's drop-down value is its option's name; hrsync compares it as "
    "the option it names",
    "{id, name}": "a user's drop-down value is the option as {id, name}; hrsync reads its id",
}


def drop_down_values(context: Context) -> Settled:
    """How a drop-down value of one of the users read looks (the field's options from its
    listing, or from ``GET /api/v2/userfields/{id}`` when the listing leaves them out)."""
    name = "drop-down values"
    users, fields = context.listed.sample, context.listed.fields
    if users is None or fields is None:
        return Settled(None, _unread(context, name, "the users and their fields"))
    held = _a_drop_down_value(users, [f for f in fields if f.type == "drop_down"])
    if held is None:
        return Settled(None, passed(name, "not seen: no user read has a drop-down value"))
    field, value = held
    try:
        form = _form_of(value, _options(context.reader, field))
    except Refused as refused:
        return Settled(None, refused.check(name))
    if form is None:
        return Settled(
            None,
            noted(
                name,
                f"{field.name}'s value {value!r} is neither an option's id nor its name",
                "hrsync will take it as changed by hand and write the option id again: open "
                "an issue with this line",
            ),
        )
    return Settled(form, passed(name, f"{DROP_DOWN_FOUND[form]} ({field.name})"))


def _a_drop_down_value(
    users: list[dict[str, Any]], fields: list[UserField]
) -> tuple[UserField, Any] | None:
    for user in users:
        nested = user.get(CUSTOM_ATTRIBUTES)
        for field in fields:
            value = user.get(field.unique_name)
            if isinstance(nested, dict):
                value = nested.get(field.unique_name, value)
            if value not in (None, ""):
                return field, value
    return None


def _options(reader: Reader, field: UserField) -> list[UserFieldOption]:
    if field.options:
        return field.options
    body = reader.get(f"/api/v2/userfields/{field.id}", endpoint="userfields", scope=USERS)
    data = body.get("data", body) if isinstance(body, dict) else {}
    raw = data.get("options") if isinstance(data, dict) else None
    return [UserFieldOption.model_validate(o) for o in raw or []]


def _form_of(value: Any, options: list[UserFieldOption]) -> str | None:
    if isinstance(value, dict) and "id" in value:
        return "{id, name}"
    if any(str(value) == o.id for o in options):
        return "option id"
    if any(str(value).strip().lower() == o.name.strip().lower() for o in options):
        return "option name"
    return None


# the departments listing and its scopes ---------------------------------------------------
def departments(context: Context) -> Settled:
    """Whether the token's scopes let Cliq list departments (the listing of ``groups``)."""
    name = "department listing"
    found = context.listed.departments
    if not found:
        return Settled(None, _unread(context, name, "the departments"))
    if found == "listed":
        return Settled(found, passed(name, "Cliq lists departments with the token's scopes"))
    if found.startswith("needs "):
        scopes = found.removeprefix("needs ")
        return Settled(
            found,
            noted(
                name,
                f"Cliq refused the listing without {scopes} (its departments document lists "
                "it): hrsync will sync users and leave everyone's department as Cliq has it, "
                "a pending action at each plan",
                context.reader.service.reauthorise(scopes),
            ),
        )
    return Settled(None, passed(name, f"not settled: Cliq lists departments {found}"))


# designations' paging ---------------------------------------------------------------------
def designations_paging(context: Context) -> Settled:
    """A page of one designation: ``next_token`` with it, or none though the listing holds
    more (the designations document shows no ``next_token``)."""
    name = "designations listing"
    try:
        listed = _data(_designations(context.reader, {"limit": 100}))
        one = _designations(context.reader, {"limit": 1})
    except Refused:
        return Settled(None, _unread(context, name, "the designations"))
    if len(listed) < 2:
        detail = "not settled: the organisation has fewer than two designations"
        return Settled(None, passed(name, f"{detail}; hrsync reads either way"))
    if isinstance(one, dict) and one.get("next_token"):
        return Settled("paged", passed(name, "Cliq pages designations with next_token"))
    return Settled(
        "one page",
        passed(
            name,
            "Cliq answers one page of designations and no next_token, as its document shows: "
            "hrsync looks up by name a designation a page leaves out, and remembers it",
        ),
    )


def _designations(reader: Reader, params: dict[str, Any]) -> Any:
    return reader.get(
        "/api/v2/designations", endpoint="designations", scope=DESIGNATIONS, params=params
    )


def _data(body: Any) -> list[Any]:
    found = body.get("data") if isinstance(body, dict) else None
    return found if isinstance(found, list) else []


# teams ---------------------------------------------------------------------------------------
def _teams(context: Context) -> list[dict[str, Any]]:
    """The teams listing as the teams check read it (no call: the reader answers again)."""
    body = context.reader.get("/api/v2/teams", endpoint="teams", scope=TEAMS)
    found = body.get("teams", body.get("data")) if isinstance(body, dict) else None
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def teams_params(context: Context) -> Settled:
    """Whether the teams listing refuses a parameter it does not use (``limit``): one call."""
    name = "teams parameters"
    try:
        context.reader.get("/api/v2/teams", endpoint="teams", scope=TEAMS, params={"limit": 1})
    except Refused as refused:
        if isinstance(refused.__cause__, BadRequest):
            return Settled(
                "strict",
                passed(
                    name,
                    "Cliq refuses a parameter the teams listing does not use "
                    f"({refused.__cause__}); hrsync sends none",
                ),
            )
        return Settled(None, _unread(context, name, "the teams"))
    return Settled(
        "lenient",
        passed(name, "Cliq ignores a parameter the teams listing does not use; hrsync sends none"),
    )


def teams_listed(context: Context) -> Settled:
    """Whether the teams listing shows teams the account has not joined (their ``joined``)."""
    name = "teams listed"
    try:
        teams = _teams(context)
    except Refused:
        return Settled(None, _unread(context, name, "the teams"))
    if not teams:
        return Settled(None, passed(name, "not settled: the organisation has no team yet"))
    if any(t.get("joined") is False for t in teams):
        return Settled(
            "every team", passed(name, "Cliq lists teams this account has not joined too")
        )
    return Settled(
        "joined only",
        noted(
            name,
            f"every one of the {len(teams)} teams listed is one this account has joined: Cliq "
            "may list only those. A rule's team that exists but that this account has not "
            "joined cannot be found, so its creation fails, saying so",
            "add hrsync's account to every team its rules name",
        ),
    )


def team_ids(context: Context) -> Settled:
    """Whether team ids come as text or as numbers (the users document types one a number)."""
    name = "team ids"
    try:
        teams = _teams(context)
    except Refused:
        return Settled(None, _unread(context, name, "the teams"))
    ids = [t.get("team_id") for t in teams if "team_id" in t]
    if not ids:
        return Settled(None, passed(name, "not settled: no team listed"))
    numbers = all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    form = "numbers" if numbers else "text"
    return Settled(
        form, passed(name, f"Cliq answers team ids as {form}; hrsync keeps every id as text")
    )


def _unread(context: Context, name: str, what: str) -> Check:
    if context.reader.reach.lost is not None:
        return context.reader.reach.skipped().check(name)
    return not_checked(name, f"not checked: {what} could not be read", "see the checks above")


READINGS: dict[str, Reading] = {
    "update_body": update_body,
    "modified_after": modified_after,
    "custom_values": custom_values,
    "drop_down_values": drop_down_values,
    "departments": departments,
    "designations_paging": designations_paging,
    "teams_params": teams_params,
    "teams_listed": teams_listed,
    "team_ids": team_ids,
}
