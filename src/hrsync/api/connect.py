"""Zoho Connect groups API (``/pulse/api``): parameters go in the query string, answers come
wrapped in the operation's name (no sync decisions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from hrsync.api.http import ZohoHttp
from hrsync.errors import BadRequest

MAX_IDS = 100  # users per addUsersToGroup call


class ConnectGroup(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str


class ConnectClient:
    def __init__(self, http: ZohoHttp, *, network_id: str) -> None:
        self.http = http
        self.network_id = network_id

    def _call(self, method: str, operation: str, **params: Any) -> dict[str, Any]:
        query = {"scopeID": self.network_id, **params}
        body = self.http.call(method, f"/pulse/api/{operation}", endpoint="connect", params=query)
        answer = body.get(operation) if isinstance(body, dict) else None
        if not isinstance(answer, dict):
            raise BadRequest(f"Zoho Connect answered {operation} without a result: {body}")
        return answer

    def groups(self) -> list[ConnectGroup]:
        answer = self._call("GET", "allGroups")
        return [ConnectGroup.model_validate(g) for g in answer.get("groups", [])]

    def create_group(self, name: str, *, description: str = "") -> str:
        answer = self._call("POST", "addGroup", name=name, desc=description)
        return str(answer["partitionId"])

    def add_users(self, group_id: str, emails: Sequence[str]) -> list[str]:
        """Add up to 100 people by email (Connect invites anyone not yet in the network);
        returns the ids Connect could not add."""
        answer = self._call(
            "POST", "addUsersToGroup", partitionId=group_id, userEmailIds=",".join(emails)
        )
        return [str(i) for i in answer.get("failedUserIds", [])]

    def remove_user(self, group_id: str, zuid: str) -> None:
        self._call("DELETE", "removeUserFromGroup", partitionId=group_id, userId=zuid)

    def members(self) -> dict[str, str]:
        """The network's members: lower-cased email → zuid."""
        answer = self._call("GET", "orgMembers")
        return {
            str(u.get("emailId", "")).lower(): str(u.get("zuid") or u.get("id"))
            for u in answer.get("usersDetails", [])
        }
