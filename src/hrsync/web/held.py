"""A held run as the admin page says it: the guard's reason without the command line's
remedy, what approving does in Cliq, and the count the admin types to approve."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The guard's remedy for the command line ("…; if it is right, run again with
# --confirm-deactivations 16"): the page has its own, the typed approval.
_CLI_REMEDY = re.compile(
    r"(?<=[;.?])\s*(?:[Ii]f [^;.?]*?,\s*)?run again\s+with\s+--confirm-[a-z-]+\s+\S+\s*$"
)

# What approving does, per kind of change: (one, many); {n} is the count.
_DOES: dict[str, tuple[str, str]] = {
    "deactivate": ("deactivates this person", "deactivates these {n} people"),
    "invite": ("invites this person", "invites these {n} people"),
    "reactivate": ("reactivates this person", "reactivates these {n} people"),
    "update": ("updates this person's profile", "updates these {n} people's profiles"),
    "link": ("adopts this existing Cliq user", "adopts these {n} existing Cliq users"),
    "team_members": ("makes this team membership change", "makes these {n} team changes"),
    "connect_members": (
        "makes this Connect group change",
        "makes these {n} Connect group changes",
    ),
    "role_members": ("makes this role change", "makes these {n} role changes"),
    "create_team": ("creates this team", "creates these {n} teams"),
    "create_department": ("creates this department", "creates these {n} departments"),
    "create_designation": ("creates this designation", "creates these {n} designations"),
    "create_connect_group": ("creates this Connect group", "creates these {n} Connect groups"),
    "create_role": ("creates this role", "creates these {n} roles"),
    "update_role": ("updates this role", "updates these {n} roles"),
}


def guard_said(hold: str) -> str:
    """The guard's reason, without the remedy meant for the command line."""
    cut = _CLI_REMEDY.sub("", hold).rstrip(" ;")
    return cut if cut.endswith((".", "?")) else f"{cut}."


def at_stake(summary: Mapping[str, Any]) -> int:
    """How many changes the held plan has: the number the admin types to approve it."""
    return sum(int(n) for n in (summary.get("counts") or {}).values())


def approving_does(counts: Mapping[str, int]) -> str:
    """What approving does, in Cliq's terms: "Approving deactivates these 16 people in Cliq
    now"."""
    said = []
    for kind, n in counts.items():
        one, many = _DOES.get(kind, (f"makes this {kind} change", f"makes these {{n}} {kind}"))
        said.append(one if n == 1 else many.format(n=n))
    if not said:
        return "Approving applies the held plan now."
    listed = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    return f"Approving {listed} in Cliq now."
