"""Doctor's People and Connect findings: the employee form's fields, the Connect network."""

from __future__ import annotations

from typing import Any

from hrsync.api.connect import ConnectClient
from hrsync.api.people import PeopleClient
from hrsync.doctor.checks import Check, failed, noted, passed
from hrsync.doctor.reads import Reader, Refused
from hrsync.plural import counted
from hrsync.sources.zoho_people import FIELDS

PEOPLE_FORMS = "ZOHOPEOPLE.forms.READ"
CONNECT_GROUPS = "zohopulse.userDetail.READ"
REQUIRED = ("EmployeeID", "EmailID")  # hrsync matches people by these
MANAGER = ("Reporting_To.ID", "Reporting_To.MailID")


def people_form_check(reader: Reader, client: PeopleClient, form: str) -> Check:
    """The first record of the employee form carries the fields hrsync maps."""
    name = f"People form {form}"
    path = f"GET /people/api/forms/{form}/getRecords"

    def first_record() -> tuple[str, dict[str, Any]] | None:
        return next(iter(client.iter_records(form)), None)

    try:
        first = reader.run(path, first_record, endpoint="people", scope=PEOPLE_FORMS)
    except Refused as refused:
        return refused.check(name)
    if first is None:
        return noted(
            name, "the form has no records: its fields cannot be seen", "run doctor again later"
        )
    present = set(first[1])
    lacking = [label for label in REQUIRED if label not in present]
    if lacking:
        return failed(
            name,
            f"records carry no {', '.join(lacking)}: hrsync matches people by them",
            f"set [source] form to People's employee form (now {form!r})",
        )
    wanted = [*FIELDS.values(), *MANAGER]
    absent = [label for label in wanted if label not in present]
    if absent:
        return noted(
            name,
            f"{len(wanted) - len(absent)} of {len(wanted)} mapped fields present; absent: "
            f"{', '.join(absent)} (their Cliq fields are left as they are)",
            "none needed, unless these should sync: add them to the People form",
        )
    return passed(name, f"all {len(wanted)} mapped fields present")


def connect_network_check(reader: Reader, client: ConnectClient) -> Check:
    """The Connect network answers a listing of its groups."""
    name = "Connect network"
    try:
        groups = reader.run(
            "GET /pulse/api/allGroups", client.groups, endpoint="connect", scope=CONNECT_GROUPS
        )
    except Refused as refused:
        return refused.check(name)
    return passed(name, f"network {client.network_id} reachable: {counted(len(groups), 'group')}")
