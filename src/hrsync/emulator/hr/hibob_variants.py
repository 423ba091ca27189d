"""The disputed readings of HiBob's documents the emulator can play (docs/readings/hibob.md)."""

from __future__ import annotations

from hrsync.emulator.variants import Variant

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "hibob-nested-only",
        None,
        "each field of a read comes twice: nested (root fields at the top, work.department "
        'under "work") and under its slash path ("/work/department": {"value": ...})',
        "only nested, exactly the document's Employee schema",
        "openapi.yaml components/schemas/Employee (nested only) against HiBob's lists guide "
        "and read contract (slash keys, nested objects beside them)",
    ),
    Variant(
        "hibob-slash-only",
        None,
        "each field of a read comes nested and under its slash path",
        'only under its slash path ("/root/id": {"value": ...}); no nested objects',
        "apidocs.hibob.com read contract: responses use slash notation and 'may also' "
        "include nested category objects",
    ),
    Variant(
        "hibob-list-names",
        None,
        "without humanReadable, list fields (work.department, work.site, work.title) carry "
        "named-list item IDs",
        "they carry the item names, as if humanReadable were REPLACE for lists",
        "integrations that read names straight from search answers; the document's notes say IDs",
    ),
    Variant(
        "hibob-list-ids-textual",
        None,
        "named-list items have numeric IDs (ListItem.id is an integer)",
        "item IDs are text",
        "openapi.yaml Metadata_getNamedList: 'the item ID may be textual or numeric'",
    ),
    Variant(
        "hibob-single-wrapped",
        None,
        "a read of one employee (GET or POST /people/{identifier}) answers the employee "
        "object itself",
        'it answers {"employees": [employee]}, the Employees schema the document names',
        "openapi.yaml People_readEmployeeFields/People_readEmployeeById answer $ref "
        "Employees; the read contract says one employee object",
    ),
    Variant(
        "hibob-forbidden-403",
        None,
        "a requested field of a category the service user may not view is left out (200)",
        "the read is refused: 403 naming the fields",
        "the stricter reading; the read contract documents silent omission",
    ),
    Variant(
        "hibob-signature-hex",
        None,
        "Bob-Signature is the Base64 of HMAC-SHA512(body, secret)",
        "it is the hex digest of the same HMAC",
        "apidocs.hibob.com 'Working with webhooks' names HMAC SHA512 without an encoding; "
        "the employee.updated reference says Base64-encoded",
    ),
)
