"""What hrsync's SCIM service announces: the core User and Group, the enterprise extension,
and hrsync's own extension for what Cliq holds and SCIM does not (designation, work
location, custom profile fields), under ``HRSYNC_USER``: the URN an Entra or Okta admin
pastes into their attribute mappings."""

from __future__ import annotations

from typing import Any

from scim2_models import ScimPolicy, ScimProvider, ServiceProviderConfig
from scim2_server.utils import load_default_resource_types, load_default_schemas

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HRSYNC_USER = "urn:ietf:params:scim:schemas:extension:hrsync:2.0:User"
MOST_RESULTS = 1000  # resources one page of a list may hold


def _text(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "string",
        "multiValued": False,
        "description": description,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    }


HRSYNC_SCHEMA: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    "id": HRSYNC_USER,
    "name": "HrsyncUser",
    "description": "What Zoho Cliq holds of a person and SCIM's core and enterprise schemas do "
    "not: hrsync sets these on the person's Cliq profile.",
    "attributes": [
        _text(
            "designation",
            "The person's designation (job title) in Cliq; core 'title' "
            "is used when this is empty.",
        ),
        _text("workLocation", "The office or city the person works from."),
        _text("seatingLocation", "Where the person sits (floor, desk)."),
        _text("extension", "The person's phone extension."),
        _text("gender", "As the HR system words it."),
        _text("dateOfBirth", "YYYY-MM-DD."),
        _text("hireDate", "YYYY-MM-DD; a person whose date is still to come is invited then."),
        _text("exitDate", "YYYY-MM-DD; the person's last day."),
        {
            "name": "customFields",
            "type": "complex",
            "multiValued": True,
            "description": "Cliq custom profile fields, by the HR field name hrsync's "
            "[custom_fields] maps to a Cliq field: "
            'customFields[name eq "blood_group"].value',
            "required": False,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "none",
            "subAttributes": [
                {**_text("name", "The HR field's name."), "caseExact": True},
                _text("value", "Its value."),
            ],
        },
    ],
    "meta": {"resourceType": "Schema", "location": f"/Schemas/{HRSYNC_USER}"},
}

CONFIG: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "documentationUri": "https://github.com/hrsync/hrsync#scim",
    "patch": {"supported": True},
    "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": True, "maxResults": MOST_RESULTS},
    "changePassword": {"supported": False},
    "sort": {"supported": False},
    "etag": {"supported": True},
    "authenticationSchemes": [
        {
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The SCIM source's token: `hrsync integrations scim-token NAME`",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": True,
        }
    ],
}

# What hrsync forgives an identity provider, as Entra and Okta send them: attributes no
# schema declares are dropped (and kept out of what GET returns), a ``remove`` with a value
# removes that value, and a PATCH path filter that matches nothing adds the entry.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)


def provider() -> ScimProvider:
    from scim2_models import ResourceType, Schema

    schemas = [*load_default_schemas().values(), Schema.model_validate(HRSYNC_SCHEMA)]
    types = []
    for kept in load_default_resource_types().values():
        if kept.id == "User":
            described = kept.model_dump()
            described["schemaExtensions"] = [
                {"schema": ENTERPRISE_USER, "required": False},
                {"schema": HRSYNC_USER, "required": False},
            ]
            kept = ResourceType.model_validate(described)
        types.append(kept)
    return ScimProvider.from_discovery(
        schemas, types, config=ServiceProviderConfig.model_validate(CONFIG), policy=POLICY
    )
