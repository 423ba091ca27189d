"""A PostgreSQL restart under hrsync (``pg_ctl stop -m fast``, then start): the connections
the pool kept are replaced instead of failing the next statement (``AdminShutdown``), a
statement made while the server is away waits for it to come back, and a live worker's
lease, which nobody could renew meanwhile, is not taken over as if its worker had died.
Each test has a server of its own to restart."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from hrsync.clock import VirtualClock
from hrsync.store import Store
from tests.postgres import PostgresServer, _free_port

pytestmark = pytest.mark.postgres
LEASE = 30.0


def test_the_next_statement_after_a_restart_gets_a_new_connection(
    own_postgres: PostgresServer,
) -> None:
    store = Store(own_postgres.new_database(), clock=VirtualClock(), integration="hr")
    leases = store.leases(owner="host-a:101", seconds=LEASE)
    assert leases.claim("hr")
    run_id = store.start_run("apply")  # pooled connections, used before the restart
    own_postgres.stop()
    own_postgres.start()
    assert leases.renew("hr")  # no AdminShutdown from a connection the server ended
    assert store.finish_run(run_id, "succeeded", {}) is True
    store.close()


def test_a_statement_while_the_server_is_away_waits_for_it(own_postgres: PostgresServer) -> None:
    store = Store(own_postgres.new_database(), clock=VirtualClock(), integration="hr")
    run_id = store.start_run("apply")
    own_postgres.stop()
    back = threading.Timer(1.0, own_postgres.start)  # a restart takes about this long
    back.start()
    began = time.monotonic()
    assert store.finish_run(run_id, "succeeded", {}) is True  # recorded once it is back
    assert time.monotonic() - began >= 1.0
    back.join()
    record = store.run(run_id)
    assert record is not None and record.status == "succeeded"
    store.close()


def test_a_server_never_reached_is_not_waited_for() -> None:
    began = time.monotonic()
    with pytest.raises(OperationalError):
        Store(f"postgresql+psycopg://hrsync@127.0.0.1:{_free_port()}/none", clock=VirtualClock())
    assert time.monotonic() - began < 5  # a wrong URL is said at once


def test_a_live_workers_lease_is_not_taken_over_after_a_restart(
    own_postgres: PostgresServer,
) -> None:
    clock = VirtualClock()
    url = own_postgres.new_database()
    store = Store(url, clock=clock)
    live = store.leases(owner="host-a:101", seconds=LEASE)
    elsewhere = Store(url, clock=clock)  # another worker's
    other = elsewhere.leases(owner="host-b:202", seconds=LEASE)
    assert live.claim("hr")
    own_postgres.stop()
    clock.advance(LEASE + 1)  # the restart outlasts the lease: nobody could renew
    own_postgres.start()

    assert not other.claim("hr")  # its holder gets a lease's time to renew it first
    assert other.lapsed().lapsed == frozenset()  # and nobody is woken to take it
    clock.advance(LEASE / 3)
    assert live.renew("hr")  # still its own
    clock.advance(LEASE + 1)  # now its worker really died
    assert other.lapsed().lapsed != frozenset()
    assert other.claim("hr")
    elsewhere.close()
    store.close()
