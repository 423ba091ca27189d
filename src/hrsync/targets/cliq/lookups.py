"""Departments and designations as last listed, kept between full reads until a plan writes
one; and finding by name what Cliq says exists: departments and designations hrsync created or
found (remembered, since some organisations list designations one page only), a team in the
whole listing, a role in the roles listing. Part of ``CliqTarget``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hrsync.api.cliq import CliqClient
from hrsync.sync.state import Inventory
from hrsync.targets.cliq.seen import Memory, Seen

# Departments and designations hrsync created or found by name, by kind: name → id. Some
# organisations list only one page of designations (no next_token): those beyond it are
# known only from here.
KNOWN_GROUPS = "cliq:groups:known"
PAGE = 100  # items hrsync asks for in a page of a listing


class Lookups:
    """``CliqTarget`` provides the client and the store's memory."""

    client: CliqClient
    memory: Memory
    teams_found: bool
    base_department_id: str
    lead_zuid: str
    _seen: Seen | None

    def _read_groups(self, inv: Inventory) -> None: ...  # ``CliqTarget``'s listing

    def groups(self, inventory: Inventory) -> bool:
        """List the departments and designations again when ``inventory`` holds them as last
        listed; whether it did. A plan that writes one asks for this, for ids that are
        surely Cliq's now: a run that writes none needs no listing."""
        if not inventory.groups_as_seen:
            return False
        inventory.departments.clear()
        inventory.designations.clear()
        inventory.groups_as_seen = False
        self._read_groups(inventory)
        if self._seen is not None:  # saved with the rest by ``applied``
            self._seen.groups = self._groups_to_keep(inventory)
        return True

    def _kept_groups(self, inv: Inventory, kept: dict[str, Any]) -> None:
        inv.departments = dict(kept["departments"])
        inv.designations = dict(kept["designations"])
        self.base_department_id, self.lead_zuid = str(kept["base"]), str(kept["lead"])
        inv.groups_as_seen = True

    def _groups_to_keep(self, inv: Inventory) -> dict[str, Any] | None:
        """The listing to go by until a plan writes a group; None when there is none to
        keep (Cliq refused it: it is asked again each run, as the pending action says)."""
        if inv.groups_by_people or inv.departments_unread or inv.groups_partial:
            return None
        return {
            "departments": dict(inv.departments),
            "designations": dict(inv.designations),
            "base": self.base_department_id,
            "lead": self.lead_zuid,
        }

    def _add_known_groups(self, inv: Inventory) -> None:
        """Groups hrsync created or found by name that the listing left out (a listing of
        one page): listed names and ids win over what was remembered. A listing that ended
        on a page short of the page size was whole: what it left out is gone from Cliq."""
        known: dict[str, dict[str, str]] = self.memory.bookmark(KNOWN_GROUPS) or {}
        kept: dict[str, dict[str, str]] = {}
        for kind, table in (("departments", inv.departments), ("designations", inv.designations)):
            read = not inv.groups_by_people and not (
                kind == "departments" and inv.departments_unread
            )
            whole = read and (len(table) % PAGE != 0 or not table)
            if read and not whole:
                inv.groups_partial.add(kind)
            listed_ids = set(table.values())
            listed_names = {name.lower() for name in table}
            kept[kind] = {}
            for name, group_id in (known.get(kind) or {}).items():
                if group_id in listed_ids or name.lower() in listed_names or whole:
                    continue
                table[name] = kept[kind][name] = group_id
        if known and kept != known:
            self.memory.save_bookmark(KNOWN_GROUPS, kept)

    def find_groups(self, inventory: Inventory, wanted: Mapping[str, Iterable[str]]) -> None:
        """Look up by name the wanted departments and designations a listing that may have
        stopped short left out (read-only; one search each, and found ones are remembered,
        so a plan says what apply will do)."""
        for kind in sorted(inventory.groups_partial):
            table = inventory.departments if kind == "departments" else inventory.designations
            listed = {name.lower() for name in table}
            for name in sorted(set(wanted.get(kind, ()))):
                if name.lower() in listed:
                    continue
                group_id = self.find_group(kind, name)
                if group_id:
                    table[name] = group_id
                    self.remember_group(kind, name, group_id)

    def remember_group(self, kind: str, name: str, group_id: str) -> None:
        """A department or designation hrsync created or found: known from now on, listed
        or not. An empty ``group_id`` forgets it (Cliq said it no longer exists)."""
        known: dict[str, dict[str, str]] = self.memory.bookmark(KNOWN_GROUPS) or {}
        table = {k: v for k, v in (known.get(kind) or {}).items() if k.lower() != name.lower()}
        if group_id:
            table[name] = group_id
        self.memory.save_bookmark(KNOWN_GROUPS, {**known, kind: table})

    def find_group(self, kind: str, name: str) -> str:
        """The id of the department or designation named ``name``, found by search ("" when
        there is none)."""
        find = (
            self.client.find_department if kind == "departments" else self.client.find_designation
        )
        found = find(name)
        return found.id if found is not None else ""

    def find_team(self, name: str) -> str:
        """The id of the team named ``name`` in a listing of every team ("" if not listed)."""
        wanted = name.strip().lower()
        self.teams_found = True
        return next(
            (t.team_id for t in self.client.iter_teams() if t.name.strip().lower() == wanted), ""
        )

    def find_role(self, name: str) -> str:
        """The id of the role named ``name`` in the roles listing ("" if not listed)."""
        wanted = name.strip().lower()
        return next((r.id for r in self.client.roles() if r.name.strip().lower() == wanted), "")
