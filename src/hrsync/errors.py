"""One error tree, grouped by what the caller does next.

::

    HrsyncError
    ├── TransientError        retry later (backoff)
    │   ├── RateLimited       wait out Zoho's lock period, then retry
    │   └── Unreachable       no connection to the host: nothing was sent
    ├── ApiError              Zoho answered and said no
    │   ├── NotFound          the object is gone: re-plan
    │   ├── Conflict          it already exists: adopt it
    │   ├── BadRequest        skip this object, report it, go on
    │   └── AuthError         stop: credentials or scopes are wrong
    ├── DryRunWrite           a write was attempted in dry mode (a bug: stop)
    ├── ConfigError           stop: the configuration is wrong
    ├── SourceError           stop: the HR source cannot be read at all
    └── SafetyHold            stop: a guard wants an admin's approval

Exceptions raised from HTTP carry the method, URL, status and Zoho's error code.
"""

from __future__ import annotations

from dataclasses import dataclass


class HrsyncError(Exception):
    """Root of every error hrsync raises on purpose."""


class HttpErrorMixin:
    """Where an HTTP call went wrong."""

    method: str = ""
    url: str = ""
    status: int | None = None
    code: str | None = None

    def _set_http(self, method: str, url: str, status: int | None, code: str | None) -> None:
        self.method, self.url, self.status, self.code = method, url, status, code


class TransientError(HrsyncError, HttpErrorMixin):
    """The call may succeed if tried again later (5xx, timeout, connection reset)."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        code: str | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self._set_http(method, url, status, code)
        # True when the request may have been carried out although no answer came back.
        self.ambiguous = ambiguous


class RateLimited(TransientError):
    """Zoho throttled the call; the endpoint is locked for ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


@dataclass(frozen=True)
class Via:
    """Whose credentials a call went out with, and where its hosts are set: for an error
    that names the host, the connection behind it and what to check."""

    whose: str  # "Zoho Cliq through connection zc", "Zoho Cliq with the keys of [cliq] ..."
    hosts: str  # "the hosts of connection zc (`hrsync connections show zc`)"


class Unreachable(TransientError):
    """No connection to the host could be made (refused, no route, a name that does not
    resolve, a connect timeout): the request was never sent."""

    via: Via | None = None  # set by the client that sent it, when it knows


class ApiError(HrsyncError, HttpErrorMixin):
    """Zoho answered with a definite refusal."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self._set_http(method, url, status, code)

    def __str__(self) -> str:
        where = f" ({self.method} {self.url} → {self.status}" if self.method else ""
        code = f", {self.code}" if self.code else ""
        return f"{self.args[0]}{where}{code})" if where else str(self.args[0])


class NotFound(ApiError):
    """The object does not exist (any more)."""


class Conflict(ApiError):
    """The object already exists; adopt it instead of creating it."""


class BadRequest(ApiError):
    """Zoho refused this object; skip it and report it."""


class AuthError(ApiError):
    """The token, client or scopes are not accepted."""


class GroupsOwnedByPeople(BadRequest):
    """Cliq refuses department and designation writes: Zoho People manages them."""

    def __init__(self) -> None:
        super().__init__("departments and designations are managed by Zoho People")


class DryRunWrite(HrsyncError):
    """A write was attempted while the client is in dry mode."""


class ConfigError(HrsyncError):
    """The configuration is incomplete or wrong."""


class SourceError(HrsyncError):
    """The HR source cannot be read at all (missing, unreadable, empty)."""


class SafetyHold(HrsyncError):
    """A guard stopped the run until an admin approves it."""

    run_id: int | None = None  # the held run, once it is recorded


class StalePlan(HrsyncError):
    """A saved plan no longer matches HR and Cliq; it must be made again."""


class ConcurrentRun(HrsyncError):
    """Another live process is applying to the same integration."""


class RunStopped(BaseException):
    """The process is stopping on purpose (a service's SIGTERM): the run ends before its
    next call and reads "stopped". Like a kill, never swallowed as a change's failure."""
