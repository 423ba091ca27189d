"""``hrsync serve`` under HR events, in real time: how soon an event's change is in Cliq, at
Zoho's limits, and whether any event is lost under load. Figures, never a pass or a fail.

hrsync serve and a Zoho emulator run each in its own process over real HTTP
(``service_world.py`` says how; the integration's initial sync is hrsync's own run on the
emulator's clock moved forward, so 10,000 people are in Cliq in a minute or two, not 20).
A change is "visible in Cliq" when the emulator answered the update that made it: its own
log of the calls it answered (``/_bench/calls``) gives the time, on the wall clock that the
bench's 202s are timed by too.

1. **Burst** (``--burst-people``, 1,000): first a single event's latency on a quiet service
   (five events, each waited for, 6 s apart). Then, once Zoho's rolling minute has none of
   their updates, 60 events 0.5 s apart, each naming one person whose mobile number was
   changed in the export just before. Zoho allows 20 user updates a rolling minute, so the
   last change can land about 120 s after the first plus the 9.5 s the 20th-to-last event
   came after it, plus an event's own latency: the issue's floor of 130 s (``floor_s`` is
   that sum with the quiet latency measured). Per event latency (202 → visible), the last
   change after the first 202 and its ratio to 130 s, lock periods, and the calls by
   endpoint during the burst: the emulator's count, the busiest rolling minute of each
   against Zoho's limit, and the seconds hrsync waited for each (``pacing_wait_s``, from
   ``/metrics``), which say what binds.
2. **Load** (``--people``, 10,000): ``--rate`` webhook calls a second for ``--seconds`` (100 for
   60 s), each sent when due unless 256 are unanswered (then as soon as one is), by a light
   client of its own (``webhook_client.py``). Of every 10 calls: 7 name a known person (half
   with the secret, half signed; 1 in 50 of them a person whose mobile number is changed in the
   export, each such person once; the export is written with all of those changes before the
   first call), 1 names an unknown employee id (202, then refused by the run), 1 carries a wrong
   secret and 1 a wrong signature (401). Then it waits until the store has no queued event.
   Calls by status; the answer's time from when the call was due (what a sender waits) and from
   when it went out (the service's part); events by final state, and the lost (a 202's event
   that did not end ``done``, or ``refused`` for an unknown id); the changed people's latency
   from the 202 and from when the call was due, and the last change against Zoho's floor for it
   (the same rolling-minute sum over the calls' due times, ``floor_last_s``); lock periods; the
   service's peak memory (VmHWM) and the CPU of the service, the emulator and the bench's
   client; how long the queue took to drain after the last answer; and the machine's load
   average (the figures are real time, so a busy machine moves them).

    python bench/service.py [--people 10000] [--rate 100] [--seconds 60]
        [--burst-people 1000] [--burst-only | --load-only] [--initial-sync warped|serve]
        [--folder DIR] [--json FILE]

Prints a short table per part, then one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from hrsync.api.ratelimit import ZOHO_LIMITS
from service_world import INTEGRATION, SECRET, Metrics, ServiceWorld, wait_until
from webhook_client import Call, send_all

UPDATES_PER_MINUTE = ZOHO_LIMITS["users.update"].per_minute
ISSUE_FLOOR = 130.0  # seconds: the issue's floor for the 60-event burst
MANAGERS = 37  # the sample's CEO, directors and managers: events name their staff
CHANGED_EVERY = 50  # of the calls naming a known person, one in this many a changed one


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def new_mobile(employee_id: str) -> str:
    return f"+1 555 7{int(employee_id[1:]):05d}"


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p95, p99 (nearest rank) and max, in seconds."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 3)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": rank(1.0)}


def rounded(values: list[float]) -> list[float]:
    return [round(value, 3) for value in values]


def floor_times(arrivals: list[float], least: float) -> list[float]:
    """The earliest each change could be visible, in arrival order: ``least`` after its event,
    and never more than Zoho's updates a rolling minute."""
    landed: list[float] = []
    for n, arrived in enumerate(sorted(arrivals)):
        earliest = arrived + least
        if n >= UPDATES_PER_MINUTE:
            earliest = max(earliest, landed[n - UPDATES_PER_MINUTE] + 60.0)
        landed.append(earliest)
    return landed


