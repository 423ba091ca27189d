"""Where ``hrsync serve`` listens, and whom it trusts there.

On a loopback address only this machine reaches the admin page and the webhooks. Beyond it,
hrsync listens only when told how it is reached safely: over TLS itself (``--tls-cert`` and
``--tls-key``), or behind a reverse proxy that terminates TLS (``--behind-proxy ADDRESS``:
calls from anywhere but the proxy and this machine are then refused, and the headers in
which the proxy says the original scheme and client, ``X-Forwarded-Proto`` and
``X-Forwarded-For``, are believed from the proxy alone), or, said out loud, over plain HTTP
(``--unsafe-bind``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from hrsync.urls import is_loopback

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(addresses: Sequence[str]) -> list[Network]:
    """The proxies' addresses (or networks) given, parsed; a name is refused: it would be
    trusted as whatever the resolver says it is."""
    found = []
    for address in addresses:
        try:
            found.append(ipaddress.ip_network(address.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{address!r}: give the reverse proxy as an IP address or network "
                "(10.0.0.5, 10.0.0.0/24), not a name"
            ) from None
    return found


@dataclass(frozen=True)
class Exposure:
    """How the service is reached: its address, and the TLS or proxy that guard it."""

    host: str
    tls: tuple[Path, Path] | None = None  # certificate chain, private key
    proxies: tuple[str, ...] = ()
    unsafe: bool = False

    def refusal(self) -> str:
        """Why listening so is refused ("" when it is not)."""
        if is_loopback(self.host) or self.tls or self.proxies or self.unsafe:
            return ""
        return (
            f"--host {self.host}: the admin page and the webhooks would be served over plain "
            "HTTP beyond this machine; give --tls-cert and --tls-key, or --behind-proxy "
            "ADDRESS (the reverse proxy that terminates TLS), or --unsafe-bind to do so anyway"
        )

    def warning(self) -> str:
        """What to say when it listens unguarded beyond this machine ("" otherwise)."""
        if is_loopback(self.host) or self.tls or self.proxies:
            return ""
        return (
            f"warning: the admin page and the webhooks are served over plain HTTP on "
            f"{self.host}, beyond this machine: anyone on the way can read the passphrase and "
            "the webhook secret, and browsers keep the page's Secure cookies only on loopback"
        )

    def address(self, port: int) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address in a URL
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def reached(self) -> str:
        """How callers reach it, for the line printed at start ("" when directly)."""
        if not self.proxies:
            return ""
        return f", behind the reverse proxy at {', '.join(self.proxies)}"

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` as this exposure serves it."""
        return behind_proxy(app, self.proxies) if self.proxies else app

    def server_options(self) -> dict[str, Any]:
        """uvicorn's options for it: TLS, and its own proxy headers off when ours stand."""
        options: dict[str, Any] = {"host": self.host}
        if self.tls:
            options |= {"ssl_certfile": str(self.tls[0]), "ssl_keyfile": str(self.tls[1])}
        if self.proxies:
            options["proxy_headers"] = False  # ``behind_proxy`` reads them, from the proxy only
        return options


def behind_proxy(app: ASGIApp, proxies: Sequence[str]) -> ASGIApp:
    """``app`` reached through the reverse proxies at ``proxies``: a call from elsewhere (but
    this machine) is refused, and the forwarded scheme and client are the proxy's word."""
    networks = proxy_networks(proxies)
    # uvicorn types its middleware with its own ASGI types, not Starlette's: both are ASGI.
    believing: Any = ProxyHeadersMiddleware(
        cast(Any, app), trusted_hosts=[str(n) for n in networks]
    )
    return ProxyOnly(believing, networks)


class ProxyOnly:
    """ASGI middleware: refuse a call whose peer is neither a proxy nor this machine (a
    health check on the machine itself is answered, its forwarded headers not believed)."""

    def __init__(self, app: ASGIApp, proxies: list[Network]) -> None:
        self.app, self.proxies = app, proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._allowed(scope.get("client")):
            refused = PlainTextResponse(
                "hrsync is reached through the reverse proxy in front of it", status_code=403
            )
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, client: tuple[str, int] | None) -> bool:
        if client is None:  # a Unix socket: this machine
            return True
        try:
            peer = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return peer.is_loopback or any(peer in network for network in self.proxies)
