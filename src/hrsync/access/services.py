"""Services a connection can link to: Zoho Cliq, People and Connect in every Zoho data centre,
or a custom service (any REST API) described by its auth type, URLs and scopes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hrsync.errors import ConfigError

# Data centre -> (accounts host, the domain Zoho's product hosts end with)
DATA_CENTRES: dict[str, tuple[str, str]] = {
    "US": ("https://accounts.zoho.com", "zoho.com"),
    "EU": ("https://accounts.zoho.eu", "zoho.eu"),
    "IN": ("https://accounts.zoho.in", "zoho.in"),
    "AU": ("https://accounts.zoho.com.au", "zoho.com.au"),
    "JP": ("https://accounts.zoho.jp", "zoho.jp"),
    "CA": ("https://accounts.zohocloud.ca", "zohocloud.ca"),
    "SA": ("https://accounts.zoho.sa", "zoho.sa"),
    "UK": ("https://accounts.zoho.uk", "zoho.uk"),
    "CN": ("https://accounts.zoho.com.cn", "zoho.com.cn"),
}


@dataclass(frozen=True, slots=True)
class ZohoService:
    """A default service: one Zoho product, its host prefix and the scopes hrsync needs."""

    key: str
    title: str
    host: str  # "cliq" → https://cliq.zoho.eu
    scopes: tuple[str, ...]
    probe: str  # a cheap GET that proves the connection works

    def api_url(self, dc: str) -> str:
        return f"https://{self.host}.{DATA_CENTRES[dc][1]}"

    def accounts_url(self, dc: str) -> str:
        return DATA_CENTRES[dc][0]


PEOPLE_SCOPES_OF_CLIQ_READS = (
    "ZohoPeople.forms.READ",
    "ZohoPeople.employee.READ",
    "ZohoPeople.attendance.READ",
)

ZOHO_SERVICES: dict[str, ZohoService] = {
    "zoho_cliq": ZohoService(
        "zoho_cliq",
        "Zoho Cliq",
        "cliq",
        (
            "ZohoCliq.Users.ALL",
            "ZohoCliq.Departments.ALL",
            "ZohoCliq.Designations.ALL",
            "ZohoCliq.Teams.ALL",
            "ZohoCliq.Organisation.ALL",
            "ZohoCliq.Profile.ALL",
            "ZohoCliq.Webhooks.CREATE",  # notifications of `hrsync serve` in a channel
            # The users and departments documents list these beside Cliq's own scopes for
            # the reads hrsync makes (list and get users, list departments); some
            # organisations refuse a department listing without them.
            *PEOPLE_SCOPES_OF_CLIQ_READS,
        ),
        "/api/v2/users?limit=1",
    ),
    "zoho_people": ZohoService(
        "zoho_people",
        "Zoho People",
        "people",
        ("ZOHOPEOPLE.forms.READ", "ZOHOPEOPLE.employee.READ"),
        "/people/api/forms/employee/getRecords?sIndex=1&limit=1",
    ),
    "zoho_connect": ZohoService(
        "zoho_connect",
        "Zoho Connect",
        "connect",
        (
            "zohopulse.grouplist.CREATE",
            "zohopulse.grouplist.DELETE",
            "zohopulse.userDetail.READ",
            "zohopulse.networklist.READ",
        ),
        "/pulse/api/allScopes",
    ),
}


def covered(held: Sequence[str], needed: str) -> bool:
    """Whether the held scopes grant ``needed`` (``Service.Module.ALL`` grants any operation)."""
    have = {s.lower() for s in held}
    module = needed.rsplit(".", 1)[0].lower()
    return needed.lower() in have or f"{module}.all" in have


def how_to_grant(section: str, connection: str = "", scope: str = "") -> str:
    """How an admin gets a token that works (and holds ``scope``) for the service of
    hrsync.toml's ``section``: authorise its ``connection`` again, or make a new grant."""
    if connection:
        if not scope:
            return f"authorise the connection again: `hrsync connections authorise {connection}`"
        added = ",".join(s.strip() for s in scope.split(","))
        return (
            f"authorise the connection again, granting {scope}: "
            f"`hrsync connections authorise {connection} --add-scope {added}`"
        )
    grant = f" with {scope} among its scopes" if scope else ""
    return (
        f"make a new grant{grant} in Zoho's API console (or use `hrsync connections add` "
        f"and `authorise`) and put its refresh token in [{section}] refresh_token"
    )


class CustomService(BaseModel):
    """Any REST API, as Zoho's custom services describe one."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    auth_type: Literal["basic", "oauth1", "oauth2"]
    base_url: str = ""  # calls may name paths relative to it
    # OAuth 2.0 / 1.0 endpoints (1.0 uses request_token_url and access_token_url)
    authorize_url: str = ""
    access_token_url: str = ""
    refresh_token_url: str = ""
    request_token_url: str = ""
    scopes: list[str] = Field(default_factory=list)
    scope_delimiter: str = ","
    param_placement: Literal["header", "query"] = "header"
    grant_type: Literal["authorization_code", "client_credentials"] = "authorization_code"
    token_prefix: str = "Bearer"  # "Zoho-oauthtoken" for Zoho's own APIs

    @field_validator(
        "base_url", "authorize_url", "access_token_url", "refresh_token_url", "request_token_url"
    )
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip().rstrip("/") if value else value

    def missing(self) -> list[str]:
        """What this service needs before a connection can use it."""
        needs: list[str] = []
        if self.auth_type == "oauth2":
            needs += [] if self.access_token_url else ["access_token_url"]
            if self.grant_type == "authorization_code" and not self.authorize_url:
                needs.append("authorize_url")
        if self.auth_type == "oauth1":
            for key in ("request_token_url", "authorize_url", "access_token_url"):
                if not getattr(self, key):
                    needs.append(key)
        return needs


def zoho_service(key: str) -> ZohoService:
    try:
        return ZOHO_SERVICES[key]
    except KeyError:
        known = ", ".join(ZOHO_SERVICES)
        raise UnknownChoice(
            f"unknown service {key!r}; default services are {known}, or custom"
        ) from None


class UnknownChoice(ConfigError, ValueError):
    """A service or data centre hrsync does not know (a ValueError for callers that check)."""


def data_centre(dc: str) -> str:
    code = dc.strip().upper()
    if code not in DATA_CENTRES:
        raise UnknownChoice(
            f"unknown data centre {dc!r}; use one of {', '.join(DATA_CENTRES)} (--dc)"
        )
    return code
