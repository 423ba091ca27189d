"""One owner per Cliq organisation. Two integrations over one organisation would adopt the
same users and undo each other's changes from stale views, so a second one is refused unless
the two declare disjoint ``[scope]``s (``hrsync.sources.scoped.disjoint``): then each manages
its own people and leaves the other's alone.

What "one organisation" means: hrsync cannot ask Zoho which organisation a token acts in
without spending a call of Zoho's limits, so it takes an organisation to be the Cliq host
(its data centre) together with the OAuth client that reaches it. The same connection, two
connections with one client id, or hrsync.toml's keys with that client id at that host are
one organisation. A Zoho client is registered in one organisation's API console and acts on
that organisation; to sync two organisations, register a client in each."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.access.connections import ConnectionProblem, Connections
from hrsync.config import Settings
from hrsync.sources.scoped import disjoint

TOML = "default"  # the store's name for hrsync.toml's own integration (its runs, its links)
TOML_FILE = "hrsync.toml"  # how it is shown
RESERVED = (TOML, TOML_FILE)  # names a stored integration may not take


@dataclass(frozen=True, slots=True)
class Organisation:
    """A Cliq organisation as hrsync can tell one without asking Zoho."""

    api_url: str  # the Cliq host, lower-cased
    client: str  # "OAuth client 1000.X", or "connection NAME" when no client id is known

    def __str__(self) -> str:
        where = f" at {self.api_url}" if self.api_url else ""
        return f"the Cliq organisation{where} ({self.client})"


def organisation_of(settings: Settings, connections: Connections) -> Organisation | None:
    """The Cliq organisation ``settings`` sync into; None when they name none yet."""
    cliq = settings.cliq
    if cliq.connection:
        try:
            info = connections.show(cliq.connection)
        except ConnectionProblem:
            return Organisation("", f"connection {cliq.connection}")
        client = f"OAuth client {info.client_id}" if info.client_id else f"connection {info.name}"
        return Organisation(_host(info.api_url), client)
    if cliq.client_id:
        return Organisation(_host(cliq.api_url), f"OAuth client {cliq.client_id}")
    return None


def overlap(one: Settings, other: Settings) -> bool:
    """Whether one person could be managed by both (their scopes are not disjoint)."""
    return not disjoint(one.scope, other.scope)


def refusal(name: str, owner: str, organisation: Organisation) -> str:
    """Why ``name`` may not manage ``organisation``, which ``owner`` manages, and what to do."""
    if name == TOML:
        return (
            f"{organisation} is managed already by the integration {owner!r}, so hrsync.toml's "
            f"own integration does not run: give both a [scope] no person matches twice, or "
            f"take [cliq] out of hrsync.toml and leave the organisation to {owner}"
        )
    who = (
        "hrsync.toml's own integration (listed as hrsync.toml)"
        if owner == TOML
        else f"the integration {owner!r}"
    )
    free = (
        f"or let {name} take over: keep only [store] and [notify] in hrsync.toml, its "
        f"[source], [cliq] and rules going into {name}'s file"
        if owner == TOML
        else f"or deactivate {owner} first (`hrsync integrations deactivate {owner}`)"
    )
    return (
        f"{organisation} is managed already by {who}: two integrations over one organisation "
        f"adopt the same users and undo each other's changes. Give {name} and {owner} each a "
        f"[scope] no person matches twice (e.g. [scope] include = {{ department = "
        f'["Sales"] }} in one, and exclude = {{ department = ["Sales"] }} in the other; '
        f"`--scope department=Sales` and `--scope department!=Sales` on create), {free}"
    )


def _host(url: str) -> str:
    return url.strip().rstrip("/").lower()
