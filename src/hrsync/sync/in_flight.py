"""Team memberships a killed run may have changed in Cliq without recording them: an
invitation batch or a team join whose answer never came back, a team leave cut off between
Cliq's answer and the store. Pure: the killed runs' journalled changes and Cliq as now read
in; what hrsync should count as its own out.

A change stays unfinished in the journal (intended or sent) until a later run settles it,
and the store's memberships are corrected from it before that: so a run killed in its turn,
after it read Cliq but before it recorded what it found, leaves the same work to the next.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hrsync.sync.state import Inventory


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A killed run's team changes, as journalled: who each invitation put in which teams,
    and each team join or leave."""

    invited: list[tuple[str, list[str]]] = field(default_factory=list)  # employee id, teams
    members: list[tuple[str, list[str], bool]] = field(default_factory=list)  # team, ids, join

    @classmethod
    def parse(cls, invitations: Iterable[str], team_changes: Iterable[str]) -> Unfinished:
        """From the payloads of unfinished ``invite`` and ``team_members`` changes."""
        invited = []
        for text in invitations:
            invite = json.loads(text)
            teams = [str(t) for t in invite.get("teams") or []]
            if teams:
                invited.append((str(invite.get("employee_id", "")), teams))
        members = []
        for text in team_changes:
            change = json.loads(text)
            ids = [str(e) for e in change.get("employee_ids", [])]
            members.append((str(change.get("team", "")), ids, bool(change.get("join", True))))
        return cls(invited, members)

    def __bool__(self) -> bool:
        return bool(self.invited or self.members)

    def teams(self) -> set[str]:
        """Every team these changes name: Cliq's members of each are needed."""
        return {t for _, teams in self.invited for t in teams} | {t for t, _, _ in self.members}


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """Team (lower-cased) → employee ids: the memberships Cliq shows that a killed run made,
    and those it ended."""

    joined: dict[str, set[str]] = field(default_factory=dict)
    left: dict[str, set[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.joined or self.left)

    def applied_to(self, managed: Mapping[str, set[str]]) -> dict[str, set[str]]:
        """``managed`` (the store's team memberships) as they are once these are recorded."""
        result = {team: set(ids) for team, ids in managed.items()}
        for team, ids in self.joined.items():
            result.setdefault(team, set()).update(ids)
        for team, ids in self.left.items():
            result.get(team, set()).difference_update(ids)
        return result


def unrecorded(
    unfinished: Unfinished, inventory: Inventory, links: Mapping[str, str]
) -> Unrecorded:
    """What Cliq shows of the killed runs' team changes: people an invitation or a join
    named who are in the team (hrsync's now), people a leave named who are not (no longer
    hrsync's). A team whose members were not read is left out."""
    joined: dict[str, set[str]] = {}
    left: dict[str, set[str]] = {}

    def members_of(name: str) -> set[str] | None:
        team = inventory.team(name)
        return team.members if team is not None and team.loaded else None

    joins = [(t, [e]) for e, teams in unfinished.invited for t in teams]
    joins += [(t, ids) for t, ids, join in unfinished.members if join]
    for name, ids in joins:
        members = members_of(name)
        found = {e for e in ids if members is not None and links.get(e) in members}
        if found:
            joined.setdefault(name.strip().lower(), set()).update(found)
    for name, ids, join in unfinished.members:
        members = members_of(name)
        if join or members is None:
            continue
        gone = {e for e in ids if e in links and links[e] not in members}
        if gone:
            left.setdefault(name.strip().lower(), set()).update(gone)
    return Unrecorded(joined, left)
