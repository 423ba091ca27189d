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


def check_race(world: World, tmp_path: Path) -> None:
    world.write(sample_employees(30))
    converge(world)
    rounds = race(world, tmp_path / "race")
    outcomes = [sorted(r["outcome"] for r in pair) for pair in rounds]
    # A pair whose second apply began only after the first had ended did not race at all.
    apart = [p for p in rounds if max(r["began"] for r in p) >= min(r["ended"] for r in p)]
    assert len(apart) <= PAIRS // 5, f"{len(apart)} of {PAIRS} pairs did not even overlap"
    both_ran = outcomes.count(["applied", "applied"]) - len(apart)
    errors = [r["message"] for pair in rounds for r in pair if r["outcome"] == "error"]
    assert (both_ran, errors) == (0, []), f"{both_ran} of {PAIRS} pairs both applied: {outcomes}"
    for pair in (p for p in rounds if p not in apart):
        assert sorted(r["outcome"] for r in pair) == ["applied", "refused"]
        refused = next(r for r in pair if r["outcome"] == "refused")
        assert "still running; wait for it to finish" in refused["message"]
        applied = next(r for r in pair if r["outcome"] == "applied")
        assert applied["failed"] == [] and applied["done"] >= 1
    assert world.stats()["lock_periods_total"] == 0
    assert planned(world) == []


def test_two_applies_at_once_on_sqlite_one_is_refused(remote_world: World, tmp_path: Path) -> None:
    check_race(remote_world, tmp_path)


@pytest.mark.postgres
def test_two_applies_at_once_on_postgresql_one_is_refused(
    remote_world: World, postgres_url: str, tmp_path: Path
) -> None:
    remote_world.settings.store = StoreConfig(url=postgres_url)
    check_race(remote_world, tmp_path)
