"""Two applies started at the same instant, many times, on SQLite and on PostgreSQL: exactly
one applies, the other is refused with a clear message, and Zoho never locks anyone out."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import StoreConfig
from tests.conftest import World
from tests.support import converge, planned

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PAIRS = 25
ROUND_GAP = 150.0  # virtual seconds between rounds: every rolling minute starts empty


def wait_for(paths: list[Path], *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"workers did not answer: {paths}"
        time.sleep(0.001)


def race(world: World, folder: Path) -> list[list[dict[str, Any]]]:
    """``PAIRS`` rounds of two workers released together; each round's two results."""
    folder.mkdir()
    (folder / "settings.pickle").write_bytes(pickle.dumps(world.settings))
    names = ("a", "b")
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.apply_worker", str(folder), name], cwd=ROOT
        )
        for name in names
    ]
    rows = sample_employees(30)
    rounds = []
    try:
        for n in range(PAIRS):
            rows[10 + n % 20]["designation"] = f"Title {n}"  # one change for the winner
            world.write(rows)
            world.clock.advance(ROUND_GAP)
            (folder / f"round-{n}").touch()
            wait_for([folder / f"ready-{n}-{name}" for name in names])
            (folder / f"go-{n}").touch()
            results = [folder / f"result-{n}-{name}" for name in names]
            wait_for(results)
            rounds.append([json.loads(r.read_text(encoding="utf-8")) for r in results])
    finally:
        (folder / "stop").touch()
        for worker in workers:
            worker.wait(timeout=30)
    return rounds


def ran_together(pair: list[dict[str, Any]]) -> bool:
    """Both applied, and each run was recorded before the other one ended."""
    if any(r["outcome"] != "applied" for r in pair):
        return False
    one, two = pair
    return bool(
        one["run_started"] < two["run_finished"] and two["run_started"] < one["run_finished"]
    )


def check_race(world: World, tmp_path: Path) -> None:
    world.write(sample_employees(30))
    converge(world)
    rounds = race(world, tmp_path / "race")
    raced = [pair for pair in rounds if ran_together(pair)]
    errors = [r["message"] for pair in rounds for r in pair if r["outcome"] == "error"]
    timeline = [_timeline(pair) for pair in rounds]
    assert (len(raced), errors) == (0, []), f"{len(raced)} of {PAIRS} both ran: {timeline}"
    # A second apply that began only after the first had finished did not race (rare).
    in_turn = [pair for pair in rounds if all(r["outcome"] == "applied" for r in pair)]
    assert len(in_turn) <= PAIRS // 5, f"{len(in_turn)} pairs did not overlap: {timeline}"
    for pair in (p for p in rounds if p not in in_turn):
        assert sorted(r["outcome"] for r in pair) == ["applied", "refused"]
        refused = next(r for r in pair if r["outcome"] == "refused")
        assert "still running; wait for it to finish" in refused["message"]
        applied = next(r for r in pair if r["outcome"] == "applied")
        assert applied["failed"] == [] and applied["done"] >= 1
    assert world.stats()["lock_periods_total"] == 0
    assert planned(world) == []


def _timeline(pair: list[dict[str, Any]]) -> str:
    """One pair in short: outcome, changes done, and (ms after the first start) the run's
    recorded start and end."""
    zero = min(r["began"] for r in pair)

    def ms(r: dict[str, Any], key: str) -> str:
        return f"{1000 * (r[key] - zero):.0f}" if key in r else "-"

    return " | ".join(
        f"{r['outcome']} {r.get('done', '')} {ms(r, 'run_started')}-{ms(r, 'run_finished')}ms"
        for r in pair
    )


def test_two_applies_at_once_on_sqlite_one_is_refused(remote_world: World, tmp_path: Path) -> None:
    check_race(remote_world, tmp_path)


@pytest.mark.postgres
def test_two_applies_at_once_on_postgresql_one_is_refused(
    remote_world: World, postgres_url: str, tmp_path: Path
) -> None:
    remote_world.settings.store = StoreConfig(url=postgres_url)
    check_race(remote_world, tmp_path)