def changes_seen(
    world: ServiceWorld, wanted: dict[str, str], since: int, seconds: float
) -> dict[str, float]:
    """When each person's wanted mobile number became visible in Cliq (employee id → wall
    clock), waiting up to ``seconds`` for all of them; the missing are left out."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + seconds
    while len(seen) < len(wanted) and time.monotonic() < deadline:
        calls, since = world.api_calls(since)
        for at, _, _, _, employee_id, mobile in calls:
            if wanted.get(employee_id) == mobile and employee_id not in seen:
                seen[employee_id] = at
        time.sleep(0.25)
    return seen


def delta(after: Metrics, before: Metrics, name: str) -> dict[str, float]:
    """A counter's growth by its labels' values (``hr/succeeded``)."""
    grown: dict[str, float] = {}
    for key, value in after.items():
        if key[0] == name and value != before.get(key, 0.0):
            label = "/".join(v for _, v in key[1])
            grown[label] = round(grown.get(label, 0.0) + value - before.get(key, 0.0), 2)
    return dict(sorted(grown.items()))


def traffic(world: ServiceWorld, stats: dict[str, Any], metrics: Metrics, since: int) -> Any:
    """Calls, lock periods and pacing waits since ``stats``, ``metrics`` and log ``since``."""
    now_stats, now_metrics = world.stats(), world.metrics()
    calls, _ = world.api_calls(since)
    return {
        "calls_by_endpoint": {
            k: n - stats["calls"].get(k, 0)
            for k, n in sorted(now_stats["calls"].items())
            if n > stats["calls"].get(k, 0) and not k.startswith("oauth")
        },
        "busiest_minute_by_endpoint": busiest_minutes(calls),
        "pacing_wait_s": delta(now_metrics, metrics, "hrsync_pacing_wait_seconds_total"),
        "lock_periods_triggered": now_stats["lock_periods_triggered"],
        "lock_periods_total": now_stats["lock_periods_total"] - stats["lock_periods_total"],
        "throttled": now_stats["throttled"],
        "runs": delta(now_metrics, metrics, "hrsync_runs_total"),
        "webhook_refused": delta(now_metrics, metrics, "hrsync_webhook_refused_total"),
        "machine_load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def endpoint_of(method: str, path: str) -> str:
    """The emulator's endpoint group of a call, enough for the busiest minute."""
    parts = path.strip("/").split("/")[2:]  # after api/v2
    if parts[0] == "users":
        if len(parts) == 1:
            return "users.add" if method == "POST" else "users.list"
        return {"PUT": "users.update", "GET": "users.get"}.get(method, "users")
    return parts[0]


def busiest_minutes(calls: list[list[Any]]) -> dict[str, str]:
    """Per endpoint group, the most calls in any rolling minute, against Zoho's limit."""
    times: dict[str, list[float]] = {}
    for at, method, path, *_ in calls:
        times.setdefault(endpoint_of(method, path), []).append(at)
    busiest = {}
    for endpoint, seen in sorted(times.items()):
        seen.sort()
        most, start = 0, 0
        for end, at in enumerate(seen):
            while at - seen[start] >= 60.0:
                start += 1
            most = max(most, end - start + 1)
        limit = ZOHO_LIMITS.get(endpoint)
        busiest[endpoint] = f"{most}/{limit.per_minute}" if limit else str(most)
    return busiest


# The burst


