"""Wrong admin passphrases back off exponentially on the store's clock, for every process on
the store, and each is logged without the passphrase."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrsync.access import admin
from hrsync.access.admin import ReauthenticationNeeded, backoff_wait, reauthenticate, set_passphrase
from hrsync.clock import VirtualClock
from hrsync.store import Store

RIGHT = "a long admin passphrase"
WRONG = "a wrong guess at it"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hrsync.db'}"


@pytest.fixture
def store(url: str, clock: VirtualClock) -> Iterator[Store]:
    opened = Store(url, clock=clock)
    set_passphrase(opened, RIGHT)
    yield opened
    opened.close()


def wrong_in_a_row(store: Store) -> int:
    return admin.wrong_in_a_row(store, admin.CLI)


def _wrong(store: Store) -> None:
    with pytest.raises(ReauthenticationNeeded, match="not the admin passphrase"):
        reauthenticate(store, WRONG)


def _backing_off(store: Store, passphrase: str, seconds: int) -> None:
    with pytest.raises(ReauthenticationNeeded, match=rf"in a row: try again in {seconds} s$"):
        reauthenticate(store, passphrase)


def test_the_wait_doubles_from_the_second_wrong_passphrase_up_to_fifteen_minutes() -> None:
    waits = [backoff_wait(n) for n in range(0, 14)]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert backoff_wait(10_000) == 900


def test_wrong_passphrases_back_off_even_the_right_one_until_the_wait_is_over(
    store: Store, clock: VirtualClock
) -> None:
    _wrong(store)  # a typo costs nothing
    _wrong(store)
    _backing_off(store, RIGHT, 1)
    clock.advance(1)
    _wrong(store)
    _backing_off(store, WRONG, 2)
    clock.advance(1.5)
    _backing_off(store, RIGHT, 1)  # not checked, so not counted either
    clock.advance(0.5)
    _wrong(store)
    clock.advance(3.9)
    _backing_off(store, RIGHT, 1)
    clock.advance(0.1)
    reauthenticate(store, RIGHT)  # the right one, once the wait is over, ends the backoff
    _wrong(store)
    reauthenticate(store, RIGHT)


def test_the_backoff_is_shared_by_every_process_on_the_store(
    store: Store, url: str, clock: VirtualClock
) -> None:
    for _ in range(5):
        _wrong(store)
        clock.advance(backoff_wait(wrong_in_a_row(store)))
    _wrong(store)
    other = Store(url, clock=clock)  # another process, the same database
    try:
        _backing_off(other, RIGHT, 16)
        with pytest.raises(ReauthenticationNeeded, match="try again in 16 s"):
            set_passphrase(other, "a new long passphrase", current=RIGHT)
        clock.advance(16)
        set_passphrase(other, "a new long passphrase", current=RIGHT)
    finally:
        other.close()
    reauthenticate(store, "a new long passphrase")


def test_each_wrong_passphrase_is_logged_without_it(
    store: Store, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hrsync.access.admin")
    _wrong(store)
    _wrong(store)
    _backing_off(store, RIGHT, 1)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "wrong admin passphrase from" in lines[0] and "(1 in a row)" in lines[0]
    assert "(2 in a row); the next try waits 1 s" in lines[1]
    assert "not checked: 2 wrong in a row" in lines[2]
    assert not any(WRONG in line or RIGHT in line for line in lines)


KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'hrsync.db'}"


def test_parallel_wrong_passphrases_cost_as_much_as_sequential_ones(any_url: str) -> None:
    """Twelve guesses at once on a clock that does not move: as one after the other, two are
    compared (a typo costs nothing), each is counted, and the other ten wait without being
    compared. Before, each guess read the count, hashed, and wrote count + 1: most were
    compared and the count rose by one or two."""
    clock = VirtualClock()
    opened = Store(any_url, clock=clock)
    set_passphrase(opened, RIGHT)
    start = threading.Barrier(12)
    said: list[str] = []

    def guess(n: int) -> None:
        store = Store(any_url, clock=clock)  # each its own connections, as separate workers
        try:
            start.wait()
            reauthenticate(store, f"{WRONG} {n}")
        except ReauthenticationNeeded as refused:
            said.append(str(refused))
        finally:
            store.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    compared = [s for s in said if s == "that is not the admin passphrase"]
    assert len(said) == 12 and len(compared) == 2, said
    _backing_off(opened, RIGHT, 1)  # the count says two: every comparison was counted
    with pytest.raises(ReauthenticationNeeded, match=r"^2 wrong admin passphrases in a row"):
        reauthenticate(opened, RIGHT)
    opened.close()
