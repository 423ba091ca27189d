"""Drift: differences made in Cliq by hand since hrsync last made it match HR.

hrsync keeps, per person, a digest of everything HR decided for them at the last successful
apply. A change planned for someone whose digest has not moved since is drift: HR did not
change, Cliq did. Drift is put back like any change and said so. Fields an admin may change
by hand (``[drift] ignore``) are written only when HR's own value changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from hrsync.sync.plan import Change, Plan, ReactivateUser, RoleMembers, TeamMembers, UpdateUser
from hrsync.sync.state import PROFILE_FIELDS, DesiredState, DesiredUser

# What ``[drift] ignore`` may name: the fields an update writes, as a plan names them.
IGNORABLE: tuple[str, ...] = (*PROFILE_FIELDS, "department", "designation", "reporting_to")


def digests(desired: DesiredState) -> dict[str, str]:
    """Employee id → a short digest of everything HR decides for them."""
    return {eid: _digest(user) for eid, user in desired.users.items()}


# One encoder for every digest (``json.dumps`` with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _digest(user: DesiredUser) -> str:
    text = _ENCODER.encode(
        [
            user.active,
            sorted(user.fields.items()),
            user.department,
            user.designation,
            user.manager_id,
            sorted(user.custom.items()),
            sorted(user.teams),
            sorted(user.connect_groups),
            user.role,
            sorted(user.keep),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ignored_values(desired: DesiredState, ignore: Sequence[str]) -> dict[str, dict[str, str]]:
    """Employee id → HR's value of each ignored field, to tell HR's changes from an admin's."""
    if not ignore:
        return {}
    return {eid: {f: _value(user, f) for f in ignore} for eid, user in desired.users.items()}


def _value(user: DesiredUser, name: str) -> str:
    if name == "department":
        return user.department or ""
    if name == "designation":
        return user.designation or ""
    if name == "reporting_to":
        return user.manager_id
    return user.fields.get(name, "")


def leave_ignored(
    plan: Plan,
    desired: DesiredState,
    previous: Mapping[str, Mapping[str, str]],
    ignore: Sequence[str],
) -> None:
    """Drop from updates the ignored fields whose HR value has not changed since last time."""
    if not ignore:
        return
    now = ignored_values(desired, ignore)
    kept: list[Change] = []
    for change in plan.changes:
        if isinstance(change, UpdateUser) and change.employee_id in previous:
            before = previous[change.employee_id]
            hr_same = {f for f in ignore if before.get(f) == now[change.employee_id].get(f)}
            fields = {k: v for k, v in change.changes.items() if k not in hr_same}
            if not fields:
                continue
            change = replace(change, changes=fields)
        kept.append(change)
    plan.changes = kept


def mark_drift(
    plan: Plan, desired: DesiredState, previous: Callable[[], Mapping[str, str]]
) -> None:
    """Name the changes that put back what was changed in Cliq by hand: ``previous`` gives
    the ``digests`` of the last clean apply. Only the people the changes name are digested,
    and the baseline is read only when a change names someone."""
    named = [(c, people) for c in plan.changes if (people := _people_of(c))]
    if not named:
        return
    before = previous()
    if not before:
        return
    users = desired.users
    steady: dict[str, bool] = {}

    def is_steady(eid: str) -> bool:
        if eid not in steady:
            user = users.get(eid)
            steady[eid] = user is not None and before.get(eid) == _digest(user)
        return steady[eid]

    plan.drift = [c.key for c, people in named if all(is_steady(eid) for eid in people)]
    if plan.drift:
        plan.notes.append(
            f"drift: {len(plan.drift)} changes put back what was changed in Cliq by hand "
            "(HR did not change); list fields an admin may change in [drift] ignore"
        )


def _people_of(change: Change) -> set[str]:
    if isinstance(change, UpdateUser | ReactivateUser):
        return {change.employee_id}
    if isinstance(change, TeamMembers | RoleMembers) and change.join:
        return set(change.employee_ids)
    return set()
