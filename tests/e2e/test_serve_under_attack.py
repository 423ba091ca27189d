"""``hrsync serve`` attacked as an outsider would, over real HTTP on loopback: sign-in guesses
sent all at once, sign-ins and sign-outs racing, a huge webhook body, and TLS. On SQLite and on
a real PostgreSQL server where the store is involved. Nothing here is timed: where time plays
a part (the backoff's waits), the bound is worked out from the time the attack really took."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hrsync.access import admin
from hrsync.access.vault import Vault
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.service.hooks import set_secret
from hrsync.store import Store
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e
PASSPHRASE = "correct horse battery staple"
SECRET = "a webhook secret of thirty-two chars"
SIGNIN_COOKIE, SESSION_COOKIE = "hrsync_signin", "hrsync_session"
KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class Served:
    url: str
    store_url: str
    process: subprocess.Popen[bytes]


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'hrsync.db'}"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``hrsync serve`` on a store whose admin passphrase is set; killed after."""
    started: list[subprocess.Popen[bytes]] = []

    def run(store_url: str, *extra: str, scheme: str = "http", verify: object = True) -> Served:
        (tmp_path / "hrsync.toml").write_text(f'[store]\nurl = "{store_url}"\n', encoding="utf-8")
        store = Store(store_url, clock=RealClock())
        admin.set_passphrase(store, PASSPHRASE)
        store.close()
        port = free_port()
        with (tmp_path / f"serve-{port}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "hrsync", "serve", "--port", str(port), *extra],
                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started.append(process)
        url = f"{scheme}://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1, verify=verify).status_code == 200:  # type: ignore[arg-type]
                    return Served(url, store_url, process)
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hrsync serve never answered /healthz"
            time.sleep(0.1)

    yield run
    for process in started:
        process.kill()
        process.wait()


class Browser:
    """One visitor of the sign-in page: its form's token and cookie, then its session. Its
    cookies are kept by hand: they are Secure, and this is plain HTTP on loopback (a browser
    sends them to 127.0.0.1 all the same)."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=120)
        self.cookies: dict[str, str] = {}
        form = self.get("/signin")
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found, form.text
        self.token = found.group(1)

    def _kept(self, answer: httpx.Response) -> httpx.Response:
        for line in answer.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";")[0].strip('"')
            if "max-age=0" in line.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    def _header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def get(self, path: str) -> httpx.Response:
        return self._kept(self.client.get(path, headers=self._header()))

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return self._kept(self.client.post(path, data=form, headers=self._header()))

    def sign_in(self, passphrase: str) -> httpx.Response:
        return self.post("/signin", {"passphrase": passphrase, "csrf": self.token})

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def browsers() -> Iterator[Callable[[str, int], list[Browser]]]:
    made: list[Browser] = []

    def open_(url: str, count: int) -> list[Browser]:
        made.extend(Browser(url) for _ in range(count))
        return made[-count:]

    yield open_
    for browser in made:
        browser.close()


def all_at_once(count: int, work: Callable[[int], None]) -> float:
    """Run ``work(0)`` … ``work(count - 1)`` in threads released together; the seconds taken."""
    gate = threading.Barrier(count + 1)
    failures: list[BaseException] = []

    def each(n: int) -> None:
        gate.wait()
        try:
            work(n)
        except BaseException as problem:  # reported by the test's thread below
            failures.append(problem)

    threads = [threading.Thread(target=each, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    gate.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    assert failures == []
    return time.monotonic() - began


def compared_at_most(seconds: float) -> int:
    """How many wrong passphrases one after the other can have compared in ``seconds``: two
    at once (a typo costs nothing), then one more each time the doubling wait (1 s, 2 s, …)
    has passed: 1 + 2 + … + 2^(k-1) = 2^k - 1 seconds for k more."""
    return 2 + math.floor(math.log2(seconds + 1))


def test_forty_parallel_guesses_cost_as_much_as_forty_in_a_row(
    start: Callable[..., Served], store_url: str, browsers: Callable[[str, int], list[Browser]]
) -> None:
    served = start(store_url)
    guessing = browsers(served.url, 40)
    said: list[str] = []

    def guess(n: int) -> None:
        answer = guessing[n].sign_in(f"guess number {n}")
        assert answer.status_code == 401, answer.text
        said.append(answer.text)

    took = all_at_once(40, guess)
    compared = sum("that is not the admin passphrase" in text for text in said)
    waited = sum("wrong admin passphrases in a row: try again in" in text for text in said)
    assert compared + waited == 40
    assert 2 <= compared <= compared_at_most(took), (compared, took)  # before: 18 to 40
    store = Store(served.store_url, clock=RealClock())
    try:
        assert admin.wrong_in_a_row(store, "web") == compared  # before: one or two
        assert admin.wrong_in_a_row(store, "cli") == 0  # the command line's own count
    finally:
        store.close()


def test_parallel_sign_ins_and_sign_outs_each_keep_their_own_session(
    start: Callable[..., Served], store_url: str, browsers: Callable[[str, int], list[Browser]]
) -> None:
    served = start(store_url)
    previous: list[Browser] = []
    ended: list[str] = []
    for _ in range(3):
        arriving = browsers(served.url, 12)
        leaving = previous[:4]
        tokens = [_csrf(b.get("/runs").text) for b in leaving]
        signed: list[httpx.Response] = []
        ended += [b.cookies[SESSION_COOKIE] for b in leaving]
        all_at_once(len(arriving) + len(leaving), _in_or_out(arriving, leaving, tokens, signed))
        assert [a.status_code for a in signed] == [303] * 12, [a.text for a in signed]
        previous = arriving
        for browser in arriving:  # each sign-in has a session that works (before: 2 of 12 lost)
            assert browser.get("/runs").status_code == 200
    for cookie in ended:  # and each one signed out is over, its cookie replayed or not
        replayed = httpx.get(f"{served.url}/runs", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        assert replayed.status_code == 303 and replayed.headers["location"] == "/signin"


def _in_or_out(
    arriving: list[Browser], leaving: list[Browser], tokens: list[str], signed: list[httpx.Response]
) -> Callable[[int], None]:
    """The n-th of a crowd: the first ones sign in, the others sign out."""

    def one(n: int) -> None:
        if n < len(arriving):
            signed.append(arriving[n].sign_in(PASSPHRASE))
            return
        n -= len(arriving)
        out = leaving[n].post("/signout", {"csrf": tokens[n]})
        assert out.status_code == 303, out.text

    return one


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _peak_and_now(pid: int) -> tuple[int, int]:
    """The process's peak and current resident memory, in kB."""
    found = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(found["VmHWM"].split()[0]), int(found["VmRSS"].split()[0])


def _raw_post(url: str, headers: str, body: Iterator[bytes]) -> tuple[str, int]:
    """POST over a bare socket, sending ``body`` until the service answers; the status line,
    and how many bytes of the body went out before it did."""
    address = httpx.URL(url)
    sent = 0
    with socket.create_connection((address.host, address.port or 80), timeout=60) as sock:
        sock.sendall(f"POST /hooks/people/hr HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        for piece in body:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # the service answered before the body was all sent
                break
            try:
                sock.sendall(piece)
            except OSError:  # it closed the connection: its answer is waiting
                break
            sent += len(piece)
        answer = sock.recv(4096)  # within the socket's 60 s
    return answer.decode(errors="replace").split("\r\n")[0], sent


def test_a_fifty_megabyte_webhook_body_is_refused_before_it_is_read(
    start: Callable[..., Served], tmp_path: Path
) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the service's memory from /proc")
    served = start(f"sqlite:///{tmp_path / 'hrsync.db'}")
    settings = load_settings(tmp_path / "hrsync.toml").store
    set_secret(settings.url, Vault.open(settings.key_file), "hr", SECRET)
    assert httpx.post(f"{served.url}/hooks/people/hr", content=b"{}").status_code == 401
    peak, now = _peak_and_now(served.process.pid)
    status, sent = _raw_post(served.url, "Content-Length: 50000000\r\n", iter(()))
    assert status == "HTTP/1.1 413 Request Entity Too Large" and sent == 0
    chunk = b"%x\r\n%s\r\n" % (1_000_000, b"x" * 1_000_000)
    chunked = "Transfer-Encoding: chunked\r\n"
    status, sent = _raw_post(
        served.url, f"{chunked}X-Hrsync-Secret: {SECRET}\r\n", iter([chunk] * 50)
    )
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert sent < 50 * len(chunk)  # refused once past 1 MB, not after 50
    status, sent = _raw_post(served.url, chunked, iter([chunk] * 50))  # no secret at all
    assert status == "HTTP/1.1 401 Unauthorized" and sent < 50 * len(chunk)
    after, _ = _peak_and_now(served.process.pid)
    assert after - max(peak, now) < 20_000, (peak, now, after)  # kB; before: +96 MB


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hrsync test")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_file, 0o600)
    return cert_file, key_file


def test_serve_speaks_tls_with_the_certificate_it_is_given(
    start: Callable[..., Served], tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    served = start(
        f"sqlite:///{tmp_path / 'hrsync.db'}",
        "--tls-cert", str(cert), "--tls-key", str(key),
        scheme="https", verify=trust,
    )  # fmt: skip
    page = httpx.get(f"{served.url}/signin", verify=trust)
    assert page.status_code == 200 and "Admin passphrase" in page.text
    with pytest.raises(httpx.TransportError):
        httpx.get(served.url.replace("https://", "http://") + "/healthz", timeout=5)
