"""The stall detector: a change Cliq keeps saying it made, that never takes effect.

A change planned again, exactly as before, after each of its last ``STALLED_AFTER`` applies
reported it done, is not made a fourth time: Cliq answered "done" and still differs, in a
way no known reading of its API explains. It becomes a pending action that says so, and the
rest of the run goes on. The evidence is the journal, so it holds across processes and
across the incremental runs in between; it looks back ``WINDOW`` seconds, so a held change
is tried again once its oldest "done" is that old (the cause may be gone by then).

A creation is never held so: its effect is seen (Cliq answers with the new object's id), and
one planned again means the object is gone again (an admin deletes a department hrsync
makes for HR): making it again is what HR asks for, and what the changes that need it wait on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from hrsync.sync.plan import Change, Plan

STALLED_AFTER = 3  # applies that each reported the same change done
WINDOW = 7 * 86_400.0  # seconds of applies looked back on
CREATES = "create_"  # the kinds that make a department, designation, team, role or group
STALLED = "hrsync has made this change {times} times and Cliq still differs: "

Outcomes = Callable[[Iterable[str]], Mapping[str, list[tuple[str, str]]]]


def stalled_changes(changes: Iterable[Change], outcomes: Outcomes) -> list[Change]:
    """The changes whose last ``STALLED_AFTER`` journal entries (newest first, from
    ``outcomes``) are each this very change, confirmed."""
    by_key = {c.key: c for c in changes if not c.kind.startswith(CREATES)}
    history = outcomes(by_key)
    stalled: list[Change] = []
    for key, entries in history.items():
        change = by_key.get(key)
        if change is None or len(entries) < STALLED_AFTER:
            continue
        encoded = change.encoded()
        if all(state == "confirmed" and text == encoded for state, text in entries):
            stalled.append(change)
    return stalled


def hold_stalled(plan: Plan, stalled: list[Change]) -> None:
    """Take ``stalled`` out of ``plan``; each becomes a pending action naming the change."""
    if not stalled:
        return
    keys = {c.key for c in stalled}
    plan.changes = [c for c in plan.changes if c.key not in keys]
    plan.drift = [k for k in plan.drift if k not in keys]
    for change in stalled:
        plan.pending.append(
            STALLED.format(times=STALLED_AFTER)
            + f"{change.describe(done=False)} (look at it in Cliq; hrsync tries again once "
            "a week has passed since the first time)"
        )
    plan.stalled = sorted(keys)
