"""Zoho Connect as a sync target: rule-driven groups and their members.

Connect documents no way to list a group's members, so the memberships hrsync created (kept
in its store) are what it keeps in step; nobody else's membership is ever touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial

from hrsync.api.connect import MAX_IDS, ConnectClient
from hrsync.errors import BadRequest
from hrsync.sync.apply import Ledger, Step
from hrsync.sync.plan import ConnectMembers, CreateConnectGroup, Plan
from hrsync.sync.state import Inventory


class ConnectTarget:
    def __init__(self, client: ConnectClient) -> None:
        self.client = client
        self._members: dict[str, str] | None = None

    def ready(self) -> bool:
        """Whether a Connect call can go now without waiting for the rate limit."""
        return self.client.http.pacer.delay("connect") <= 0

    def groups(self) -> dict[str, str]:
        """Lower-cased group name → group (partition) id."""
        return {g.name.strip().lower(): g.id for g in self.client.groups()}

    def create_group(self, name: str) -> str:
        return self.client.create_group(name, description="Kept in step with HR by hrsync")

    def add_members(self, group_id: str, emails: Sequence[str]) -> None:
        if len(emails) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} people per call")
        failed = self.client.add_users(group_id, emails)
        if failed:
            raise BadRequest(f"Zoho Connect could not add {', '.join(failed)}")

    def remove_member(self, group_id: str, email: str, zuid: str = "") -> None:
        if not zuid:
            if self._members is None:
                self._members = self.client.members()
            zuid = self._members.get(email.lower(), "")
        if not zuid:
            raise BadRequest(f"{email} is not a member of the Connect network")
        self.client.remove_user(group_id, zuid)

    def changes(self, inventory: Inventory, plan: Plan, ledger: Ledger) -> ConnectChanges:
        return ConnectChanges(self, inventory, plan, ledger)


class ConnectChanges:
    """Each Connect change: groups by name resolved to their ids once, then one function each."""

    def __init__(
        self, target: ConnectTarget, inventory: Inventory, plan: Plan, ledger: Ledger
    ) -> None:
        self.target = target
        self.ledger = ledger
        self.zuid_of = plan.known_users  # Connect takes a member out by their Cliq user
        self.groups = dict(inventory.connect.groups) if inventory.connect else {}

    def steps(self, plan: Plan) -> Iterator[Step]:
        for group in plan.of(CreateConnectGroup):
            yield Step([group], partial(self.create_group, group))
        for members in plan.of(ConnectMembers):
            yield Step([members], partial(self.members, members))

    def create_group(self, change: CreateConnectGroup) -> None:
        self.groups[change.name.strip().lower()] = self.target.create_group(change.name)

    def members(self, change: ConnectMembers) -> None:
        group_id = self.groups.get(change.group.strip().lower())
        if group_id is None:
            raise BadRequest(f"Connect group {change.group!r} does not exist (creation failed)")
        journal = self.ledger.journal
        if change.join:
            self.target.add_members(group_id, change.emails)
            journal.add_memberships("connect_group", change.group, change.employee_ids)
        else:
            zuid = self.zuid_of.get(change.employee_ids[0], "")
            self.target.remove_member(group_id, change.emails[0], zuid)
            journal.remove_memberships("connect_group", change.group, change.employee_ids)
