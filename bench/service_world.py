"""The world ``bench/service.py`` measures: ``hrsync serve`` and a Zoho emulator, each in its
own process on a free loopback port of 127.0.0.1, over real HTTP and in real time.

The emulator is hrsync's own (``hrsync.emulator``: Accounts, Cliq, Zoho's rate limits and
lock periods), served as ``hrsync emulator serve`` serves it (``python bench/service_world.py
--port N --offset S`` starts it), with two additions of this bench's:

- Its clock is the wall clock plus an offset, which ``POST /_emulator/clock/advance`` moves
  forward at once (``WarpClock``). The integration's initial sync is hrsync's own run
  (``Engine.run_apply`` on the integration's settings, as ``hrsync serve`` builds them) from
  the bench's process, on a clock that is the same wall clock plus the same offset and whose
  waits for Zoho's limits advance both (``WarpedRun``): 10,000 invitations at 5 calls of 100
  a minute take about 20 minutes of the emulator's time and a minute or two of real time.
  The offset starts 6 hours back, so what the initial sync leaves in the store (its run, its
  calls in the pacing log, its tokens) is in the past for ``hrsync serve``, which runs on the
  wall clock; the emulator's clock is then moved an hour on, past every rolling minute and
  lock period of the initial sync, and from there runs at the wall clock's pace, as Zoho's
  does. (``--initial-sync serve`` lets ``hrsync serve`` make the initial sync itself, in real
  time, instead.)
- ``GET /_bench/calls?since=N`` lists the API calls it answered from the N-th on: the wall
  clock's time as it answered, method, path, status and, for a user's update, that user's
  employee id and mobile number once it was made, which is when a change is visible in Cliq.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

import hrsync
from hrsync.access.connections import loopback_redirect_uri
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.clock import RealClock, VirtualClock
from hrsync.config import load_settings
from hrsync.emulator import Emulator
from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.service.scheduler import integrations_of
from hrsync.store import Store
from hrsync.store.events import EventRecord
from hrsync.wiring import build

INTEGRATION = "hr"
SECRET = "the bench's webhook secret, thirty-two characters or more"
START_BACK = 6 * 3600.0  # the emulator's clock starts this far behind the wall clock
AFTER_INITIAL_SYNC = 3600.0  # past every rolling minute and lock period of the initial sync
STARTUP_SECONDS = 60.0
USER_PATH = re.compile(r"/api/v2/users/([^/]+)/?")
Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class WarpClock(VirtualClock):
    """The wall clock plus an offset that ``advance`` moves forward at once (a
    ``VirtualClock``, so the emulator's ``clock/advance`` takes it)."""

    def __init__(self, offset: float) -> None:
        super().__init__(0.0)
        self.offset = offset
        self._warp = threading.Lock()

    def now(self) -> float:
        with self._warp:
            return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._warp:
            self.offset += seconds


class WarpedRun:
    """The bench's side of the emulator's ``WarpClock``: the same wall clock and offset;
    waiting advances both."""

    def __init__(self, control: httpx.Client, base: str, offset: float) -> None:
        self._control, self._base, self.offset = control, base, offset
        self.slept = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            advanced = self._control.post(f"{self._base}/_emulator/clock/advance?seconds={seconds}")
            advanced.raise_for_status()
            self.offset += seconds
            self.slept += seconds


class LoggedEmulator(Emulator):
    """hrsync's emulator, which also keeps the API calls it answered (``/_bench/calls``)."""

    def __init__(self, clock: WarpClock) -> None:
        self.log: list[list[Any]] = []
        super().__init__(clock)

    def handle(self, req: EmuRequest) -> EmuResponse:
        if req.path == "/_bench/calls":
            since = int(req.query.get("since") or 0)
            return EmuResponse(200, {"calls": self.log[since:], "next": len(self.log)})
        response = super().handle(req)
        if req.path.startswith("/api/"):
            self.log.append(self._entry(req, response.status))
        return response

    def _entry(self, req: EmuRequest, status: int) -> list[Any]:
        entry: list[Any] = [time.time(), req.method, req.path, status, "", ""]
        found = USER_PATH.fullmatch(req.path)
        if req.method == "PUT" and found and status == 200:
            key = found.group(1)
            user = self.org.users.get(key) or self.org.user_by_email(key)
            if user is not None:
                entry[4:] = [user.employee_id, user.mobile]
        return entry


def serve_emulator(port: int, offset: float) -> None:
    """Serve a ``LoggedEmulator`` on 127.0.0.1:``port``, as ``hrsync emulator serve`` does."""
    import uvicorn

    from hrsync.emulator.asgi import create_app

    app = create_app(LoggedEmulator(WarpClock(offset)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", date_header=False)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env() -> dict[str, str]:
    """The environment of the processes started: the hrsync this bench imports."""
    env = dict(os.environ)
    source = str(Path(hrsync.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env


def wait_until(check: Callable[[], Any], seconds: float, what: str, *, every: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise RuntimeError(what)
        time.sleep(every)
    return found


class ServiceWorld:
    """An emulator, an enabled integration "hr" of ``people`` rows of export with its webhook
    secret, and ``hrsync serve`` on them. Use it in a ``with`` block: both processes are
    stopped on the way out."""

    def __init__(self, folder: Path, people: int, *, initial_sync: str = "warped") -> None:
        self.folder, self.people = folder, people
        self.rows = sample_employees(people)
        self.by_id = {row["employee_id"]: row for row in self.rows}
        self.control = httpx.Client(timeout=None, trust_env=False)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.offset = -START_BACK
        self.env = child_env()
        self.url = ""
        try:
            self.base = self._start_emulator()
            self._set_up()
            self.initial_sync = self._warped_initial_sync() if initial_sync == "warped" else {}
            self.url = self._start_service()
            self._wait_idle(initial_sync == "serve")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ServiceWorld:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # The processes

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("ab") as sink:
            process = subprocess.Popen(
                command, cwd=self.folder, env=self.env, stdout=sink, stderr=subprocess.STDOUT
            )
        self.processes[name] = process
        return process

    def _answering(self, name: str, url: str) -> bool:
        if self.processes[name].poll() is not None:
            log = (self.folder / f"{name}.log").read_text(errors="replace")
            raise RuntimeError(f"{name} exited: {log[-2000:]}")
        try:
            return self.control.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def _start_emulator(self) -> str:
        port = free_port()
        script = str(Path(__file__).resolve())
        self._start("emulator", [sys.executable, script, "--port", str(port),
                                 "--offset", repr(self.offset)])  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._answering("emulator", f"{base}/_emulator/clock"),
                   STARTUP_SECONDS, "the emulator did not answer")  # fmt: skip
        return base

    def _start_service(self) -> str:
        port = free_port()
        self._start("serve", [sys.executable, "-m", "hrsync", "serve", "--port", str(port),
                              "--check-every", "1"])  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._answering("serve", f"{url}/healthz"), STARTUP_SECONDS,
                   "hrsync serve did not answer /healthz")  # fmt: skip
        return url

    def _hrsync(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "hrsync", *args],
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"hrsync {' '.join(args)}: {done.stderr}")

    def _set_up(self) -> None:
        """As an admin does it (tests/e2e/test_serve.py's ``set_up_integration``): the
        export, the integration (every day: no scheduled run falls in the bench), the Cliq
        connection authorised, the webhook secret, enabled."""
        client = self.control.get(f"{self.base}/_emulator/clients").json()["clients"][0]
        self.env["HRSYNC_CLIENT_SECRET"] = client["client_secret"]
        self.env["HRSYNC_WEBHOOK_SECRET"] = SECRET
        self.write_rows()
        self._hrsync("integrations", "create", INTEGRATION, "--source-file",
                     str(self.folder / "employees.csv"), "--target", "cliq", "--schedule",
                     "every day")  # fmt: skip
        self._hrsync("connections", "add", "cliq", "--client-id", client["client_id"], "--api-url",
                     self.base, "--accounts-url", self.base, "--allow-http")  # fmt: skip
        scopes = ",".join(f"ZohoCliq.{m}.ALL" for m in ("Users", "Departments", "Designations",
                                                        "Teams"))  # fmt: skip
        consent = self.control.get(
            f"{self.base}/oauth/v2/auth",
            params={"client_id": client["client_id"], "redirect_uri": loopback_redirect_uri(),
                    "response_type": "code", "scope": scopes},
        )  # fmt: skip
        code = httpx.URL(consent.headers["location"]).params["code"]
        self._hrsync("connections", "authorise", "cliq", "--code", code)
        self._hrsync("integrations", "webhook", INTEGRATION)
        self._hrsync("integrations", "enable", INTEGRATION)

    def _warped_initial_sync(self) -> dict[str, Any]:
        """hrsync's run of the initial sync on the warped clock; everyone then accepts their
        invitation, and the emulator's clock moves past the run's minutes."""
        clock = WarpedRun(self.control, self.base, self.offset)
        started, wall = clock.now(), time.monotonic()
        base = load_settings(self.folder / "hrsync.toml")
        with integrations_of(base) as integrations:
            settings = integrations.runnable(INTEGRATION, base)
        app = build(settings, dry_run=False, integration=INTEGRATION, clock=clock)
        try:
            outcome = app.engine.run_apply()
        finally:
            app.close()
        report = outcome.report
        figures = {
            "changes_applied": len(report.done) if report else 0,
            "changes_failed": len(report.failed) if report else 0,
            "emulator_minutes": round((clock.now() - started) / 60, 1),
            "wall_seconds": round(time.monotonic() - wall, 1),
        }
        self.control.post(f"{self.base}/_emulator/users/accept").raise_for_status()
        clock.sleep(AFTER_INITIAL_SYNC)
        return figures

    def _wait_idle(self, first_run: bool) -> None:
        """Until the service has made its first look (and, when it makes the initial sync,
        that run) and runs nothing."""
        if first_run:
            wait_until(lambda: self.runs() > 0, 3600, "the initial sync never ended")
        time.sleep(3)
        wait_until(lambda: not self.readyz()["running"], 3600, "the service never went idle")

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.control.close()

    # HR

    def write_rows(self) -> None:
        """The export as ``rows`` stand, replaced at once (a run never reads half of it)."""
        path = self.folder / "employees.csv"
        partial = path.with_suffix(".csv.new")
        write_csv(partial, self.rows)
        os.replace(partial, path)

    # What the processes say

    def readyz(self) -> dict[str, Any]:
        return dict(self.control.get(f"{self.url}/readyz").json())

    def metrics(self) -> Metrics:
        text = self.control.get(f"{self.url}/metrics").text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def runs(self) -> int:
        return int(sum(v for (name, _), v in self.metrics().items() if name == "hrsync_runs_total"))

    def stats(self) -> dict[str, Any]:
        return dict(self.control.get(f"{self.base}/_emulator/stats").json())

    def api_calls(self, since: int = 0) -> tuple[list[list[Any]], int]:
        """The emulator's API calls from the ``since``-th on, and the next one's number."""
        found = self.control.get(f"{self.base}/_bench/calls", params={"since": since}).json()
        return found["calls"], int(found["next"])

    def cliq_users(self) -> list[dict[str, Any]]:
        return list(self.control.get(f"{self.base}/_emulator/state").json()["users"])

    def events(self) -> list[EventRecord]:
        """Every HR event the store keeps, oldest first."""
        store = Store(f"sqlite:///{self.folder / 'hrsync.db'}", clock=RealClock(),
                      integration=INTEGRATION)  # fmt: skip
        try:
            return list(reversed(store.events(limit=10_000_000)))
        finally:
            store.close()

    def status(self, name: str, field: str) -> float:
        """A ``/proc/<pid>/status`` figure of a process, in MB (VmHWM: its peak memory)."""
        pid = self.processes[name].pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
        raise RuntimeError(f"no {field} in /proc/{pid}/status")

    def cpu_seconds(self, name: str) -> float:
        """A process's CPU so far (user + system)."""
        stat = Path(f"/proc/{self.processes[name].pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, from field 3 on
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The bench's emulator (see the docstring).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--offset", type=float, default=0.0)
    options = parser.parse_args()
    serve_emulator(options.port, options.offset)