def one_event(world: ServiceWorld, http: httpx.Client, employee_id: str) -> float:
    """Change one person's mobile number in the export and send an event naming them: the
    wall clock at its 202."""
    world.by_id[employee_id]["mobile"] = new_mobile(employee_id)
    world.write_rows()
    answer = http.post(
        f"{world.url}/hooks/people/{INTEGRATION}",
        json={"employee_ids": [employee_id]},
        headers={"X-Hrsync-Secret": SECRET},
    )
    answered = time.time()
    if answer.status_code != 202:
        raise RuntimeError(f"the webhook answered {answer.status_code}: {answer.text}")
    return answered


def burst(world: ServiceWorld, *, events: int = 60, spacing: float = 0.5) -> dict[str, Any]:
    staff = [r["employee_id"] for r in world.rows[MANAGERS:]]
    people = random.Random(23).sample(staff, events + 5)
    quiet, named = people[:5], people[5:]
    http = httpx.Client(timeout=30, trust_env=False)
    _, since = world.api_calls()
    quiet_latency = []
    last = time.time()
    for employee_id in quiet:
        answered = one_event(world, http, employee_id)
        seen = changes_seen(world, {employee_id: new_mobile(employee_id)}, since, 120)
        if employee_id not in seen:
            raise RuntimeError(f"a quiet event's change was not seen in 120 s ({employee_id})")
        quiet_latency.append(seen[employee_id] - answered)
        last = seen[employee_id]
        time.sleep(6)
    single = percentiles(quiet_latency)["p50"] or 0.0
    say(f"quiet: {rounded(quiet_latency)} s; the burst starts a minute later")
    time.sleep(max(0.0, last + 61.0 - time.time()))  # no quiet update in Zoho's minute

    stats, metrics = world.stats(), world.metrics()
    _, since = world.api_calls()
    answered: dict[str, float] = {}
    start = time.monotonic()
    for n, employee_id in enumerate(named):
        time.sleep(max(0.0, start + n * spacing - time.monotonic()))
        answered[employee_id] = one_event(world, http, employee_id)
    http.close()
    wanted = {e: new_mobile(e) for e in named}
    seen = changes_seen(world, wanted, since, 900)
    first = min(answered.values())
    latency = [seen[e] - answered[e] for e in named if e in seen]
    last_change = max(seen.values()) - first if seen else None
    floor = floor_times(list(answered.values()), single)[-1] - first
    return {
        "people": world.people,
        "initial_sync": world.initial_sync,
        "quiet_latency_s": {**percentiles(quiet_latency), "all": rounded(quiet_latency)},
        "events": events,
        "spacing_s": spacing,
        "visible": len(seen),
        "latency_s": percentiles(latency),
        "last_change_s": round(last_change, 2) if last_change is not None else None,
        "floor_s": round(floor, 2),
        "ratio_to_130_s": round(last_change / ISSUE_FLOOR, 3) if last_change else None,
        "ratio_to_floor": round(last_change / floor, 3) if last_change else None,
        **arrival_order(named, seen),
        **traffic(world, stats, metrics, since),
    }


def arrival_order(named: list[str], seen: dict[str, float]) -> dict[str, Any]:
    """Whether the changes landed in the order their events arrived; if not, the arrival
    rank (1 = the first event) of each change, in the order they landed."""
    rank = {e: n for n, e in enumerate(named, 1)}
    landed = [rank[e] for e in sorted(seen, key=seen.__getitem__)]
    in_order = landed == sorted(landed)
    return {"in_arrival_order": in_order} | ({} if in_order else {"arrival_ranks": landed})


# The load


