"""What hrsync learns once per organisation about how Cliq takes a request, and remembers in
the store so that later runs never pay for it again: the body of a user update, and the form
of ``modified_after``. Each is sent in the documented (or the deliberate connector's) form
first; a refusal that names the shape or the parameter makes hrsync try the other, and the one
taken is kept. A remembered ``modified_after`` form that is refused later (the organisation
changed) is learnt again the same way.

``GET /api/v2/users?modified_after=``: Zoho's users document types it as a date-time
(``2025-06-01T10:00:00Z``); a public connector sends epoch milliseconds on purpose.
``PUT /api/v2/users/{id}`` (READINGS #8): a flat object of the changed keys, as a deliberate
connector sends it, or ``{"users": [{email_id, ...}]}`` as the users document shows it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any, Protocol

from hrsync.api.cliq import AddUsersResult
from hrsync.errors import BadRequest
from hrsync.targets.cliq.seen import Memory

log = logging.getLogger(__name__)
MODIFIED_AFTER = "cliq:modified_after"  # the store bookmark: "iso" or "epoch_ms"
FORMS = ("iso", "epoch_ms")  # the users document's form first
PARAMETER = "modified_after"


UPDATE_BODY = "cliq:update_body"  # the store bookmark: "flat" or "wrapped"
SHAPES = ("flat", "wrapped")  # flat first: what a deliberate connector sends (READINGS #8)


class UserLister(Protocol):
    """The one listing this needs (``CliqClient.iter_user_items``)."""

    def iter_user_items(
        self,
        *,
        status: str | None = None,
        search: str | None = None,
        modified_after: str | None = None,
    ) -> Iterator[Any]: ...


class UserUpdater(Protocol):
    """The one write this needs (``CliqClient.update_user``)."""

    def update_user(
        self, user_id: str, fields: dict[str, Any], *, wrapped: bool = False
    ) -> AddUsersResult: ...


def as_sent(form: str, when: float) -> str:
    """``when`` (epoch seconds, Zoho's clock) as ``modified_after`` in ``form``."""
    if form == "epoch_ms":
        return str(int(when * 1000))
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def forms_to_try(memory: Memory) -> list[str]:
    """The remembered form first, then the other; the documented one first if none is."""
    known = memory.bookmark(MODIFIED_AFTER)
    return sorted(FORMS, key=lambda form: form != known)


def refuses_form(error: BadRequest) -> bool:
    """Cliq's refusal of the value's form: a 400 whose message names the parameter (the
    URL of every error carries it too, so only the message counts)."""
    return PARAMETER in str(error.args[0] if error.args else "")


def remember(memory: Memory, form: str) -> None:
    if memory.bookmark(MODIFIED_AFTER) != form:
        log.info("Cliq takes modified_after as %s; remembered", form)
        memory.save_bookmark(MODIFIED_AFTER, form)


def users_changed_since(
    client: UserLister, memory: Memory, when: float, *, status: str | None = None
) -> Iterator[Any]:
    """The users (decoded JSON) Cliq lists as changed since ``when``, with ``status`` if
    given, asked for in the form this organisation takes."""
    forms = forms_to_try(memory)
    for n, form in enumerate(forms):
        items = client.iter_user_items(status=status, modified_after=as_sent(form, when))
        try:
            first = next(items, None)  # the first page: where a refusal comes
        except BadRequest as refused:
            if n + 1 == len(forms) or not refuses_form(refused):
                raise
            log.info("Cliq refused modified_after as %s (%s); trying the other form", form, refused)
            continue
        remember(memory, form)
        if first is not None:
            yield first
        yield from items
        return


# the update body --------------------------------------------------------------------------
def update_in_learnt_body(
    client: UserUpdater, memory: Memory, zuid: str, fields: dict[str, Any], *, email: str
) -> AddUsersResult:
    """Send the changed ``fields`` in the body this organisation takes: learnt once from
    the answer to the first update, then remembered in the store (READINGS #8)."""
    known = memory.bookmark(UPDATE_BODY)
    if known in SHAPES:
        return _update(client, zuid, fields, email, known)
    refusals: list[BadRequest] = []
    for shape in SHAPES:
        try:
            result = _update(client, zuid, fields, email, shape)
        except BadRequest as refused:
            refusals.append(refused)
            continue
        log.info("Cliq takes the %s update-user body; remembered", shape)
        memory.save_bookmark(UPDATE_BODY, shape)
        return result
    # Both refused: the error that is not about the body's shape says what is wrong.
    raise next((r for r in refusals if not _refuses_shape(r)), refusals[0])


def _update(
    client: UserUpdater, zuid: str, fields: dict[str, Any], email: str, shape: str
) -> AddUsersResult:
    if shape == "wrapped":  # the users document's body needs email_id in every entry
        return client.update_user(zuid, {"email_id": email, **fields}, wrapped=True)
    return client.update_user(zuid, fields)


def _refuses_shape(error: BadRequest) -> bool:
    """Cliq's answer to a body of the other shape: a top-level key it does not know."""
    return error.code == "extra_key_found" or "extra key" in str(error)
