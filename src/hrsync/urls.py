"""Where hrsync may send a request or listen: loopback addresses and URL origins, parsed.

A host is loopback as an address (127.0.0.0/8, ::1) or as the one name ``localhost``, which
RFC 6761 (§6.3) reserves for the loopback interface and browsers treat as such; any other name
is not, however it looks (``localhost.example`` is anyone's, ``127.0.0.1.example`` too).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from hrsync.errors import ConfigError

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]  # scheme, host, port: where a request really goes


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address, bracketed or not (``[::1]``, ``127.0.0.2``), or
    ``localhost`` (any case, with or without the root's trailing dot)."""
    address = host.strip().removeprefix("[").removesuffix("]")
    if address.lower().removesuffix(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an absolute http(s) URL, lower-cased; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, a malformed IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme]


def is_absolute(url: str) -> bool:
    """Whether ``url`` names its own scheme and host (``HTTPS://x`` included)."""
    parts = urlsplit(url.strip())
    return bool(parts.scheme and parts.netloc)


def show_origin(where: Origin) -> str:
    scheme, host, port = where
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")


def refuse_foreign_host(url: str, declared: Iterable[str], *, what: str) -> None:
    """Refuse ``url`` unless it goes to the origin of one of the ``declared`` URLs."""
    allowed = {o for o in map(origin, declared) if o is not None}
    target = origin(url)
    if target is not None and target in allowed:
        return
    hosts = ", ".join(sorted(show_origin(o) for o in allowed)) or "none declared"
    raise ConfigError(
        f"{what}: {url!r} is not on the connection's hosts ({hosts}); its credentials are "
        "sent nowhere else (use a path on its host, or a connection for the other service)"
    )