def load_calls(world: ServiceWorld, total: int) -> list[Call]:
    """The calls in order, seeded: 7 in 10 name a known person (1 in 50 of those a changed
    one, each named by that call alone, so its change waits for it), 1 an unknown id, 1 a
    wrong secret, 1 a wrong signature."""
    rng = random.Random(7)
    staff = [r["employee_id"] for r in world.rows[MANAGERS:]]
    shuffled = rng.sample(staff, len(staff))
    changes = sum(1 for n in range(total) if n % 10 < 7) // CHANGED_EVERY
    changed, unchanged = iter(shuffled[:changes]), shuffled[changes:]
    calls, known = [], 0
    for n in range(total):
        slot = n % 10
        if slot == 7:
            calls.append(Call("unknown", f"U{rng.randrange(10**6):06d}", n % 20 == 7, SECRET))
        elif slot == 8:
            calls.append(Call("bad_secret", rng.choice(staff), False, SECRET))
        elif slot == 9:
            calls.append(Call("bad_signature", rng.choice(staff), True, SECRET))
        else:
            known += 1
            if known % CHANGED_EVERY == 0:
                calls.append(Call("changed", next(changed), known % 2 == 0, SECRET))
            else:
                calls.append(Call("known", rng.choice(unchanged), known % 2 == 0, SECRET))
    return calls


def queued(world: ServiceWorld) -> int:
    return int(sum(v for (name, _), v in world.metrics().items() if name == "hrsync_events_queued"))


def load(world: ServiceWorld, *, rate: float, seconds: float) -> dict[str, Any]:
    calls = load_calls(world, int(rate * seconds))
    changed = {c.employee_id: new_mobile(c.employee_id) for c in calls if c.kind == "changed"}
    for employee_id, mobile in changed.items():
        world.by_id[employee_id]["mobile"] = mobile
    world.write_rows()
    stats, metrics = world.stats(), world.metrics()
    _, since = world.api_calls()
    cpu = {name: world.cpu_seconds(name) for name in ("serve", "emulator")}
    say(f"load: {len(calls)} calls at {rate:g}/s, {len(changed)} changed people")
    client = time.process_time()
    send_all(f"{world.url}/hooks/people/{INTEGRATION}", calls, rate)
    cpu["client"] = -(time.process_time() - client)  # the bench's own, measured already
    ended = max((c.answered for c in calls), default=time.time())
    say(f"load: answered by {ended - calls[0].due:.1f} s; waiting for the queue")
    wait_until(lambda: queued(world) == 0, 7200, "the queue never drained", every=1.0)
    drained = time.time()
    seen = changes_seen(world, changed, since, 30)
    began = calls[0].due
    return {
        "people": world.people,
        "initial_sync": world.initial_sync,
        "rate": rate,
        "seconds": seconds,
        "calls": calls_figures(calls),
        "events": events_figures(world, calls),
        "changed": changed_figures(calls, seen, began),
        "drain_s": round(drained - ended, 1),
        "drain_from_first_call_s": round(drained - began, 1),
        "serve_peak_rss_mb": world.status("serve", "VmHWM"),
        "emulator_peak_rss_mb": world.status("emulator", "VmHWM"),
        "cpu_s": {
            n: round(-s if n == "client" else world.cpu_seconds(n) - s, 1) for n, s in cpu.items()
        },
        **traffic(world, stats, metrics, since),
    }


def changed_figures(calls: list[Call], seen: dict[str, float], began: float) -> dict[str, Any]:
    """The changed people's changes: how many a 202 named and were visible in Cliq, their
    latency from the 202 and from the moment the call was due, the last one after the first
    call was due, and Zoho's floor for the last one had each been answered when due."""
    named = [c for c in calls if c.kind == "changed"]
    taken = [c for c in named if c.status == 202]
    visible = [c for c in taken if c.employee_id in seen]
    floor = floor_times([c.due for c in named], 0.0)
    return {
        "people": len(named),
        "named_by_202s": len(taken),
        "visible": len(visible),
        "visible_without_202": sum(1 for c in named if c.status != 202 and c.employee_id in seen),
        "latency_s": percentiles([seen[c.employee_id] - c.answered for c in visible]),
        "latency_from_due_s": percentiles([seen[c.employee_id] - c.due for c in visible]),
        # what Zoho's 20 updates a rolling minute alone would make of it
        "floor_latency_s": percentiles([f - c.due for f, c in zip(floor, named, strict=True)]),
        "last_change_s": round(max(seen.values()) - began, 2) if seen else None,
        "floor_last_s": round(floor[-1] - began, 2) if floor else None,
    }


