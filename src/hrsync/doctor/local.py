"""Doctor's findings that need no call to Zoho: the configuration, the calls already spent in
the last minute, the consent redirect URI, what hrsync learnt of the update body, and the
changes the last apply held as stalled."""

from __future__ import annotations

from hrsync.access.connections import loopback_redirect_uri
from hrsync.api.ratelimit import WINDOW, ZOHO_LIMITS
from hrsync.checkup import check_settings
from hrsync.clock import Clock
from hrsync.config import Settings
from hrsync.doctor.checks import Check, failed, noted, passed
from hrsync.store import Store
from hrsync.sync.stall import STALLED, STALLED_AFTER
from hrsync.targets.cliq import UPDATE_BODY
from hrsync.targets.cliq.seen import Memory

# The consent redirect URI hrsync uses: a fixed loopback port, because Zoho accepts only the
# redirect URI registered for the client, exactly (READINGS #23).
REDIRECT_URI = loopback_redirect_uri()
STALLED_SAID = STALLED.format(times=STALLED_AFTER)


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


def stalled_check(store: Store) -> Check:
    """The changes the latest apply held back as stalled (``sync/stall.py``): made three
    times, each answered done, and Cliq still differs."""
    name = "stalled changes"
    latest = next((r for r in store.runs(limit=20) if r.mode == "apply"), None)
    if latest is None:
        return passed(name, "none: hrsync has not applied anything yet")
    stalled = [p for p in latest.summary.get("pending") or [] if p.startswith(STALLED_SAID)]
    if not stalled:
        return passed(name, f"none in the latest apply (run {latest.id})")
    return noted(
        name,
        f"run {latest.id} held {len(stalled)} change(s) Cliq answered done three times and "
        f"still differs: {'; '.join(s.removeprefix(STALLED_SAID) for s in stalled[:3])}"
        + (" …" if len(stalled) > 3 else ""),
        "look at those people in Cliq: an answer hrsync cannot read, or someone undoing the "
        "change by hand; hrsync tries again once a week has passed",
    )
