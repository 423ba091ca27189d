"""A throwaway PostgreSQL server for the store's tests: initdb into a temporary folder, start
it on a free loopback port, one fresh database per test, stop it at the end. A test that
restarts the server under hrsync gets one of its own (``own_postgres``).

Where the PostgreSQL binaries are missing the tests skip with the reason, except in CI
(`CI=true`), where ``.ci/run`` installs them and a skip would hide a gap, so it fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run it as the postgres account the package made.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresServer:
    """One throwaway server: its data in a temporary folder, on a free loopback port."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="hrsync-pg-"))
        self.data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.port = _free_port()
        self.url = f"postgresql+psycopg://hrsync@127.0.0.1:{self.port}/postgres"
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "hrsync"]
            ),
            check=True,
            capture_output=True,
        )

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            _as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args]),
            check=check,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-w", "-l", str(self.folder / "server.log"), "start")

    def stop(self, *, check: bool = True) -> None:
        """``pg_ctl stop -m fast``: every session is ended (``AdminShutdown``) at once."""
        self._pg_ctl("-m", "fast", "-w", "stop", check=check)

    def remove(self) -> None:
        self.stop(check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self) -> str:
        """The URL of a fresh, empty database on this server."""
        import psycopg

        name = f"hrsync_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.plain_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.plain_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @property
    def plain_url(self) -> str:
        return self.url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def _started_server() -> Iterator[PostgresServer]:
    bin_dir = _binaries()
    if bin_dir is None:
        reason = "PostgreSQL's server binaries are not installed (apt install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; .ci/run should have installed them")
        pytest.skip(reason)
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running throwaway server (its ``postgres`` database)."""
    with _started_server() as server:
        yield server.url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the throwaway server."""
    import psycopg

    name = f"hrsync_{uuid.uuid4().hex[:12]}"
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own, which it may stop and start again (the shared one stays
    up for the others)."""
    with _started_server() as server:
        yield server
