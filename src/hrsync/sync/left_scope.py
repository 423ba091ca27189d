"""Managed people the ``[scope]`` leaves out (``sources/scoped.py``). With ``on_leave =
"deactivate"`` they are deactivated like leavers, under the same guard; with ``"keep"`` they
are left exactly as Cliq has them, no longer managed, and the plan says so once (the engine
remembers whom it said it of). Only people hrsync manages (in the link table) ever count:
someone never managed is not touched, nor is someone whose scope fields could not be read
(held, not known to be outside) or whose record is broken besides."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from hrsync.model import OUTSIDE_SCOPE, ScopeOutcome
from hrsync.sync.plan import Change, DeactivateUser, Plan
from hrsync.sync.state import CurrentUser, DesiredState

LEFT_SCOPE = "left the scope"  # how a deactivation for leaving the scope gives its reason
SHOWN = 10  # people named in a note; the plan's JSON names them all


def left_scope(
    desired: DesiredState,
    users: Mapping[str, CurrentUser],
    links: Mapping[str, str],
    *,
    protected: Collection[str],
    plan: Plan,
) -> list[Change]:
    """The deactivations ``on_leave = "deactivate"`` asks for (none under "keep"); fills
    ``plan.scope``. ``users``: Cliq's users by zuid."""
    outcome = desired.scope
    if outcome is None:
        return []
    managed = _managed_outside(desired, outcome, users, links)
    plan.scope = scope_json(outcome) | {"managed_outside": sorted(managed), "left": []}
    if outcome.on_leave != "deactivate":
        return []
    changes: list[Change] = []
    for employee_id, user in sorted(managed.items()):
        if user.status == "inactive" or user.zuid in protected:
            continue
        why = outcome.outside[employee_id].removeprefix(f"{OUTSIDE_SCOPE}: ")
        changes.append(DeactivateUser(employee_id, user.email, f"{LEFT_SCOPE}: {why}"))
        plan.known_users[employee_id] = user.zuid
    left = [getattr(c, "employee_id", "") for c in changes]
    plan.scope["left"] = left
    if left:
        plan.notes.append(
            f"{len(left)} people left the scope and are deactivated "
            f'(on_leave = "deactivate"): {_few(left)}'
        )
    return changes


def note_kept(plan: Plan, noted: Collection[str]) -> None:
    """Under "keep": name the managed people outside the scope whom no applied run has named
    yet (``noted``), as left and no longer managed."""
    if plan.scope.get("on_leave") != "keep":
        return
    said = set(noted)
    left = [e for e in plan.scope["managed_outside"] if e not in said]
    plan.scope["left"] = left
    if left:
        plan.notes.append(
            f"{len(left)} people left the scope and are no longer managed: {_few(left)}; "
            'hrsync leaves them exactly as Cliq has them (on_leave = "keep")'
        )


def scope_json(outcome: ScopeOutcome) -> dict[str, Any]:
    """The scope's counts as the plan's JSON gives them."""
    return {
        "on_leave": outcome.on_leave,
        "inside": outcome.inside,
        "outside": len(outcome.outside),
        "unreadable": outcome.unreadable,
        "rules": [
            {"rule": c.rule, "field": c.field, "values": list(c.values), "people": c.people}
            for c in outcome.counts
        ],
    }


def leaves_by_deactivation(desired: DesiredState, employee_id: str) -> bool:
    """Whether the person is known to be outside a scope whose leavers are deactivated."""
    outcome = desired.scope
    return (
        outcome is not None
        and outcome.on_leave == "deactivate"
        and employee_id in outcome.outside
        and desired.held.get(employee_id) == outcome.outside[employee_id]
    )


def _managed_outside(
    desired: DesiredState,
    outcome: ScopeOutcome,
    users: Mapping[str, CurrentUser],
    links: Mapping[str, str],
) -> dict[str, CurrentUser]:
    """Employee id → Cliq user of the managed people known to be outside, held for that
    alone (a hold that says more is a broken record too: only held)."""
    found: dict[str, CurrentUser] = {}
    for employee_id, why in outcome.outside.items():
        user = users.get(links.get(employee_id, ""))
        if user is not None and desired.held.get(employee_id) == why:
            found[employee_id] = user
    return found


def _few(employee_ids: list[str]) -> str:
    return ", ".join(employee_ids[:SHOWN]) + (" …" if len(employee_ids) > SHOWN else "")
