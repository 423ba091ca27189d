"""Runs left behind by dead processes, concurrent applies, and pacing across processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from hrsync.api.ratelimit import Pacer
from hrsync.cli.main import app
from hrsync.clock import VirtualClock
from hrsync.errors import ConcurrentRun
from hrsync.store import Store
from hrsync.store.tables import Run


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def store(tmp_path: Path, clock: VirtualClock) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=clock)
    yield opened
    opened.close()


def owned_by(store: Store, run_id: int, owner: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(update(Run).where(Run.id == run_id).values(owner=owner))


def test_a_run_of_a_dead_process_is_marked_interrupted(store: Store) -> None:
    lost = store.start_run("apply")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    owned_by(store, lost, f"{socket.gethostname()}:{dead.stdout.strip()}")
    store.start_run("apply")
    record = store.run(lost)
    assert record is not None and record.status == "interrupted"


def test_an_apply_waits_for_a_live_apply_but_a_plan_does_not(store: Store) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        busy = store.start_run("apply")
        owned_by(store, busy, f"{socket.gethostname()}:{live.pid}")
        with pytest.raises(ConcurrentRun, match=f"run {busy} .* still running"):
            store.start_run("apply")
        store.start_run("plan")  # reading is always allowed
        record = store.run(busy)
        assert record is not None and record.status == "running"
    finally:
        live.kill()
        live.wait()


def test_a_new_process_paces_with_the_calls_of_the_previous_one(
    store: Store, clock: VirtualClock
) -> None:
    first = Pacer(clock, margin=0, log=store.call_log("https://cliq.zoho.com"))
    for _ in range(5):  # users.add allows 5 per minute
        first.wait("users.add")
        first.record("users.add")
    clock.advance(10)
    second = Pacer(clock, margin=0, log=store.call_log("https://cliq.zoho.com"))
    assert second.delay("users.add") == pytest.approx(50)
    other_host = Pacer(clock, margin=0, log=store.call_log("https://cliq.zoho.eu"))
    assert other_host.delay("users.add") == 0


def test_a_lock_period_outlives_the_process_that_met_it(store: Store, clock: VirtualClock) -> None:
    Pacer(clock, log=store.call_log("c")).locked("users.list", 600)
    clock.advance(100)
    assert Pacer(clock, log=store.call_log("c")).delay("users.list") == pytest.approx(500)


def dead_process() -> str:
    """host:pid of a process that has already exited."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return f"{socket.gethostname()}:{gone.stdout.strip()}"


def test_a_killed_run_reads_as_interrupted_at_once(store: Store, tmp_path: Path) -> None:
    killed = store.start_run("apply")
    owned_by(store, killed, dead_process())
    ours = store.start_run("plan")  # this process's own run is still running
    assert [(r.id, r.status) for r in store.runs()] == [
        (ours, "running"),
        (killed, "interrupted"),
    ]
    record = store.run(killed)
    assert record is not None and record.status == "interrupted"

    other = store.start_run("apply")
    owned_by(store, other, dead_process())
    config = tmp_path / "hrsync.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n', encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(app, ["--config", str(config), "--json", "runs", "show", str(other)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["status"] == "interrupted"
    listed = runner.invoke(app, ["--config", str(config), "--json", "runs", "list"])
    assert {r["id"]: r["status"] for r in json.loads(listed.output)["runs"]}[other] == "interrupted"


def test_live_pacers_count_each_others_calls_and_a_call_cut_off(
    store: Store, clock: VirtualClock
) -> None:
    one, two, killed = (Pacer(clock, margin=0, log=store.call_log("c")) for _ in range(3))
    killed.wait("users.add")  # written down, sent, and the process died before the answer
    for _ in range(2):
        one.wait("users.add")
        one.record("users.add")
        two.wait("users.add")
        two.record("users.add")
    assert one.delay("users.add") == two.delay("users.add") == pytest.approx(60)


def test_threads_opening_the_store_at_once_all_find_it_ready(tmp_path: Path) -> None:
    """The service's scheduler and its pages open the store from two threads at once."""
    import threading

    problems: list[BaseException] = []
    urls = [f"sqlite:///{tmp_path / f'store-{n}.db'}" for n in range(3)]

    def open_close(url: str) -> None:
        try:
            Store(url, clock=VirtualClock()).close()
        except BaseException as exc:  # any failure is the finding
            problems.append(exc)

    threads = [threading.Thread(target=open_close, args=(u,)) for u in urls * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    for url in urls:
        opened = Store(url, clock=VirtualClock())
        assert opened.start_run("plan") >= 1  # the schema is there
        opened.close()


def test_a_persons_history_holds_their_changes_and_memberships_only(store: Store) -> None:
    run = store.start_run("apply")
    store.journal_intend(
        run,
        [
            ("user:E2:invite", "invite", "invite Ines (E2)", json.dumps({"employee_id": "E2"})),
            # Reports to E2: the payload names E2, but it is not E2's change.
            ("user:E3:invite", "invite", "invite Bo (E3)", json.dumps({"manager_id": "E2"})),
            (
                "team:ops:join:1",
                "team_members",
                "add 2 people to Ops",
                json.dumps({"employee_ids": ["E2", "E9"]}),
            ),
            (
                "team:x:join:2",
                "team_members",
                "add E22 to X",
                json.dumps({"employee_ids": ["E22"]}),
            ),
            ("user:E2_:update", "update", "update E2_", "{}"),  # a LIKE wildcard taken literally
        ],
    )
    found = [j.change_key for _, j in store.history("E2")]
    assert found == ["team:ops:join:1", "user:E2:invite"]
    assert [r.id for r, _ in store.history("E2")] == [run, run]
