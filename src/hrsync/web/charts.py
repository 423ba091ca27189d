"""Charts for the admin page, drawn here as SVG (no script, nothing fetched): runs over time
with their outcome, changes per run by kind, and Zoho calls against each endpoint's limit.
Each chart has a ``<title>`` and a ``<desc>`` (it is an image with a name for a screen
reader) and the page shows its figures as a table beside it; the same records feed both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from hrsync.store import RunRecord

OUTCOMES = ("succeeded", "partial", "held", "failed")  # in the legend's order
OUTCOME_OF = {"refused": "failed", "interrupted": "failed", "stopped": "partial"}
WIDTH, HEIGHT, FOOT = 640, 150, 22  # the runs charts' drawing box (user units)
# A colour (k0..k7 in the style sheet) per kind of change, the same on every page: joiners
# blue, movers teal, leavers red; the rest share what is left.
KIND_COLOURS = {
    "invite": 0, "update": 5, "deactivate": 2, "reactivate": 1, "team_members": 4,
    "create_team": 3, "role_members": 6, "connect_members": 7,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EndpointCalls:
    """Calls to one Zoho endpoint group from this store's processes, against its limit."""

    host: str
    endpoint: str
    last_minute: int
    last_hour: int
    per_minute: int  # Zoho's documented limit (0: none known)
    locked_until: float = 0.0

    @property
    def share(self) -> float:
        """The last minute's calls as a share of the limit (1.0: at the limit)."""
        return self.last_minute / self.per_minute if self.per_minute else 0.0


def outcome(run: RunRecord) -> str:
    """A run's outcome as the charts colour it: succeeded, partial, held or failed."""
    return OUTCOME_OF.get(run.status, run.status)


def changes_of(run: RunRecord) -> dict[str, int]:
    """The run's changes by kind (as its plan counted them)."""
    counts = run.summary.get("counts") or {}
    return {str(k): int(v) for k, v in counts.items() if int(v) > 0}


def runs_chart(runs: Sequence[RunRecord], *, label: str = "runs-chart") -> Markup:
    """Each run a bar at its start time, as high as its changes, coloured by its outcome."""
    shown = sorted(runs, key=lambda r: r.started_at)
    title = "Runs over time, by outcome"
    if not shown:
        return _svg(label, title, "No run yet.", 60, [])
    first, last = shown[0].started_at, shown[-1].started_at
    span = max(last - first, 1.0)
    top = max((sum(changes_of(r).values()) for r in shown), default=0) or 1
    parts = [_axis(top)]
    for run in shown:
        x = 40 + (WIDTH - 60) * (run.started_at - first) / span
        total = sum(changes_of(run).values())
        h = max(3.0, (HEIGHT - 10) * total / top)
        tip = f"run {run.id}: {run.status}, {total} changes"
        parts.append(
            f'<rect class="bar {outcome(run)}" x="{x - 4:.1f}" y="{HEIGHT - h:.1f}" width="8" '
            f'height="{h:.1f}" data-run="{run.id}" data-outcome="{outcome(run)}" '
            f'data-changes="{total}"><title>{escape(tip)}</title></rect>'
        )
    parts.append(_text(40, HEIGHT + 16, _day(first), "start"))
    parts.append(_text(WIDTH - 20, HEIGHT + 16, _day(last), "end"))
    counts = {o: sum(outcome(r) == o for r in shown) for o in OUTCOMES}
    said = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    desc = f"{len(shown)} runs from {_day(first)} to {_day(last)}: {said}."
    return _svg(label, title, desc, HEIGHT + FOOT, parts)


