"""Doctor's findings that need no call to Zoho: the configuration, the calls already spent in
the last minute, the consent redirect URI, and what hrsync learnt of the update body."""

from __future__ import annotations

from hrsync.access.connections import loopback_redirect_uri
from hrsync.api.ratelimit import WINDOW, ZOHO_LIMITS
from hrsync.checkup import check_settings
from hrsync.clock import Clock
from hrsync.config import Settings
from hrsync.doctor.checks import Check, failed, noted, passed
from hrsync.store import Store
from hrsync.targets.cliq import UPDATE_BODY
from hrsync.targets.cliq.seen import Memory

# The consent redirect URI hrsync uses: a fixed loopback port, because Zoho accepts only the
# redirect URI registered for the client, exactly (READINGS #23).
REDIRECT_URI = loopback_redirect_uri()


def configuration_check(settings: Settings, *, clock: Clock) -> Check:
    """What ``hrsync config check`` finds: store, source, credentials, connections."""
    found = check_settings(settings, clock=clock)
    if found.problems:
        return failed(
            "configuration",
            "; ".join(found.problems),
            "fix each problem named (`hrsync config check` lists them too)",
        )
    return passed("configuration", "; ".join(found.checked))


def budget_check(store: Store, api_url: str, *, clock: Clock) -> Check:
    """Calls this store's processes made to ``api_url`` in the last minute, against Zoho's
    per-endpoint limits; a lock period Zoho set is a failure until it ends."""
    name = f"call budget ({api_url})"
    calls = store.call_log(api_url)
    now = clock.now()
    used, locked, spent = [], [], []
    for endpoint, limit in ZOHO_LIMITS.items():
        times, locked_until = calls.recent(endpoint, now - WINDOW)
        if locked_until > now:
            locked.append(f"{endpoint} for {(locked_until - now) / 60:.0f} min")
        if times:
            used.append(f"{endpoint} {len(times)}/{limit.per_minute}")
        if len(times) >= limit.per_minute:
            spent.append(endpoint)
    if locked:
        return failed(
            name,
            f"Zoho has locked {', '.join(locked)}",
            "wait for the lock to end; hrsync paces itself so that it is not locked again",
        )
    if not used:
        return passed(name, "no calls in the last minute: the whole budget is free")
    detail = f"calls in the last minute: {', '.join(used)}"
    if spent:
        return noted(name, detail, f"another run is using {', '.join(spent)}: hrsync will wait")
    return passed(name, detail)


def redirect_check() -> Check:
    return passed(
        "redirect URI",
        f"{REDIRECT_URI}: `hrsync connections authorise` sends this (another with --port N); "
        "it must be registered exactly, port included, for the client in Zoho's API console, "
        "which hrsync cannot read",
    )


def update_body_check(memory: Memory) -> Check:
    """Which body ``PUT /api/v2/users/{id}`` takes, if hrsync has learnt it already."""
    learnt = memory.bookmark(UPDATE_BODY)
    if learnt:
        return passed("update body", f"Cliq took the {learnt} body (learnt earlier, remembered)")
    return passed(
        "update body",
        "not learnt yet: the first user update settles it, or now `--probe-writes --test-user "
        "EMAIL` with one harmless write",
    )
