"""``GET /api/v2/users?modified_after=``: in the form this organisation takes, learnt once.

Zoho's users document types ``modified_after`` as a date-time (``2025-06-01T10:00:00Z``); a
public connector sends epoch milliseconds on purpose. hrsync sends the documented form
first; a refusal that names the parameter makes it try the other, and the form taken is kept
in the store, so later runs never pay for the refusal again. A remembered form that is
refused (the organisation changed) is learnt again the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any, Protocol

from hrsync.errors import BadRequest
from hrsync.targets.cliq.seen import Memory

log = logging.getLogger(__name__)
MODIFIED_AFTER = "cliq:modified_after"  # the store bookmark: "iso" or "epoch_ms"
FORMS = ("iso", "epoch_ms")  # the users document's form first
PARAMETER = "modified_after"


class UserLister(Protocol):
    """The one listing this needs (``CliqClient.iter_user_items``)."""

    def iter_user_items(
        self,
        *,
        status: str | None = None,
        search: str | None = None,
        modified_after: str | None = None,
    ) -> Iterator[Any]: ...


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
