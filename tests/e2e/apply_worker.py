"""One process that applies when told to: ``python -m tests.e2e.apply_worker FOLDER NAME``.

For every round N the test writes ``FOLDER/round-N``; the worker builds its app (store,
clients) and answers ``ready-N-NAME``; the test then writes ``go-N`` for both workers at once
and each calls the engine's apply straight away, reporting ``result-N-NAME`` (JSON). A
``stop`` file ends the loop. Settings come pickled in ``FOLDER/settings.pickle``.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

from hrsync.config import Settings
from hrsync.errors import ConcurrentRun
from hrsync.store import Store
from hrsync.wiring import build
from tests.e2e.conftest import RemoteClock

POLL = 0.0005  # seconds between looks at the folder: both workers start within a millisecond


def wait_for(*paths: Path) -> Path:
    """The first of ``paths`` to exist."""
    while True:
        for path in paths:
            if path.exists():
                return path
        time.sleep(POLL)


def time_the_run(store: Store) -> dict[str, float]:
    """Wall-clock marks inside the run: just after it was recorded, just before it ends.
    Two runs whose marks overlap certainly ran at the same time."""
    marks: dict[str, float] = {}
    start_run, finish_run = store.start_run, store.finish_run

    def started(mode: str) -> int:
        run_id = start_run(mode)
        marks["run_started"] = time.time()
        return run_id

    def finished(run_id: int, status: str, summary: dict[str, Any]) -> None:
        marks["run_finished"] = time.time()
        finish_run(run_id, status, summary)

    store.start_run = started  # type: ignore[method-assign]
    store.finish_run = finished  # type: ignore[method-assign]
    return marks


def one_round(folder: Path, name: str, n: int, settings: Settings, http: httpx.Client) -> None:
    app = build(
        settings, dry_run=False, clock=RemoteClock(http, settings.cliq.api_url), client=http
    )
    (folder / f"ready-{n}-{name}").touch()
    wait_for(folder / f"go-{n}")
    marks = time_the_run(app.store)
    result: dict[str, object]
    began = time.time()
    try:
        outcome = app.engine.run_apply()
        assert outcome.report is not None
        result = {"outcome": "applied", "done": len(outcome.report.done)}
        result["failed"] = outcome.report.failed
    except ConcurrentRun as refused:
        result = {"outcome": "refused", "message": str(refused)}
    except Exception as error:
        result = {"outcome": "error", "message": f"{type(error).__name__}: {error}"}
        result["trace"] = traceback.format_exc()
    finally:
        app.close()
    result |= {"began": began, "ended": time.time()} | marks
    done = folder / f"result-{n}-{name}"
    done.with_suffix(".tmp").write_text(json.dumps(result), encoding="utf-8")
    done.with_suffix(".tmp").rename(done)


def main(folder: Path, name: str) -> None:
    settings = pickle.loads((folder / "settings.pickle").read_bytes())
    with httpx.Client(timeout=30) as http:
        for n in range(1_000):
            if wait_for(folder / f"round-{n}", folder / "stop").name == "stop":
                return
            one_round(folder, name, n, settings, http)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
