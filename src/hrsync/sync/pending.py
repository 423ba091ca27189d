"""Pending actions with the people who wait for them.

A pending action is an admin's task in Zoho (add a drop-down option, create a user field or
a role) that holds some people's values back; the rest of the run goes on. A value a
drop-down has no option for is also recorded as a per-person error, so that the person can
be named: those errors belong to their pending action, not to broken HR records.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from hrsync.model import RecordError
from hrsync.sync.plan import CreateDepartment, CreateDesignation, InviteUser, Plan, UpdateUser

# The wording of sync.mapping.NoSuchOption, and of the pending action it leads to.
FIELD_ACTIONS = ("Cliq has no user field '", "Cliq field '")  # the pending actions of fields
NO_OPTION = re.compile(r"^(?P<value>.+) is not an option of Cliq field '(?P<field>.+)' \(")


@dataclass(frozen=True)
class PendingAction:
    """One cause, already counted in its text, and the people known to wait for it."""

    action: str
    people: list[str] = field(default_factory=list)


def pending_actions(plan: Plan) -> tuple[list[PendingAction], list[RecordError]]:
    """The plan's pending actions with their people, and the errors that are not theirs."""
    waiting: dict[str, list[str]] = {action: [] for action in plan.pending}
    others: list[RecordError] = []
    for error in plan.errors:
        action = _action_of(error, plan.pending)
        if action is None:
            others.append(error)
        else:
            waiting[action].append(error.where)
    return [PendingAction(a, people) for a, people in waiting.items()], others


def _action_of(error: RecordError, actions: list[str]) -> str | None:
    found = NO_OPTION.match(error.message)
    if found is None:
        return None
    start = f"Cliq field '{found['field']}' has no option {found['value']}:"
    return next((a for a in actions if a.startswith(start)), None)


def needs_groups(plan: Plan) -> bool:
    """Whether ``plan`` writes a department or designation (creates one, invites someone
    into one, or moves someone): only then are they worth listing again, for their ids. A
    run of other changes (a new mobile number, a leaver) goes by them as last listed."""
    for change in plan.changes:
        if isinstance(change, CreateDepartment | CreateDesignation):
            return True
        if isinstance(change, InviteUser) and (change.department or change.designation):
            return True
        if isinstance(change, UpdateUser) and change.changes.keys() & {"department", "designation"}:
            return True
    return False


def needs_custom_fields(plan: Plan, refs: Collection[str], unique_names: Collection[str]) -> bool:
    """Whether ``plan`` writes a Cliq custom field (``unique_names``) or waits for one (a
    field or option ``refs`` name that Cliq lacks): only then are the fields worth listing
    again. A run of other changes (a mover, a leaver) goes by the fields as last listed."""
    wanted = {r.lower() for r in refs}
    names = set(unique_names)
    for change in plan.changes:
        if isinstance(change, InviteUser) and change.custom:
            return True
        if isinstance(change, UpdateUser) and names & change.changes.keys():
            return True
    if any(p.startswith(FIELD_ACTIONS) for p in plan.pending):
        return True
    return any(e.field.lower() in wanted for e in plan.errors if e.field)
