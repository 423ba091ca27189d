"""Shared fixtures: an in-process emulator on a virtual clock, wired to the real client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from pydantic import SecretStr

from hrsync.cli.demo import grant_refresh_token, sample_employees, write_csv
from hrsync.clock import Clock, VirtualClock
from hrsync.config import Settings, SourceConfig, StoreConfig, ZohoServiceConfig
from hrsync.emulator import Emulator
from hrsync.emulator.transport import mock_transport
from hrsync.wiring import App, build

pytest_plugins = ["tests.postgres"]  # a throwaway PostgreSQL server for the store's tests
BASE = "http://127.0.0.1:9"  # never dialled: the transport answers in-process
SHARED = Path(__file__).resolve().parents[2] / "shared"


class SteppedClock(Clock, Protocol):
    """A clock the test moves: the emulator's virtual time, seen from the client."""

    def advance(self, seconds: float) -> None: ...


@dataclass
class World:
    """An emulator, its virtual clock, an export on disk, and settings pointing at them."""

    clock: SteppedClock
    settings: Settings
    csv: Path
    transport: httpx.BaseTransport  # the emulator's; wrap it to spy on or break a run
    http: httpx.Client  # a client on ``transport``: the tests' own, and the apps' by default
    base: str = BASE

    def app(self, *, dry_run: bool = False, transport: httpx.BaseTransport | None = None) -> App:
        """hrsync's app on this world: on ``http``, or on a client of its own built around
        ``transport`` (a test's wrapper of ``self.transport``)."""
        client = None if transport else self.http
        return build(
            self.settings,
            dry_run=dry_run,
            clock=self.clock,
            client=client,
            transport=transport,
            pacer_margin=0,
        )

    def write(self, rows: list[dict[str, str]]) -> None:
        write_csv(self.csv, rows)

    def state(self) -> dict[str, object]:
        result: dict[str, object] = self.http.get(f"{self.base}/_emulator/state").json()
        return result

    def stats(self) -> dict[str, object]:
        result: dict[str, object] = self.http.get(f"{self.base}/_emulator/stats").json()
        return result


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The in-process emulator behind an httpx MockTransport: fast, and no sockets."""
    clock = VirtualClock()
    emulator = Emulator(clock)
    transport = mock_transport(emulator)
    http = httpx.Client(transport=transport)
    client_id, secret, refresh = grant_refresh_token(http, BASE)
    settings = Settings(
        store=StoreConfig(url=f"sqlite:///{tmp_path / 'hrsync.db'}"),
        source=SourceConfig(path=tmp_path / "employees.csv"),
        cliq=service(BASE, client_id, secret, refresh),
    )
    yield World(clock, settings, tmp_path / "employees.csv", transport, http)
    http.close()
    # The emulator answers a request its handler failed on with a 400, never a 500; the
    # failure must not pass unseen (hrsync.emulator.app.Emulator._unexpected).
    assert emulator.unexpected_errors == 0, "a request failed in an emulator handler (log)"


@pytest.fixture
def rows() -> list[dict[str, str]]:
    return sample_employees(120)


def service(base: str, client_id: str, secret: str, refresh: str) -> ZohoServiceConfig:
    return ZohoServiceConfig(
        api_url=base,
        accounts_url=base,
        client_id=client_id,
        client_secret=SecretStr(secret),
        refresh_token=SecretStr(refresh),
        allow_http=True,
    )
