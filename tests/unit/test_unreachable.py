"""A host that cannot be connected to: ``Unreachable`` (nothing was sent), retried with
backoff by a sync, not retried at all by a caller that would rather say so (doctor)."""

from __future__ import annotations

import httpx
import pytest

from hrsync.api.auth import TokenAuth
from hrsync.api.http import ZohoHttp
from hrsync.api.ratelimit import Pacer
from hrsync.api.retry import DEFAULT_HANDLERS, RateLimitRetry, TransientRetry
from hrsync.clock import VirtualClock
from hrsync.errors import Unreachable

BASE = "https://cliq.zoho.com"


class Token:
    def access_token(self, *, refused: str = "") -> str:
        return "token"


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
@pytest.mark.parametrize(("retry", "attempts"), [(True, 5), (False, 1)])
def test_a_connection_that_cannot_be_made(
    failure: type[httpx.TransportError], retry: bool, attempts: int
) -> None:
    tried: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        tried.append(request.url.path)
        raise failure("no route to host", request=request)

    clock = VirtualClock()
    handlers = (
        DEFAULT_HANDLERS if retry else (RateLimitRetry(), TransientRetry(retry_unreachable=False))
    )
    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        http = ZohoHttp(
            client,
            base_url=BASE,
            auth=TokenAuth(Token()),
            pacer=Pacer(clock, margin=0),
            clock=clock,
            retry_handlers=handlers,
        )
        started = clock.now()
        with pytest.raises(Unreachable) as raised:
            http.call("PUT", "/api/v2/users/1", endpoint="users.update", json={"a": "b"})
    assert len(tried) == attempts
    assert not raised.value.ambiguous  # nothing was sent: a write is safe to try again
    assert (clock.now() - started > 0) == retry
