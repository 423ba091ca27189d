"""How many calls a plan needs per endpoint group, for the estimate shown before a run."""

from __future__ import annotations

from collections import Counter

from hrsync.sync.plan import InviteUser, Plan, TeamMembers, UpdateUser

MOVES = {"department": "departments", "designation": "designations"}  # field -> member call


def _extra_invite_rounds(invites: list[InviteUser]) -> int:
    """Partial batches forced by waiting for managers' ids: at most one per hierarchy level."""
    levels = {i.depth for i in invites}
    return max(0, len(levels) - 1)


def api_calls(plan: Plan) -> dict[str, int]:
    """The calls this plan needs per endpoint group (invites go 100 to a call)."""
    calls: Counter[str] = Counter()
    joining: Counter[tuple[str, str]] = Counter()  # movers, moved 100 to a member call
    for change in plan.changes:
        if isinstance(change, TeamMembers) and not change.join:
            calls[change.endpoint] += len(change.employee_ids)  # one member out per call
        elif isinstance(change, UpdateUser):
            groups = {f: new for f, (_, new) in change.changes.items() if f in MOVES and new}
            joining.update((MOVES[f], new.lower()) for f, new in groups.items())
            if set(change.changes) - groups.keys():
                calls[change.endpoint] += 1
        elif change.endpoint and not isinstance(change, InviteUser):
            calls[change.endpoint] += 1
    for (endpoint, _), movers in joining.items():
        calls[endpoint] += -(-movers // 100)
    invites = len(plan.of(InviteUser))
    if invites:
        calls["users.add"] = -(-invites // 100) + _extra_invite_rounds(plan.of(InviteUser))
    return dict(calls)