def changes_chart(runs: Sequence[RunRecord], *, label: str = "changes-chart") -> Markup:
    """Each run with changes a stacked bar, one band per kind of change."""
    shown = [r for r in sorted(runs, key=lambda r: r.id) if changes_of(r)]
    title = "Changes per run, by kind"
    if not shown:
        return _svg(label, title, "No run has changed anything yet.", 60, [])
    kinds = kinds_of(shown)
    top = max(sum(changes_of(r).values()) for r in shown)
    step = (WIDTH - 50) / len(shown)
    parts = [_axis(top)]
    for i, run in enumerate(shown):
        x, y = 40 + i * step, float(HEIGHT)
        for kind, n in sorted(changes_of(run).items(), key=lambda kv: kinds.index(kv[0])):
            h = (HEIGHT - 10) * n / top
            y -= h
            parts.append(
                f'<rect class="kind {kind_colour(kind)}" x="{x + step * 0.15:.1f}" '
                f'y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" data-run="{run.id}" '
                f'data-kind={quoteattr(kind)} data-changes="{n}">'
                f"<title>{escape(f'run {run.id}: {n} {kind}')}</title></rect>"
            )
        parts.append(_text(x + step / 2, HEIGHT + 16, str(run.id), "middle"))
    total = {k: sum(changes_of(r).get(k, 0) for r in shown) for k in kinds}
    said = ", ".join(f"{n} {k}" for k, n in total.items())
    desc = f"{len(shown)} runs with changes (runs {shown[0].id} to {shown[-1].id}): {said}."
    return _svg(label, title, desc, HEIGHT + FOOT, parts)


def calls_chart(calls: Sequence[EndpointCalls], *, label: str = "calls-chart") -> Markup:
    """Each endpoint's calls in the last minute as a bar across its per-minute limit."""
    title = "Zoho calls in the last minute, against each endpoint's limit"
    if not calls:
        return _svg(label, title, "No call to Zoho in the last hour.", 60, [], width=480)
    row, parts = 26, []
    for i, c in enumerate(calls):
        y = 6 + i * row
        width = 200 * min(c.share, 1.0)
        level = "over" if c.share >= 1 or c.locked_until else "near" if c.share >= 0.75 else "ok"
        parts.append(_text(150, y + 14, c.endpoint, "end"))
        parts.append(f'<rect class="track" x="160" y="{y}" width="200" height="18"/>')
        parts.append(
            f'<rect class="calls {level}" x="160" y="{y}" width="{width:.1f}" height="18" '
            f'data-endpoint={quoteattr(c.endpoint)} data-calls="{c.last_minute}" '
            f'data-limit="{c.per_minute}"><title>{escape(_calls_said(c))}</title></rect>'
        )
        parts.append(_text(368, y + 14, f"{c.last_minute}/{c.per_minute or '?'}", "start"))
    desc = "; ".join(_calls_said(c) for c in calls) + "."
    return _svg(label, title, desc, 12 + len(calls) * row, parts, width=480)


def kinds_of(runs: Iterable[RunRecord]) -> list[str]:
    """Every kind of change in ``runs``, most frequent first (the legend's order)."""
    total: dict[str, int] = {}
    for run in runs:
        for kind, n in changes_of(run).items():
            total[kind] = total.get(kind, 0) + n
    return sorted(total, key=lambda k: (-total[k], k))


def kind_colour(kind: str) -> str:
    """The style sheet's class for a kind of change (k0 to k7)."""
    return f"k{KIND_COLOURS.get(kind, 3 + sum(map(ord, kind)) % 5)}"


def _calls_said(c: EndpointCalls) -> str:
    limit = f"of {c.per_minute} a minute" if c.per_minute else "(no known limit)"
    locked = " (locked by Zoho)" if c.locked_until else ""
    return f"{c.endpoint}: {c.last_minute} {limit}, {c.last_hour} in the last hour{locked}"


def _axis(top: int) -> str:
    return (
        f'<line class="axis" x1="36" y1="{HEIGHT}" x2="{WIDTH - 10}" y2="{HEIGHT}"/>'
        f'<line class="axis" x1="36" y1="10" x2="36" y2="{HEIGHT}"/>'
        + _text(32, 18, str(top), "end")
        + _text(32, HEIGHT, "0", "end")
    )


def _text(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _svg(
    label: str, title: str, desc: str, height: float, parts: list[str], *, width: int = WIDTH
) -> Markup:
    """An accessible SVG image: named by its title, described by its desc."""
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height:.0f}" aria-labelledby="{label}-title {label}-desc">'
        f'<title id="{label}-title">{escape(title)}</title>'
        f'<desc id="{label}-desc">{escape(desc)}</desc>{body}</svg>'
    )
