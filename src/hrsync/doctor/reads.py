"""Doctor's reads of one Zoho service, and the one table that turns a failed read into a
finding with its remedy.

A read that finds the token refused stops every later read of that service (they would all
fail the same way); a read refused for a scope is remembered, so the scopes check can name
every scope that is missing. The first read that cannot connect at all ends every later read
of every service (``Reach``): they are "not checked", rather than each waiting for a host
that does not answer. A GET is made once: a second ask for the same page is answered from
the first (doctor's readings look again at what the listings showed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx

from hrsync.access.services import how_to_grant
from hrsync.api.http import ZohoHttp
from hrsync.api.people import PeopleError
from hrsync.api.ratelimit import WINDOW
from hrsync.doctor.checks import Check, failed, not_checked
from hrsync.errors import (
    ApiError,
    AuthError,
    DryRunWrite,
    HrsyncError,
    NotFound,
    RateLimited,
    TransientError,
    Unreachable,
)

T = TypeVar("T")
Kind = Literal["token", "scope", "permission", "locked", "unreachable", "refused", "skipped"]
PEOPLE_PERMISSION_DENIED = "7040"  # People's "Permission denied to view records"


@dataclass(frozen=True, slots=True)
class Service:
    """A Zoho service as configured: its HTTP, and where its credentials come from."""

    section: str  # cliq | people | connect: the table of hrsync.toml
    title: str  # "Zoho Cliq"
    http: ZohoHttp
    connection: str = ""  # a connection's name; "" when the keys are in the file

    def reauthorise(self, scope: str = "") -> str:
        """How to get a token that works (and holds ``scope``)."""
        return how_to_grant(self.section, self.connection, scope)


class Refused(HrsyncError):
    """A read failed: what happened, what to do, and of which kind."""

    def __init__(self, detail: str, remedy: str, kind: Kind) -> None:
        super().__init__(detail)
        self.detail, self.remedy, self.kind = detail, remedy, kind

    def check(self, name: str) -> Check:
        if self.kind == "skipped":
            return not_checked(name, self.detail, self.remedy)
        return failed(name, self.detail, self.remedy)


@dataclass
class Reach:
    """Whether the network still answers, for every service doctor reads: the first read
    that could not connect, once there was one."""

    lost: Refused | None = None
    host: str = ""

    def skipped(self) -> Refused:
        assert self.lost is not None
        return Refused(f"not checked: {self.host} could not be reached", "", "skipped")


def refusal(error: HrsyncError, *, what: str, scope: str, service: Service) -> Refused:
    """The one table from a failed read to its finding and remedy."""
    code = getattr(error, "code", None) or ""
    status = getattr(error, "status", None)
    if isinstance(error, AuthError) and (code == "invalid_oauthscope" or status == 403):
        if code == "invalid_oauthscope":
            return Refused(
                f"{what} refused: the token lacks {scope}",
                f"add {scope}: {service.reauthorise(scope)}",
                "scope",
            )
        return Refused(
            f"{what} refused: the account behind the token may not do this ({error})",
            f"authorise hrsync as a {service.title} admin: {service.reauthorise()}",
            "permission",
        )
    if isinstance(error, PeopleError) and code == PEOPLE_PERMISSION_DENIED:
        return Refused(
            f"{what} refused: the token lacks {scope}, or its account may not view the form",
            f"add {scope}: {service.reauthorise(scope)}",
            "scope",
        )
    if isinstance(error, AuthError):
        return Refused(
            f"{service.title} has no working token: {error}",
            service.reauthorise(),
            "token",
        )
    if isinstance(error, RateLimited):
        minutes = error.retry_after / 60
        return Refused(
            f"{what}: Zoho is throttling this endpoint for {minutes:.0f} min",
            f"wait {minutes:.0f} min (another run may be spending the budget), then run "
            "`hrsync doctor` again",
            "locked",
        )
    if isinstance(error, Unreachable):
        return Refused(
            f"{what}: cannot connect to {host_of(error)} ({_whose(service)}), so the remaining "
            f"network checks were not made: {error}",
            f"check the network and {_hosts(service)}, then run `hrsync doctor` again",
            "unreachable",
        )
    if isinstance(error, TransientError):
        return Refused(
            f"{what}: {error}",
            f"check the network and [{service.section}] api_url, then run `hrsync doctor` again",
            "unreachable",
        )
    if isinstance(error, NotFound):
        return Refused(
            f"{what}: not found ({error})",
            f"check [{service.section}] api_url: the host of your Zoho data centre",
            "unreachable",
        )
    if isinstance(error, ApiError):
        return Refused(
            f"{what} refused: {error}", "read Zoho's message; hrsync cannot use this yet", "refused"
        )
    return Refused(f"{what}: {error}", "fix what the message names", "refused")


def host_of(error: Unreachable) -> str:
    """The host and port a connection could not be made to."""
    try:
        return httpx.URL(error.url).netloc.decode() or "the host"
    except (httpx.InvalidURL, TypeError):
        return error.url or "the host"


def _whose(service: Service) -> str:
    if service.connection:
        return f"{service.title} through connection {service.connection}"
    return f"{service.title} with the keys of [{service.section}] in hrsync.toml"


def _hosts(service: Service) -> str:
    if service.connection:
        return (
            f"the hosts of connection {service.connection} "
            f"(`hrsync connections show {service.connection}`)"
        )
    return f"[{service.section}] api_url and accounts_url in hrsync.toml"


@dataclass
class Reader:
    """Runs doctor's reads of one service and remembers what they showed about the token."""

    service: Service
    reach: Reach = field(default_factory=Reach)  # shared by every service's reader
    token_refused: Refused | None = None
    missing: dict[str, str] = field(default_factory=dict)  # scope -> the read that lacked it
    # scope -> the read that lacked it, for reads hrsync goes on without (a ⚠, not a ✗)
    lacking: dict[str, str] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)  # scopes a read was accepted with
    _answers: dict[str, Any] = field(default_factory=dict)  # GET (path, params) -> answer

    def get(
        self,
        path: str,
        *,
        endpoint: str,
        scope: str,
        params: dict[str, Any] | None = None,
        optional: bool = False,
        refused_for: str = "",
    ) -> Any:
        """One GET, its decoded answer; a failure raises ``Refused``. Asked again, the same
        answer (or refusal) without a call. ``optional``: hrsync works without this read, so
        a missing scope is noted rather than failed. ``refused_for``: the scopes to name if
        it is refused for one (``scope`` alone is what an accepted read shows is held)."""
        key = f"{path}?{sorted((params or {}).items())}"
        if key not in self._answers:

            def send() -> Any:
                return self.service.http.call("GET", path, endpoint=endpoint, params=params)

            try:
                self._answers[key] = self.run(
                    f"GET {path}",
                    send,
                    endpoint=endpoint,
                    scope=scope,
                    optional=optional,
                    refused_for=refused_for,
                )
            except Refused as refused:
                if refused.kind == "skipped":
                    raise
                self._answers[key] = refused
        answer = self._answers[key]
        if isinstance(answer, Refused):
            raise answer
        return answer

    def run(
        self,
        what: str,
        read: Callable[[], T],
        *,
        endpoint: str,
        scope: str,
        optional: bool = False,
        refused_for: str = "",
    ) -> T:
        """``read()``, unless the network, the token or ``endpoint`` (locked) failed already."""
        if self.reach.lost is not None:
            raise self.reach.skipped()
        if self.token_refused is not None:
            raise Refused(
                f"not read: {self.service.title} has no working token",
                self.token_refused.remedy,
                "token",
            )
        wait = self.service.http.pacer.delay(endpoint)
        if wait > WINDOW:  # a lock period: waiting it out here would look like a hang
            raise Refused(
                f"not read: Zoho has locked {endpoint} for another {wait / 60:.0f} min",
                f"wait {wait / 60:.0f} min, then run `hrsync doctor` again",
                "locked",
            )
        try:
            value = read()
        except DryRunWrite:
            raise  # a bug: doctor's reads never write
        except HrsyncError as error:
            named = refused_for or scope
            found = refusal(error, what=what, scope=named, service=self.service)
            if isinstance(error, Unreachable):
                self.reach.lost, self.reach.host = found, host_of(error)
            elif found.kind == "token":
                self.token_refused = found
            elif found.kind == "scope":
                (self.lacking if optional else self.missing).setdefault(named, what)
            raise found from error
        self.held.add(scope)
        return value