def calls_figures(calls: list[Call]) -> dict[str, Any]:
    """The calls by status; the answer's time from when the call was due (the sender's wait)
    and from when it went out (the service's alone); how late calls went out because
    ``IN_FLIGHT`` were unanswered."""
    answered = [c for c in calls if c.status]
    last = max((c.answered for c in answered), default=calls[0].due)
    return {
        "sent": len(calls),
        "due_per_s": round((len(calls) - 1) / max(calls[-1].due - calls[0].due, 1e-9), 1),
        "answered": len(answered),
        "answered_per_s": round(len(answered) / max(last - calls[0].due, 1e-9), 1),
        "by_status": dict(sorted(Counter(str(c.status or "none") for c in calls).items())),
        "by_kind_status": dict(sorted(Counter(f"{c.kind}:{c.status}" for c in calls).items())),
        "answer_from_due_s": percentiles([c.answered - c.due for c in answered]),
        "answer_from_sent_s": percentiles([c.answered - c.sent for c in answered]),
        "sent_late_s": percentiles([c.sent - c.due for c in calls if c.sent]),
    }


def events_figures(world: ServiceWorld, calls: list[Call]) -> dict[str, Any]:
    """Every event a 202 named, as the store ended it; lost: not ``done`` (a known person)
    or not ``refused`` (an unknown id)."""
    kept = {e.id: e for e in world.events()}
    expected = {}
    for call in calls:
        for event in call.events:
            expected[event] = "refused" if call.kind == "unknown" else "done"
    states = Counter(kept[e].state if e in kept else "missing" for e in expected)
    lost = [e for e, state in expected.items() if e not in kept or kept[e].state != state]
    return {
        "queued_by_202s": len(expected),
        "by_state": dict(sorted(states.items())),
        "lost": len(lost),
        "lost_examples": [
            {
                "id": e,
                "state": kept[e].state if e in kept else "missing",
                "reason": kept[e].reason[:200] if e in kept else "",
            }
            for e in lost[:5]
        ],
        "refused_by_202s": sum(1 for c in calls if c.status == 202 and not c.events),
        # kept though no 202 reached the bench (its call timed out): the sender would retry
        "kept_without_202": sorted(
            Counter(e.state for i, e in kept.items() if i not in expected).items()
        ),
    }


# Reporting


