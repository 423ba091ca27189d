"""Zoho Connect as a sync target: rule-driven groups and their members.

Connect documents no way to list a group's members, so the memberships hrsync created (kept
in its store) are what it keeps in step; nobody else's membership is ever touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from hrsync.api.connect import MAX_IDS, ConnectClient
from hrsync.errors import BadRequest


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
