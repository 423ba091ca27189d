"""Retry handlers as small objects: each says whether it can retry and how long to wait."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hrsync.errors import HrsyncError, RateLimited, TransientError, Unreachable


@dataclass
class RetryState:
    """What has happened to one request so far."""

    attempt: int = 0
    idempotent: bool = True
    waits: list[float] = field(default_factory=list)


class RetryHandler(Protocol):
    def can_retry(self, state: RetryState, error: HrsyncError) -> bool: ...

    def wait_seconds(self, state: RetryState, error: HrsyncError) -> float: ...


@dataclass
class RateLimitRetry:
    """Throttled (429 or 400 request_limit_exceeded): wait out the lock period, then retry."""

    max_attempts: int = 4

    def can_retry(self, state: RetryState, error: HrsyncError) -> bool:
        return isinstance(error, RateLimited) and state.attempt < self.max_attempts

    def wait_seconds(self, state: RetryState, error: HrsyncError) -> float:
        assert isinstance(error, RateLimited)
        return error.retry_after


@dataclass
class TransientRetry:
    """5xx, timeouts, dropped connections: back off exponentially.

    A write that may have been carried out (no answer came back) is retried here only when
    it is idempotent; other writes are left to the caller, which looks the object up first.
    """

    max_attempts: int = 5
    base: float = 1.0
    cap: float = 30.0
    # False for a caller that would rather report a host it cannot reach than wait for it
    # (``hrsync doctor``): a connection that could not be made is not tried again.
    retry_unreachable: bool = True

    def can_retry(self, state: RetryState, error: HrsyncError) -> bool:
        if not isinstance(error, TransientError) or isinstance(error, RateLimited):
            return False
        if isinstance(error, Unreachable) and not self.retry_unreachable:
            return False
        if error.ambiguous and not state.idempotent:
            return False
        return state.attempt < self.max_attempts

    def wait_seconds(self, state: RetryState, error: HrsyncError) -> float:
        return float(min(self.cap, self.base * 2 ** (state.attempt - 1)))


DEFAULT_HANDLERS: tuple[RetryHandler, ...] = (RateLimitRetry(), TransientRetry())
# For a command someone waits on: a host that refused the connection is said at once (the
# service and cron's next run try again), 5xx and timeouts are still retried.
FAIL_FAST_HANDLERS: tuple[RetryHandler, ...] = (
    RateLimitRetry(),
    TransientRetry(retry_unreachable=False),
)