def table(title: str, rows: list[tuple[str, Any]]) -> str:
    width = max(len(name) for name, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def burst_table(found: dict[str, Any]) -> str:
    lat = found["latency_s"]
    return table(
        f"Burst: {found['events']} events {found['spacing_s']} s apart, {found['people']} people",
        [
            ("single event p50 (quiet)", f"{found['quiet_latency_s']['p50']} s"),
            (
                "latency p50/p95/p99/max",
                f"{lat['p50']} / {lat['p95']} / {lat['p99']} / {lat['max']} s",
            ),
            ("visible", f"{found['visible']} of {found['events']}"),
            ("last change after 1st 202", f"{found['last_change_s']} s"),
            ("ratio to 130 s", found["ratio_to_130_s"]),
            ("floor (with quiet p50)", f"{found['floor_s']} s → ratio {found['ratio_to_floor']}"),
            ("in arrival order", found["in_arrival_order"]),
            ("lock periods", found["lock_periods_total"]),
            ("calls by endpoint", found["calls_by_endpoint"]),
            ("busiest minute/limit", found["busiest_minute_by_endpoint"]),
            ("hrsync pacing waits (s)", found["pacing_wait_s"]),
            ("runs", found["runs"]),
            ("machine load avg", f"{found['machine_load_avg']} on {os.cpu_count()} CPUs"),
        ],
    )


def load_table(found: dict[str, Any]) -> str:
    calls, events, changed = found["calls"], found["events"], found["changed"]
    lat, due = changed["latency_s"], changed["latency_from_due_s"]
    return table(
        f"Load: {found['rate']:g} calls/s for {found['seconds']:g} s, {found['people']} people",
        [
            ("calls due (rate)", f"{calls['sent']} ({calls['due_per_s']}/s)"),
            ("answered (rate)", f"{calls['answered']} ({calls['answered_per_s']}/s)"),
            ("answered by status", calls["by_status"]),
            ("answer from due p50/p99", "{p50} / {p99} s".format(**calls["answer_from_due_s"])),
            ("answer from sent p50/p99", "{p50} / {p99} s".format(**calls["answer_from_sent_s"])),
            ("sent late p50/p99", "{p50} / {p99} s".format(**calls["sent_late_s"])),
            ("events queued by 202s", events["queued_by_202s"]),
            ("events by final state", events["by_state"]),
            ("events lost", events["lost"]),
            ("events kept without 202", dict(events["kept_without_202"])),
            ("changed: named by 202s", f"{changed['named_by_202s']} of {changed['people']}"),
            ("changed: visible", changed["visible"]),
            ("202 → visible p50/p95/p99", f"{lat['p50']} / {lat['p95']} / {lat['p99']} s"),
            ("due → visible p50/p95/p99", f"{due['p50']} / {due['p95']} / {due['p99']} s"),
            (
                "Zoho's floor p50/p95/p99",
                "{p50} / {p95} / {p99} s".format(**changed["floor_latency_s"]),
            ),
            (
                "last change / its floor",
                f"{changed['last_change_s']} s / {changed['floor_last_s']} s after the first call",
            ),
            ("queue drained", f"{found['drain_s']} s after the last answer"),
            ("lock periods", found["lock_periods_total"]),
            ("serve peak memory", f"{found['serve_peak_rss_mb']} MB (VmHWM)"),
            ("CPU during load (s)", found["cpu_s"]),
            ("calls by endpoint", found["calls_by_endpoint"]),
            ("hrsync pacing waits (s)", found["pacing_wait_s"]),
            ("runs", found["runs"]),
            ("webhook refused (why)", found["webhook_refused"]),
            ("machine load avg", f"{found['machine_load_avg']} on {os.cpu_count()} CPUs"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000, help="the load's HR source")
    parser.add_argument("--rate", type=float, default=100.0, help="webhook calls a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="of load")
    parser.add_argument("--burst-people", type=int, default=1_000)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--burst-only", action="store_true")
    only.add_argument("--load-only", action="store_true")
    parser.add_argument("--initial-sync", choices=("warped", "serve"), default="warped",
                        help="hrsync's run on the emulator's clock moved forward (seconds), "
                        "or hrsync serve's own, in real time (minutes)")  # fmt: skip
    parser.add_argument("--folder", type=Path, help="work here and keep the logs and stores")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-service-") as scratch:
        root = args.folder or Path(scratch)
        if not args.load_only:
            folder = root / "burst"
            folder.mkdir(parents=True)
            say(f"burst: {args.burst_people} people in {folder}")
            with ServiceWorld(folder, args.burst_people, initial_sync=args.initial_sync) as world:
                found["burst"] = burst(world)
            print(burst_table(found["burst"]), end="\n\n")
        if not args.burst_only:
            folder = root / "load"
            folder.mkdir(parents=True)
            say(f"load: {args.people} people in {folder}")
            with ServiceWorld(folder, args.people, initial_sync=args.initial_sync) as world:
                found["load"] = load(world, rate=args.rate, seconds=args.seconds)
            print(load_table(found["load"]), end="\n\n")
    text = json.dumps(found, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
