"""The OAuth scope each call needs, as the API documents list them; a token without it is
refused. A held ``Service.Module.ALL`` grants every operation of that module."""

from __future__ import annotations

OPERATIONS = {
    "GET": "READ",
    "POST": "CREATE",
    "PUT": "UPDATE",
    "PATCH": "UPDATE",
    "DELETE": "DELETE",
}
CLIQ_MODULES = {
    "users": "Users",
    "departments": "Departments",
    "designations": "Designations",
    "teams": "Teams",
    "profiles": "Organisation",
    "statuses": "Profile",
    "userfields": "UserFields",
    "channelsbyname": "Webhooks",  # every messaging API: ZohoCliq.Webhooks.CREATE
}
CONNECT = {
    "allGroups": "zohopulse.userDetail.READ",
    "orgMembers": "zohopulse.networklist.READ",
    "addGroup": "zohopulse.grouplist.CREATE",
    "addUsersToGroup": "zohopulse.grouplist.CREATE",
    "removeUserFromGroup": "zohopulse.grouplist.DELETE",
    "deletePartition": "zohopulse.grouplist.DELETE",
}


def required(method: str, path: str) -> str | None:
    """The scope a call needs, or None where the documents name none we check."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v2"] and len(parts) > 2 and parts[2] in CLIQ_MODULES:
        module = CLIQ_MODULES[parts[2]]
        operation = OPERATIONS.get(method, "READ")
        if module == "UserFields" and method == "GET":
            module = "Users"  # reading fields needs only the users scope
        if parts[-1] == "members" and method in ("POST", "DELETE") and module != "Teams":
            operation = "UPDATE" if method == "POST" else "DELETE"
        if module == "Teams" and parts[-2:-1] == ["members"] and method == "DELETE":
            operation = "UPDATE"  # one member out, by path: READINGS #6
        if module == "Organisation" and parts[-1] == "users" and method != "GET":
            operation = "UPDATE"
        if module == "Organisation" and parts[-1] == "permissions" and method == "PUT":
            operation = "DELETE"  # as the roles document names it
        return f"ZohoCliq.{module}.{operation}"
    if parts[:2] == ["pulse", "api"] and len(parts) > 2:
        return CONNECT.get(parts[2])
    if parts[:2] == ["people", "api"] and method == "GET":
        return "ZOHOPEOPLE.forms.READ"
    return None


def people_scope(method: str, path: str) -> str | None:
    """The Zoho People scope the departments document lists beside Cliq's for a department
    read; the variant departments-need-people-scope refuses the read without it."""
    parts = [p for p in path.split("/") if p]
    if method != "GET" or parts[:3] != ["api", "v2", "departments"]:
        return None
    if len(parts) == 3:
        return "ZohoPeople.employee.READ"  # list departments
    if len(parts) == 4:
        return "ZohoPeople.forms.READ"  # get a department
    return "ZohoPeople.dashboard.READ" if parts[-1] == "members" else None


def granted(held: tuple[str, ...], needed: str) -> bool:
    have = {s.lower() for s in held}
    module = needed.rsplit(".", 1)[0].lower()
    return needed.lower() in have or f"{module}.all" in have
