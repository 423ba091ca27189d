"""Zoho Connect's data: one network (scope) and its groups."""

from __future__ import annotations

from dataclasses import dataclass, field

SCOPE_ID = "105000017039001"


@dataclass
class ConnectGroup:
    id: str
    name: str
    desc: str
    created: float
    url: str
    members: set[str] = field(default_factory=set)  # zuids, or "email:" + an invitee's email
    admins: set[str] = field(default_factory=set)


@dataclass
class Network:
    scope_id: str = SCOPE_ID
    groups: dict[str, ConnectGroup] = field(default_factory=dict)
