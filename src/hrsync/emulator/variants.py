"""The disputed readings of Zoho's Cliq API that the emulator can play, in one table.

By default the emulator answers as the strongest reading of the evidence
(``external/zoho-cliq/READINGS.md``; the row number is given for each variant). Each other
reading is a named variant, chosen with ``hrsync emulator serve --variant NAME,...`` or
``POST /_emulator/variants {"variants": [...]}``; hrsync must converge under every one.
The code that plays a variant names it, so ``grep`` leads from this table to the behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    reading: int | None  # the row of READINGS.md; None where it has no row yet
    default: str  # what the emulator does without the variant
    instead: str  # what it does with it
    source: str  # where the variant's reading comes from


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "update-wrapped",
            8,
            "PUT /api/v2/users/{id} takes a flat object of the changed keys and refuses a "
            "'users' wrapper (extra_key_found)",
            'it takes only {"users": [{email_id, ...}]} and refuses a flat object',
            "Zoho's users document (its update body, likely copied from add-user)",
        ),
        Variant(
            "throttle-400",
            1,
            "a throttled call gets HTTP 429 'Too many requests within a certain time frame.'",
            'HTTP 400 {"code": "request_limit_exceeded", "message": "You have exceeded '
            'the URL throttle limits."}',
            "a Zoho community thread on Cliq's rate limits",
        ),
        Variant(
            "users-no-status",
            10,
            "GET /api/v2/users?fields=all carries status, department, designation, reportingto",
            "the listing leaves out status (the get-user answer still has it)",
            "the users document: without fields only a few keys are listed",
        ),
        Variant(
            "options-listed",
            13,
            "GET /api/v2/userfields leaves out drop-down options; GET /userfields/{id} has them",
            "the listing carries each drop-down's options too",
            "a public connector's documentation of the user-field answers",
        ),
        Variant(
            "teams-wrapped",
            2,
            'teams are listed as {"teams": [...]} unpaged, a team and a new team answer flat, '
            'members as {"members": [{user_id}]}',
            'teams and members come under "data" with next_token paging (members as {id}), '
            'and a team or a new team under "data"',
            "the pattern of every other Cliq listing (no teams document exists)",
        ),
        Variant(
            "add-already-available",
            24,
            "an invitation to an existing user is a failed_users entry (email.activeuser, "
            "email.pendinguser)",
            "existing users are listed under data.already_availableusers instead",
            "a public connector that treats already_availableusers as 'exists'",
        ),
        Variant(
            "people-managed",
            19,
            "departments and designations are Cliq's own",
            "Zoho People manages them: creating, editing and member moves are refused "
            "(operation_not_allowed) and department listings need a search",
            "the departments document, for organisations integrated with Zoho People",
        ),
        Variant(
            "modified-excludes-new",
            10,
            "GET /api/v2/users?modified_after=T lists users created after T, or whose department, "
            "designation, employee id, extension, reporting-to or work location changed",
            "users only invited after T are left out: the document counts changes to six fields",
            "the users document's modified_after (department, designation, employee id, "
            "extension, reporting to, work location)",
        ),
        Variant(
            "ids-numeric",
            15,
            "role ids are strings",
            "role ids are JSON numbers",
            "one example of the roles document gives an id unquoted",
        ),
        Variant(
            "designations-unpaged",
            19,
            "GET /api/v2/designations pages with next_token, like departments",
            "it answers at most `limit` designations (25 by default, 100 at most) and no "
            "next_token: the rest are found only by `search`",
            "the designations document shows `limit` and `search` and no `next_token`",
        ),
        Variant(
            "teams-strict-params",
            2,
            "GET /api/v2/teams and its members listing ignore query parameters they do not use",
            "a query parameter other than `joined` (and `next_token` where teams are paged) is "
            "refused: 400 invalid_parameter naming it",
            "no public client sends `limit` to the teams listing; only `joined=true` is seen",
        ),
        Variant(
            "teams-joined-only",
            2,
            "GET /api/v2/teams lists every team of the organisation",
            "it lists only the teams the caller has joined, as if `joined=true` were given",
            "a public connector's teams listing passes `joined=true`; which teams an admin "
            "sees without it is not documented",
        ),
        Variant(
            "team-ids-numeric",
            2,
            "team ids are strings",
            "team ids are JSON numbers in every answer (listing, a team, a new team, a user's "
            "teams)",
            "the users document types `team_id` in GET /users/{id}/teams as an integer",
        ),
        Variant(
            "modified-after-epoch-ms",
            None,
            "GET /api/v2/users?modified_after= takes an ISO 8601 date-time, as the users "
            "document types it (format: date-time); digits get HTTP 400 naming the parameter",
            "it takes only epoch milliseconds (digits); a date-time gets HTTP 400 "
            "invalid_parameter_value naming modified_after",
            "phil-fetchski/n8n-nodes-zoho-cliq sends it on purpose as epoch ms: its list-users "
            "operation turns any date-time into Date.parse() milliseconds before dispatch "
            "(nodes/ZohoCliq/v1/actions/user/list.operation.ts), and its chat and channel "
            "listings document modified_after as epoch milliseconds",
        ),
        Variant(
            "custom-attributes-nested",
            10,
            "a user's custom-field values come at the top level of get user and of list users "
            "with fields=all, keyed by unique name, as the users document writes them",
            'they come under "custom_attributes": {unique_name: value} instead',
            "phil-fetchski/n8n-nodes-zoho-cliq lists custom_attributes among the keys of a "
            "user answer (nodes/ZohoCliq/v1/actions/shared/simplifyOutput/configs.ts, and its "
            "get/list/update user tool descriptions); it writes custom fields at the top level",
        ),
        Variant(
            "dropdown-as-name",
            None,
            "a drop-down's value in a user answer is the option id, as it is written (seed 000: "
            "a dropdown as the option id)",
            "the value is the option's name",
            "nothing public shows a drop-down value read back; a connector's hint to 'verify "
            "the dropdown option IDs or names' (phil-fetchski/n8n-nodes-zoho-cliq, "
            "userFields/common.ts) allows either",
        ),
        Variant(
            "dropdown-as-object",
            None,
            "a drop-down's value in a user answer is the option id",
            'the value is the option as {"id", "name"}, the shape of a field\'s options (played '
            "with dropdown-as-name, this form wins)",
            "the user-fields document's options are {id, name}; Cliq answers departments, "
            "designations and managers as {id, name} too",
        ),
        Variant(
            "departments-need-people-scope",
            None,
            "department reads need only ZohoCliq.Departments.READ (or .ALL)",
            "they also need the Zoho People scope the departments document lists for each: "
            "listing ZohoPeople.employee.READ, one department ZohoPeople.forms.READ, its "
            "members ZohoPeople.dashboard.READ (a held ZohoPeople.<module>.ALL grants it); "
            "without it, HTTP 403 invalid_oauthscope",
            "the departments document lists those scopes under each read's security; "
            "phil-fetchski/n8n-nodes-zoho-cliq asks only ZohoCliq.Departments.READ for them "
            "(nodes/ZohoCliq/v1/helpers/scopeRegistry.ts) and calls the users documents' "
            "People scopes optional; Integrations-dev/n8n-nodes-zohocliq asks for "
            "ZohoPeople.employee.READ, forms.READ and attendance.READ by default",
        ),
    )
}


def every() -> dict[str, Variant]:
    """Zoho's variants and the HR systems' (emulator/hr), by name."""
    from hrsync.emulator.hr import variants as hr_variants

    return {**VARIANTS, **{v.name: v for v in hr_variants()}}


def parse(names: Iterable[str]) -> frozenset[str]:
    """Variant names (comma-separated pieces allowed), checked against the table."""
    chosen = {n.strip() for name in names for n in name.split(",") if n.strip()}
    known = every()
    unknown = sorted(chosen - known.keys())
    if unknown:
        raise ValueError(
            f"unknown emulator variant {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return frozenset(chosen)


def table() -> list[dict[str, object]]:
    """The table as JSON, for the control API and ``--help``."""
    return [
        {
            "name": v.name,
            "reading": v.reading,
            "default": v.default,
            "instead": v.instead,
            "source": v.source,
        }
        for v in every().values()
    ]
