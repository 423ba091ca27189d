"""``hrsync emulator serve`` in a subprocess on a free loopback port, reached over real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.cli.demo import grant_refresh_token
from hrsync.config import Settings, SourceConfig, StoreConfig
from hrsync.emulator.remote import RemoteClock
from tests.conftest import World
from tests.conftest import service as emulated_service

Serve = Callable[[str], str]


def run_hrsync(
    folder: Path, env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``hrsync ARGS`` as a user runs it, in ``folder``, with its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "hrsync", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start ``hrsync emulator serve --clock CLOCK``; returns its base URL. Stopped after."""
    processes: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "emulator.log"

    def start(clock: str) -> str:
        port = free_port()
        command = [sys.executable, "-m", "hrsync", "emulator", "serve", "--port", str(port)]
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [*command, "--clock", clock], stdout=sink, stderr=subprocess.STDOUT
            )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"emulator exited: {log.read_text(errors='replace')}")
            try:
                httpx.get(f"{base}/_emulator/clock", timeout=1)
                return base
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("emulator did not start within 20 s")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def remote_world(serve: Serve, tmp_path: Path) -> Iterator[World]:
    """A World whose emulator is a separate process on a virtual clock."""
    base = serve("virtual")
    transport = httpx.HTTPTransport()
    http = httpx.Client(timeout=30, transport=transport)
    client_id, secret, refresh = grant_refresh_token(http, base)
    settings = Settings(
        store=StoreConfig(url=f"sqlite:///{tmp_path / 'hrsync.db'}"),
        source=SourceConfig(path=tmp_path / "employees.csv"),
        cliq=emulated_service(base, client_id, secret, refresh),
    )
    csv = tmp_path / "employees.csv"
    yield World(RemoteClock(http, base), settings, csv, transport, http, base)
    http.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Any]:
    """Start ``hrsync serve`` (checking schedules every second) in ``tmp_path`` with an
    environment; returns the process and its URL. Killed after, if still running."""
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "hrsync", "serve", "--port", str(port), "--check-every", "1",
             *extra],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hrsync serve never answered /healthz"
            time.sleep(0.1)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
