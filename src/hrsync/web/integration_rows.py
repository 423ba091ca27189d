"""The Integrations page's rows and its create form's checks: hrsync.toml's own integration
listed whenever it has runs, and a People source that must be a Zoho People connection."""

from __future__ import annotations

from hrsync.access.integrations import IntegrationInfo
from hrsync.access.ownership import TOML, TOML_FILE
from hrsync.errors import HrsyncError
from hrsync.web.run_now import latest_run
from hrsync.web.site import Site

PEOPLE_SERVICE = "zoho_people"  # the service of a connection that may be a People source
SERVICE_TITLES = {"zoho_cliq": "Zoho Cliq", "zoho_connect": "Zoho Connect"}


def with_toml(site: Site, listed: list[IntegrationInfo]) -> list[IntegrationInfo]:
    """The integrations, hrsync.toml's own among them whenever it has runs to show, even
    while the file names no Cliq organisation (it is then a draft that says so)."""
    if any(info.name == TOML for info in listed) or latest_run(site, TOML) is None:
        return listed
    toml = IntegrationInfo(
        TOML, "draft", "", "hrsync.toml's [source]", "Zoho Cliq",
        ["hrsync.toml names no Cliq organisation: give [cliq] a connection or client_id"],
        label=TOML_FILE,
    )  # fmt: skip
    return [toml, *listed]


def not_people(site: Site, connection: str) -> str:
    """Why ``connection`` cannot be an integration's People source ("" when it can)."""
    if not connection:
        return ""
    with site.integrations() as integrations:
        try:
            service = integrations.connections.show(connection).service
        except HrsyncError as problem:
            return str(problem)
    if service == PEOPLE_SERVICE:
        return ""
    return (
        f"{connection} is a {SERVICE_TITLES.get(service, service)} connection, not Zoho "
        "People's: the People source needs a Zoho People connection (add one under "
        "Connections), or choose an HR export or SCIM instead"
    )
