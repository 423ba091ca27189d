"""The load's sender of HR events: webhook calls each sent when it is due, unless
``IN_FLIGHT`` are unanswered (then as soon as one is answered), over keep-alive HTTP/1.1
connections written and read on asyncio streams. A call costs the client a tenth of a
millisecond or so, where an httpx client's pool of 256 connections cost it more CPU than the
service it measured: the client must not be what the figures show."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hrsync.service.hooks import signature

IN_FLIGHT = 256  # webhook calls sent and not yet answered, at most: one connection each
TIMEOUT = 60.0  # seconds a call may take to be answered; then it has no answer (status 0)


@dataclass
class Call:
    """One webhook call of the load: whom it names, how it is sent, and what came of it."""

    kind: str  # known | changed | unknown | bad_secret | bad_signature
    employee_id: str
    signed: bool
    secret: str
    status: int = 0  # 0: no answer
    due: float = 0.0  # the wall clock it was due at: the sender's own moment
    sent: float = 0.0  # when it went out: later than due while IN_FLIGHT calls were
    answered: float = 0.0
    events: list[int] = field(default_factory=list)  # the ids of the events a 202 named

    def request(self, host: str, path: str) -> bytes:
        """The HTTP request, signed now when it is signed (with a wrong key for a
        ``bad_signature``); a ``bad_secret`` carries a wrong secret."""
        body = json.dumps({"employee_ids": [self.employee_id]}).encode()
        wrong = "not the secret"
        if self.signed:
            stamp = f"{time.time():.6f}"
            key = wrong if self.kind == "bad_signature" else self.secret
            proof = f"X-Hrsync-Timestamp: {stamp}\r\nX-Hrsync-Signature: "
            proof += signature(key, stamp, body)
        else:
            proof = f"X-Hrsync-Secret: {wrong if self.kind == 'bad_secret' else self.secret}"
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{proof}\r\n\r\n"
        )
        return head.encode() + body


class Connection:
    """One keep-alive connection to the service, opened when first needed and again after
    the service closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; its status and body. A connection the service closed while idle
        (its keep-alive ended) is opened again and the request sent on the new one."""
        reused = self.streams is not None
        try:
            return await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
        return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {n.strip().lower(): v.strip() for n, _, v in (x.partition(":") for x in lines)}
        body = await reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return int(lines[0].split()[1]), body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _send(calls: asyncio.Queue[Call | None], host: str, port: int, path: str) -> None:
    connection = Connection(host, port)
    while (call := await calls.get()) is not None:
        call.sent = time.time()
        try:
            status, body = await asyncio.wait_for(
                connection.exchange(call.request(f"{host}:{port}", path)), TIMEOUT
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            connection.close()
            continue
        call.answered, call.status = time.time(), status
        if status == 202:
            call.events = [int(e["id"]) for e in json.loads(body)["events"]]
    connection.close()


async def _send_all(url: str, calls: list[Call], rate: float) -> None:
    where = urlsplit(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    due: asyncio.Queue[Call | None] = asyncio.Queue()
    senders = [asyncio.create_task(_send(due, host, port, where.path)) for _ in range(IN_FLIGHT)]
    start = time.time() + 0.5
    for n, call in enumerate(calls):
        call.due = start + n / rate
        await asyncio.sleep(max(0.0, call.due - time.time()))
        due.put_nowait(call)
    for _ in senders:
        due.put_nowait(None)
    await asyncio.gather(*senders)


def send_all(url: str, calls: list[Call], rate: float) -> None:
    """Send ``calls`` to ``url``, ``rate`` a second from half a second on; each call says when
    it was due, sent and answered, and what the answer was."""
    asyncio.run(_send_all(url, calls, rate))
