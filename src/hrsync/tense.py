"""A change's words follow its state: what a plan would do is said in the future ("Would
invite a@x.com"), what happened in the past ("Invited a@x.com"), what failed as the attempt
that failed ("Inviting a@x.com failed"), what was not done as such ("Not done: invite …").

The journal keeps each change as the plan said it (``Change.describe(done=False)``), runs of
every version alike; it is told in its state's words when it is read, so runs kept by older
versions read right too. A text that does not begin with "Would" is left as it is."""

from __future__ import annotations

FUTURE = "Would "
# The verbs a change begins with (``sync/plan.py``): bare → (past, -ing).
VERBS: dict[str, tuple[str, str]] = {
    "create": ("Created", "Creating"),
    "add": ("Added", "Adding"),
    "remove": ("Removed", "Removing"),
    "give": ("Gave", "Giving"),
    "take": ("Took", "Taking"),
    "update": ("Updated", "Updating"),
    "invite": ("Invited", "Inviting"),
    "adopt": ("Adopted", "Adopting"),
    "deactivate": ("Deactivated", "Deactivating"),
    "reactivate": ("Reactivated", "Reactivating"),
}
DONE_STATES = ("confirmed", "done")
PLANNED_STATES = ("", "planned", "intended")


def told(summary: str, state: str, error: str = "") -> str:
    """``summary`` (as a plan said it) in the words of ``state``; ``error``, when given, is
    added to a failed or skipped change as its reason."""
    if not summary.startswith(FUTURE) or state in PLANNED_STATES:
        return summary
    bare = summary[len(FUTURE) :]
    verb, _, rest = bare.partition(" ")
    forms = VERBS.get(verb)
    if forms is None:  # a verb this version does not know: said as not yet done
        return summary
    past, doing = forms
    why = f": {error}" if error else ""
    if state in DONE_STATES:
        return f"{past} {rest}"
    if state == "failed":
        return f"{doing} {rest} failed{why}"
    if state == "sent":
        return f"{doing} {rest}: sent, not confirmed yet"
    if state == "skipped":
        return f"Not done: {bare}{why}"
    if state == "superseded":
        return f"Not confirmed: {bare}{why}"
    return summary
