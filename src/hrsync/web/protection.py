"""What every answer of ``hrsync serve`` carries for the browser, and where a form post must
come from.

Every answer says: run no script or style but this site's own files, and none written into
the page (Content-Security-Policy); never be shown inside another site's frame; never guess
a type other than the one given; send no Referer onwards (a page's address can name a person
or a run).

A form post must come from a page of this site: ``Sec-Fetch-Site`` says so where the browser
sends it, and ``Origin`` (or ``Referer``) must name this site otherwise. A page sent with
``Referrer-Policy: no-referrer`` posts its forms with ``Origin: null`` (the Fetch standard
says so), which is why ``Sec-Fetch-Site`` is read first; a bare ``Origin: null`` is what a
sandboxed frame of another site sends too, and is refused. A post with none of these headers
is not a browser's: its session cookie and CSRF token still have to be right."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hrsync.urls import origin

# No form-action: authorising a connection posts to this site, which sends the browser on
# to the provider's consent page, and browsers hold that redirect to form-action too.
POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware: ``HEADERS`` on every HTTP answer, the app's own and its errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def from_this_site(request: Request) -> bool:
    """Whether a form post came from a page of this site (as far as the browser says)."""
    here = origin(str(request.base_url))
    fetched_from = request.headers.get("sec-fetch-site")
    said = request.headers.get("origin")
    if fetched_from is not None and fetched_from != "same-origin":
        return False
    if said is not None and said != "null":
        return origin(said) == here
    if said == "null":
        return fetched_from == "same-origin"
    referer = request.headers.get("referer")
    return referer is None or origin(referer) == here
